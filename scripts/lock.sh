#!/usr/bin/env bash
# requirements/*.txt: the hash-locked closure of pyproject.toml's dependencies, one file per
# service image (Debian 12, glibc 2.36, as the python:3.11-slim-bookworm images; extras fir, inference, cache, jobs) and requirements/dev.txt for the local
# virtualenv (every extra). Run after any change to a pin in pyproject.toml (`make lock`);
# tests/contracts/test_locks.py fails while a lock disagrees with pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

uv=${UV:-.venv/bin/uv}
compile() {  # compile OUTPUT EXTRA...
  local out=$1 args=()
  shift
  for extra in "$@"; do args+=(--extra "$extra"); done
  "$uv" pip compile pyproject.toml "${args[@]}" --generate-hashes --python-version 3.11 \
    --python-platform x86_64-manylinux_2_36 --no-strip-extras --quiet \
    --custom-compile-command 'make lock' --output-file "$out"
}
for service in fir inference cache jobs; do
  compile "requirements/$service.txt" "$service"
done
compile requirements/dev.txt fir inference cache jobs stack dev
# uv itself, for scripts/install/python.sh to install by hash before uv installs the rest.
uv_pin=$(grep -o '"uv==[^"]*"' pyproject.toml | tr -d '"')
echo "$uv_pin" | "$uv" pip compile - --generate-hashes --python-version 3.11 \
  --python-platform x86_64-manylinux_2_36 --quiet --no-annotate \
  --custom-compile-command 'make lock' --output-file requirements/uv.txt
