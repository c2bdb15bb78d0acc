#!/usr/bin/env bash
# The project's virtualenv (.venv) with every Python dependency pinned in
# pyproject.toml: the services', the local stack's (extra `stack`) and the
# tools' (extra `dev`). Re-installs only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/../.."

python=${PYTHON:-python3}
[[ -x .venv/bin/python ]] || "$python" -m venv .venv
stamp=.venv/.afirgen-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[stack,dev]'
  echo "$want" > "$stamp"
fi
