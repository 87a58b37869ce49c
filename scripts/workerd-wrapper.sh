#!/bin/sh
# workerd with our development Pyodide bundle directory (used via MINIFLARE_WORKERD_PATH).
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
exec "$ROOT/node_modules/@cloudflare/workerd-linux-64/bin/workerd" "$@" \
  --pyodide-bundle-disk-cache-dir="${PYODIDE_BUNDLE_DIR:-$ROOT/.pyodide-bundle}"
