#!/usr/bin/env bash
# Developer tools at pinned versions: buf (npm), ghz, grpcurl, grpc-health-probe and
# protoc-gen-openapiv2 (Go; scripts/codegen.py runs it), installed into node_modules/
# and .tools/bin/.
# promtool comes with Debian's prometheus package (scripts/install/system.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ ! -x node_modules/.bin/buf ]]; then
  npm ci --no-audit --no-fund --silent 2>/dev/null || npm install --no-audit --no-fund --silent
fi

export GOBIN=$PWD/.tools/bin GOFLAGS=-mod=mod
mkdir -p "$GOBIN"
declare -A go_tools=(
  [ghz]=github.com/bojand/ghz/cmd/ghz@v0.120.0
  [grpcurl]=github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.3
  [grpc-health-probe]=github.com/grpc-ecosystem/grpc-health-probe@v0.4.62
  [protoc-gen-openapiv2]=github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2@v2.33.0
)
for bin in "${!go_tools[@]}"; do
  [[ -x $GOBIN/$bin ]] || { echo "go install ${go_tools[$bin]}"; go install "${go_tools[$bin]}"; }
done
