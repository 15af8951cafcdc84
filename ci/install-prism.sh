#!/usr/bin/env bash
# Install Stoplight Prism (the OpenAPI mock/validation server used by tests/test_intercom_contract.py) outside the
# repository, into ~/.cache/support-autopilot/prism (override with PRISM_PREFIX). Idempotent: a second run with the
# pinned version already installed does nothing. Needs Node >= 18 and npm (Prism 5.x runs on Node 20).
set -euo pipefail

PRISM_VERSION="${PRISM_VERSION:-5.14.2}"
PREFIX="${PRISM_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/support-autopilot/prism}"
BIN="$PREFIX/node_modules/.bin/prism"

if ! command -v npm >/dev/null 2>&1; then
    echo "install-prism: npm is required (apt-get install nodejs npm)" >&2
    exit 1
fi

installed="$(node -p "require('$PREFIX/node_modules/@stoplight/prism-cli/package.json').version" 2>/dev/null || true)"
if [ -x "$BIN" ] && [ "$installed" = "$PRISM_VERSION" ]; then
    echo "prism $PRISM_VERSION already installed at $BIN"
    exit 0
fi

mkdir -p "$PREFIX"
npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error "@stoplight/prism-cli@$PRISM_VERSION"
"$BIN" --version >/dev/null
echo "prism $PRISM_VERSION installed at $BIN"
