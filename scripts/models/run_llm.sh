#!/usr/bin/env bash
# Run llama.cpp's llama-server in the FOREGROUND (exec: signals such as
# supervisord's SIGTERM go straight to llama-server).
#
#   scripts/models/run_llm.sh [--host H] [--port P] [--model GGUF] [extra llama-server args...]
#
# Env defaults: AFIRGEN_LLM_HOST=127.0.0.1 AFIRGEN_LLM_PORT=8090
#   AFIRGEN_LLM_MODEL=<GGUF path> or AFIRGEN_LLM_MODEL_KEY=<locate.py key> (default smollm2_gguf)
#   AFIRGEN_LLM_ALIAS=smollm2
#   AFIRGEN_LLM_CTX=4096 AFIRGEN_LLM_THREADS=1 AFIRGEN_LLM_PARALLEL=1
#   (1 thread: on a busy 2-core host, 2 threads were 10-20x slower, see README)
#   AFIRGEN_LLM_CHAT_TEMPLATE= name of a llama.cpp built-in template (e.g. "gemma"
#     for the Gemma 3 270M base model, which has none); adds --no-jinja, since
#     with jinja on (the default) the value is taken as a literal jinja template.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

host=${AFIRGEN_LLM_HOST:-127.0.0.1}
port=${AFIRGEN_LLM_PORT:-8090}
model=${AFIRGEN_LLM_MODEL:-}
extra=()
while (($#)); do
  case $1 in
    --host) host=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --model|-m) model=$2; shift 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done

bin=$(python3 "$here/locate.py" llama_server) || { echo "run scripts/install/models.sh first" >&2; exit 1; }
if [[ -z "$model" ]]; then
  model=$(python3 "$here/locate.py" "${AFIRGEN_LLM_MODEL_KEY:-smollm2_gguf}") || { echo "run scripts/install/models.sh first" >&2; exit 1; }
fi
args=(--model "$model" --host "$host" --port "$port"
      --alias "${AFIRGEN_LLM_ALIAS:-smollm2}"
      --ctx-size "${AFIRGEN_LLM_CTX:-4096}"
      --threads "${AFIRGEN_LLM_THREADS:-1}"
      --parallel "${AFIRGEN_LLM_PARALLEL:-1}"
      --no-ui)
if [[ -n "${AFIRGEN_LLM_CHAT_TEMPLATE:-}" ]]; then
  args+=(--no-jinja --chat-template "$AFIRGEN_LLM_CHAT_TEMPLATE")
fi
exec "$bin" "${args[@]}" "${extra[@]}"
