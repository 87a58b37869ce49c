#!/usr/bin/env bash
# Set everything up (idempotent) and serve the API locally, offline, with the Workers AI stand-in:
# http://127.0.0.1:${PORT:-8787}/v1, API key sk-local-dev. State (D1, R2, queue, the Vectorize
# stand-in's index) lives in .wrangler/state.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
wrangler d1 migrations apply DB --local --env local >/dev/null  # migrations/: pending ones only
PORT="${PORT:-8787}"
echo "workers-openai: serving http://127.0.0.1:$PORT/v1 (local stand-in model)"
echo "workers-openai: API key for local use: sk-local-dev"
exec wrangler dev -c wrangler.toml -c ai-standin/wrangler.toml -c vectorize-standin/wrangler.toml \
  --env local --ip 127.0.0.1 --port "$PORT" --show-interactive-dev-session=false
