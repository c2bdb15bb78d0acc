#!/usr/bin/env bash
# Everything `make up` and `make test` need, installed once and idempotent.
# Debian packages first (apt holds one lock), then the Python virtualenv, the
# developer tools and the model servers side by side. One progress line per
# step with its elapsed time; a failed step prints its log and fails the run.
set -euo pipefail
cd "$(dirname "$0")/../.."

logs=.run/install
mkdir -p "$logs"
t0=$(date +%s)

step() {  # step NAME COMMAND...: run, log to .run/install/NAME.log, report the time
  local name=$1 started rc=0
  shift
  started=$(date +%s)
  "$@" >"$logs/$name.log" 2>&1 || rc=$?
  if ((rc)); then
    printf '[install] %-8s FAILED after %ds (log %s):\n' "$name" $(($(date +%s) - started)) "$logs/$name.log" >&2
    tail -n 30 "$logs/$name.log" >&2
    return "$rc"
  fi
  printf '[install] %-8s done in %ds\n' "$name" $(($(date +%s) - started))
}

step system bash scripts/install/system.sh
pids=()
step python bash scripts/install/python.sh & pids+=($!)
step tools bash scripts/install/tools.sh & pids+=($!)
AFIRGEN_SKIP_APT=1 step models bash scripts/install/models.sh & pids+=($!)
step deploy bash scripts/install/deploy_tools.sh & pids+=($!)
step identity bash scripts/install/identity.sh & pids+=($!)
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
((failed == 0)) || exit 1
printf '[install] all     done in %ds\n' $(($(date +%s) - t0))
