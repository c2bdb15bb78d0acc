#!/usr/bin/env bash
# The project's virtualenv (.venv), exactly as locked in requirements/dev.txt (every service's
# dependencies, the local stack's and the tools'; hashes of every file, made by `make lock` from
# pyproject.toml). uv is installed first by its own hashes (requirements/uv.txt), then syncs the
# virtualenv to the lock: missing packages installed, others removed, each download checked
# against its hash. Re-installs only when the lock or pyproject.toml changed.
# A fresh .venv on the 2-core machine (load average 5-9 from other work), measured
# 2026-11-30: 54 s with nearly empty package caches and 33 s with warm ones, against 132 s and 151 s
# for the `pip install -e '.[stack,dev]'` this replaced.
set -euo pipefail
cd "$(dirname "$0")/../.."

python=${PYTHON:-python3}
[[ -x .venv/bin/python ]] || "$python" -m venv .venv
stamp=.venv/.afirgen-installed
want=$(cat pyproject.toml requirements/uv.txt requirements/dev.txt | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes --no-deps -r requirements/uv.txt
  .venv/bin/uv pip sync -q --python .venv/bin/python --require-hashes requirements/dev.txt
  # The project itself (libs, gen/python, the services) as an editable install: no download,
  # built by the locked setuptools already in the virtualenv.
  .venv/bin/uv pip install -q --python .venv/bin/python --no-deps --no-build-isolation -e .
  echo "$want" > "$stamp"
fi

# One virtualenv per service image in .venvs/<service>, exactly its lock and byte-compiled (the
# stack exports PYTHONDONTWRITEBYTECODE, as the images do): the local stack runs each service with
# the packages of its image and no others (scripts/devstack/config.py). Every package is already in
# uv's cache from the .venv sync above: no download (under a second per service, measured).
for service in fir inference cache jobs; do
  venv=.venvs/$service
  stamp=$venv/.afirgen-installed
  want=$(cat requirements/uv.txt "requirements/$service.txt" | sha256sum | cut -d' ' -f1)
  if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    [[ -x $venv/bin/python ]] || .venv/bin/uv venv -q --python .venv/bin/python "$venv"
    .venv/bin/uv pip sync -q --python "$venv/bin/python" --require-hashes --compile-bytecode "requirements/$service.txt"
    echo "$want" > "$stamp"
  fi
done
