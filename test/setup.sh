#!/usr/bin/env bash
# Installs what the test suite needs beyond npm packages, when it is missing:
# the interop tools (test/interop/setup.sh),
# redis-server and chromium (Debian packages; chromium runs the browser tests headless). Safe to run again; does nothing when all is present.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v redis-server >/dev/null 2>&1; then
  echo "test/setup.sh: installing redis-server"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y -q redis-server >/dev/null 2>&1 || {
    as_root apt-get update -q >/dev/null
    as_root apt-get install -y -q redis-server >/dev/null
  }
fi
# The Debian package may start a system-wide instance on 6379; the tests never use it.
redis-server --version

if ! command -v chromium >/dev/null 2>&1; then
  echo "test/setup.sh: installing chromium"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y -q chromium >/dev/null 2>&1 || {
    as_root apt-get update -q >/dev/null
    as_root apt-get install -y -q chromium >/dev/null
  }
fi
chromium --version

# The interop tests' pinned tools: a Python venv (grpcio), grpcurl, ghz and the Go code generators.
bash test/interop/setup.sh
