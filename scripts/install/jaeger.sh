#!/usr/bin/env bash
# Jaeger all-in-one (OTLP collector, in-memory trace storage and query API in one process),
# the trace store of `make observe` (scripts/devstack/observe.py), at a pinned version.
# Built once from the Go module proxy into the build cache (like llama-server in
# models.sh); a second run finds it there and takes a second. Prints the binary's path.
# Not part of `make install`: only `make observe` and its test need it.
#
# Environment (optional):
#   AFIRGEN_CACHE  build cache (default: ${XDG_CACHE_HOME:-$HOME/.cache}/afirgen)
set -euo pipefail

JAEGER_VERSION=v1.76.0
JAEGER_PACKAGE=github.com/jaegertracing/jaeger/cmd/all-in-one
AFIRGEN_CACHE=${AFIRGEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/afirgen}
dir=$AFIRGEN_CACHE/jaeger/$JAEGER_VERSION
bin=$dir/jaeger-all-in-one

# The build stamps the module version into the binary: a binary of another version is rebuilt.
if [[ -x $bin ]] && go version -m "$bin" 2>/dev/null \
  | grep -qE "^[[:space:]]+(mod|dep)[[:space:]]+github.com/jaegertracing/jaeger[[:space:]]+$JAEGER_VERSION([[:space:]]|$)"; then
  echo "$bin"
  exit 0
fi

mkdir -p "$dir"
tmp=$(mktemp -d "$dir/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
started=$(date +%s)
echo "jaeger: building $JAEGER_PACKAGE@$JAEGER_VERSION (several minutes on two cores)" >&2
# `go install pkg@version` refuses a module whose go.mod has replace directives, as Jaeger's
# has: the package is built as a tool of a throwaway module that repeats that replacement.
cd "$tmp"
go mod init afirgen.local/jaeger-build >&2
go mod edit -replace github.com/Shopify/sarama=github.com/Shopify/sarama@v1.33.0
GOFLAGS=-mod=mod go get -tool "$JAEGER_PACKAGE@$JAEGER_VERSION" >&2
GOFLAGS=-mod=mod go build -trimpath -ldflags="-s -w" -o "$tmp/jaeger-all-in-one" "$JAEGER_PACKAGE"
mv "$tmp/jaeger-all-in-one" "$bin"
echo "jaeger: built in $(($(date +%s) - started))s" >&2
echo "$bin"
