#!/usr/bin/env bash
# Provisions the interop tests' tools into a cache directory, at pinned
# versions; safe to run again (what is present is kept):
#   - a Python venv with test/interop/python/requirements.txt
#   - grpcurl and ghz (go install at the versions below)
#   - protoc-gen-go and protoc-gen-go-grpc at the versions test/interop/go/go.mod pins
# A language toolchain that is absent (no python3, no go) is reported and
# skipped; the tests then skip with that reason.
#
# Cache: $TRADINGCORE_TOOLS_DIR, default ${XDG_CACHE_HOME:-$HOME/.cache}/tradingcore-tools.
# Usage: test/interop/setup.sh [python] [go]   (both when no argument)
set -euo pipefail
cd "$(dirname "$0")"

GRPCURL_VERSION=v1.9.3
GHZ_VERSION=v0.120.0

TOOLS="${TRADINGCORE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tradingcore-tools}"
mkdir -p "$TOOLS/bin"
parts=("$@")
want() { [ ${#parts[@]} -eq 0 ] && return 0; for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

if want python; then
  if command -v python3 >/dev/null 2>&1; then
    digest=$(sha256sum python/requirements.txt | cut -c1-12)
    venv="$TOOLS/python-$digest"
    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import grpc_tools" >/dev/null 2>&1; then
      echo "interop: creating $venv"
      rm -rf "$venv"
      python3 -m venv "$venv"
      "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r python/requirements.txt
    fi
    ln -sfn "$venv" "$TOOLS/python"
    "$TOOLS/python/bin/python" -c "import grpc, grpc_tools; print('interop: python grpcio', grpc.__version__)"
  else
    echo "interop: python3 not found; the Python client test will skip"
  fi
fi

if want go; then
  if command -v go >/dev/null 2>&1; then
    install() { # name package@version
      local stamp="$TOOLS/bin/.$1-$2"
      if [ ! -x "$TOOLS/bin/$1" ] || [ ! -e "$stamp" ]; then
        echo "interop: go install $3"
        GOBIN="$TOOLS/bin" go install "$3"
        rm -f "$TOOLS/bin/.$1-"*
        touch "$stamp"
      fi
    }
    install grpcurl "$GRPCURL_VERSION" "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION"
    install ghz "$GHZ_VERSION" "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION"
    # The code generators come from the Go client's own module, so their versions are go.mod's.
    (cd go && go build -o "$TOOLS/bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go \
      && go build -o "$TOOLS/bin/protoc-gen-go-grpc" google.golang.org/grpc/cmd/protoc-gen-go-grpc)
    echo "interop: $("$TOOLS/bin/grpcurl" -version 2>&1), ghz $("$TOOLS/bin/ghz" --version 2>&1)"
  else
    echo "interop: go not found; the grpcurl, ghz and Go client tests will skip"
  fi
fi
