#!/usr/bin/env bash
# Set everything up (idempotent) and run the whole test suite: CPython unit tests of the core,
# then integration tests against the real worker under `wrangler dev` with the AI stand-in.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
exec "$VENV/bin/python" -m pytest -q "$@"
