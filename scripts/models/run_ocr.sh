#!/usr/bin/env bash
# Run the Tesseract OCR HTTP server in the FOREGROUND (stdlib python only).
#
#   scripts/models/run_ocr.sh [--host H] [--port P] [other ocr_server.py args]
#
# Env defaults (read by ocr_server.py): AFIRGEN_OCR_HOST=127.0.0.1
#   AFIRGEN_OCR_PORT=8092 AFIRGEN_OCR_WORKERS=2 AFIRGEN_OCR_MAX_BYTES=10485760
#   AFIRGEN_OCR_TIMEOUT=60 AFIRGEN_OCR_QUEUE_TIMEOUT=30 AFIRGEN_OCR_LANGUAGES=eng
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec python3 "$here/ocr_server.py" "$@"
