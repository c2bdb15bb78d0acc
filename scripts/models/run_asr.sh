#!/usr/bin/env bash
# Run faster-whisper-server (OpenAI-style POST /v1/audio/transcriptions) in the
# FOREGROUND with the bundled Whisper tiny.en model; never contacts a model hub.
#
#   scripts/models/run_asr.sh [--host H] [--port P]
#
# Env defaults: AFIRGEN_ASR_HOST=127.0.0.1 AFIRGEN_ASR_PORT=8091
#   AFIRGEN_ASR_MODEL_DIR=<tiny.en dir from locate.py> AFIRGEN_ASR_THREADS=2
#   AFIRGEN_ASR_COMPUTE_TYPE=int8 AFIRGEN_ASR_BEAM_SIZE=5
#   AFIRGEN_ASR_CONFIG=${AFIRGEN_CACHE:-~/.cache/afirgen}/faster-whisper-server-PORT.yaml (written here)
#   AFIRGEN_ASR_SERVER=faster-whisper-server (default) | builtin
#     builtin = scripts/models/asr_server.py (same endpoint; /health stays
#     responsive during a transcription, bad audio -> 400, eager model load)
# The served model name is "whisper-1" (the server's default form value).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

host=${AFIRGEN_ASR_HOST:-127.0.0.1}
port=${AFIRGEN_ASR_PORT:-8091}
while (($#)); do
  case $1 in
    --host) host=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

python=$(python3 "$here/locate.py" models_python) || { echo "run scripts/install/models.sh first" >&2; exit 1; }
model_dir=${AFIRGEN_ASR_MODEL_DIR:-$(python3 "$here/locate.py" whisper_model_dir)} \
  || { echo "run scripts/install/models.sh first" >&2; exit 1; }
# no hub access at run time
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1

if [[ "${AFIRGEN_ASR_SERVER:-faster-whisper-server}" == builtin ]]; then
  exec "$python" "$here/asr_server.py" --host "$host" --port "$port" --model-dir "$model_dir" \
    --compute-type "${AFIRGEN_ASR_COMPUTE_TYPE:-int8}" --threads "${AFIRGEN_ASR_THREADS:-2}" \
    --beam-size "${AFIRGEN_ASR_BEAM_SIZE:-5}"
fi

cache=${AFIRGEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/afirgen}
config=${AFIRGEN_ASR_CONFIG:-$cache/faster-whisper-server-$port.yaml}
mkdir -p "$(dirname "$config")"
cat > "$config.tmp.$$" <<YAML
# written by scripts/models/run_asr.sh
batch_size: 1
models:
  - name: whisper-1
    path: "$model_dir"
    model_options:
      device: cpu
      compute_type: ${AFIRGEN_ASR_COMPUTE_TYPE:-int8}
      cpu_threads: ${AFIRGEN_ASR_THREADS:-2}
      local_files_only: true
    transcribe_options:
      beam_size: ${AFIRGEN_ASR_BEAM_SIZE:-5}
    translate_options:
      beam_size: ${AFIRGEN_ASR_BEAM_SIZE:-5}
YAML
mv "$config.tmp.$$" "$config"

exec "$python" -m faster_whisper_server --config "$config" --host "$host" --port "$port" \
  --log-level "${AFIRGEN_ASR_LOG_LEVEL:-info}"
