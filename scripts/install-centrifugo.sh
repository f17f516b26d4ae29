#!/usr/bin/env bash
# Installs the pinned Centrifugo that the end-to-end tests and benchmarks run against, into
# .cache/centrifugo/ (ignored by git; reused when the right version is already there).
# Needs Go (https://go.dev/dl/); `go install` also leaves Centrifugo's source in the Go module
# cache, where the proto compatibility test reads its proxy.proto.
set -euo pipefail
VERSION="${CENTRIFUGO_VERSION:-v6.9.1}"
root="$(cd "$(dirname "$0")/.." && pwd)"
bin_dir="$root/.cache/centrifugo"
bin="$bin_dir/centrifugo"

# `go install` builds report "v0.0.0" (no release ldflags), so the version sits in a file beside it.
if [ -x "$bin" ] && [ "$(cat "$bin_dir/VERSION" 2>/dev/null)" = "$VERSION" ]; then
  module_dir="$(go env GOMODCACHE 2>/dev/null)/github.com/centrifugal/centrifugo/v6@$VERSION"
  if [ -d "$module_dir" ] || ! command -v go >/dev/null 2>&1; then
    echo "centrifugo $VERSION already at $bin"
    exit 0
  fi
fi
if ! command -v go >/dev/null 2>&1; then
  echo "Go is not installed: get it from https://go.dev/dl/ (or apt-get install golang), then run $0 again" >&2
  exit 1
fi
mkdir -p "$bin_dir"
echo "installing centrifugo $VERSION into $bin_dir (go install, a few minutes the first time)"
GOBIN="$bin_dir" go install "github.com/centrifugal/centrifugo/v6@$VERSION"
echo "$VERSION" > "$bin_dir/VERSION"
echo "installed centrifugo $VERSION at $bin"
