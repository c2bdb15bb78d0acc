#!/usr/bin/env python3
"""Small OpenAI-style speech-to-text server using the faster-whisper library.

An alternative to faster-whisper-server (the default, see run_asr.sh) for two
of its limits: its /health blocks while a transcription runs (the handler is
``async`` but transcribes synchronously on the event loop) and a non-audio
upload gives a bare HTTP 500.  Here /health answers from its own thread, the
model is loaded before the port opens, transcriptions go through a bounded
semaphore, and bad input gets HTTP 400 with an OpenAI-style JSON error.

Endpoints
---------
GET  /health                   -> {"status": "ok", "model": ..., ...}
GET  /v1/models                -> OpenAI-style model list
POST /v1/audio/transcriptions  multipart/form-data: file (required), model,
                               language, prompt, temperature,
                               response_format = json | text | verbose_json
                               -> {"text": "..."}

Needs the models venv (faster-whisper); never contacts a model hub (the model
is a local directory and local_files_only=True).

  .venv-models/bin/python scripts/models/asr_server.py --port 8091 \
      --model-dir "$(python3 scripts/models/locate.py whisper_model_dir)"
"""

from __future__ import annotations

import os

# never reach a model hub, whatever the caller's environment says
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import io
import logging
import sys
import time
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import SplitResult

from model_http import BadRequest, JsonHandler, Slots, configure_logging, serve, server_options

LOG = logging.getLogger("asr_server")


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """Split a multipart/form-data body into (fields, files) with the stdlib."""
    if not content_type.lower().startswith("multipart/form-data") or "boundary=" not in content_type:
        raise BadRequest("Content-Type must be multipart/form-data with a boundary")
    msg = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body
    )
    if not msg.is_multipart():
        raise BadRequest("malformed multipart body")
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = (filename, payload)
        else:
            fields[name] = payload.decode(part.get_content_charset() or "utf-8", "replace")
    return fields, files


class Engine:
    def __init__(
        self,
        model_dir: str,
        compute_type: str,
        threads: int,
        beam_size: int,
        slots: Slots,
        default_language: str | None,
    ) -> None:
        from faster_whisper import WhisperModel

        self.model_dir = model_dir
        self.beam_size = beam_size
        self.default_language = default_language
        self.slots = slots
        started = time.perf_counter()
        self.model = WhisperModel(
            model_dir,
            device="cpu",
            compute_type=compute_type,
            cpu_threads=threads,
            num_workers=slots.workers,
            local_files_only=True,
        )
        self.load_ms = round((time.perf_counter() - started) * 1000.0, 1)
        self.multilingual = bool(getattr(self.model.model, "is_multilingual", False))

    def transcribe(
        self, audio_bytes: bytes, language: str | None, prompt: str | None, temperature: float | None
    ) -> tuple[list, object, float]:
        from faster_whisper import decode_audio

        try:
            audio = decode_audio(io.BytesIO(audio_bytes))
        except Exception as exc:  # PyAV raises several error types for junk input
            raise BadRequest(f"could not decode audio: {exc.__class__.__name__}: {exc}") from exc
        if audio.size == 0:
            raise BadRequest("audio contains no samples")
        with self.slots.held():
            options = {"beam_size": self.beam_size, "initial_prompt": prompt or None}
            lang = language or self.default_language
            if lang:
                options["language"] = lang
            if temperature is not None:
                options["temperature"] = temperature
            segments, info = self.model.transcribe(audio, **options)
            segments = list(segments)
        return segments, info, audio.size / 16000.0


class Handler(JsonHandler):
    server_version = "afirgen-asr/1.0"
    log = LOG
    post_route = "/v1/audio/transcriptions"

    # Set on the class by main().
    engine: Engine
    model_name: str
    max_bytes: int

    def health(self) -> dict:
        return {
            "model": self.model_name,
            "model_dir": self.engine.model_dir,
            "multilingual": self.engine.multilingual,
            "load_ms": self.engine.load_ms,
            "workers": self.engine.slots.workers,
        }

    def get(self, path: str) -> dict | None:
        if path != "/v1/models":
            return None
        return {"object": "list", "data": [{"id": self.model_name, "object": "model", "owned_by": "afirgen"}]}

    def post(self, url: SplitResult) -> dict | str:
        started = time.perf_counter()
        body = self.read_body(
            self.max_bytes,
            f"body of {{length}} bytes exceeds the limit of {self.max_bytes}",
            "empty body: send multipart/form-data with a file field",
        )
        fields, files = parse_multipart(self.headers.get("Content-Type", ""), body)
        if "file" not in files or not files["file"][1]:
            raise BadRequest("missing or empty 'file' field")
        fmt = (fields.get("response_format") or "json").strip()
        if fmt not in ("json", "text", "verbose_json"):
            raise BadRequest(f"unsupported response_format {fmt!r} (json, text, verbose_json)")
        language = (fields.get("language") or "").strip() or None
        if language and not self.engine.multilingual and language != "en":
            raise BadRequest(f"model is English-only; language {language!r} not supported")
        temperature = None
        if fields.get("temperature"):
            try:
                temperature = float(fields["temperature"])
            except ValueError as exc:
                raise BadRequest("temperature must be a number") from exc
        segments, info, seconds = self.engine.transcribe(files["file"][1], language, fields.get("prompt"), temperature)
        text = "".join(s.text for s in segments)
        ms = round((time.perf_counter() - started) * 1000.0, 1)
        LOG.info("transcribed %.2fs of audio in %.0f ms", seconds, ms)
        if fmt == "text":
            return text
        if fmt == "json":
            return {"text": text}
        return {
            "task": "transcribe",
            "language": info.language,
            "duration": info.duration,
            "text": text,
            "duration_ms": ms,
            "segments": [
                {
                    "id": i,
                    "start": s.start,
                    "end": s.end,
                    "text": s.text,
                    "avg_logprob": s.avg_logprob,
                    "no_speech_prob": s.no_speech_prob,
                    "compression_ratio": s.compression_ratio,
                    "temperature": s.temperature,
                }
                for i, s in enumerate(segments)
            ],
        }


def main(argv: list[str] | None = None) -> int:
    parser, option = server_options(
        "OpenAI-style Whisper transcription server", "ASR", port=8091, workers=1, queue_timeout=120, max_bytes=25 << 20
    )
    option(
        "--model-dir",
        required=True,
        help="CTranslate2 Whisper model directory (model.bin, config.json, tokenizer.json)",
    )
    option("--model-name", "whisper-1")
    option("--compute-type", "int8")
    option("--threads", "2", type=int)
    option("--beam-size", "5", type=int)
    option("--language", help="default language, e.g. en")
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    if not os.path.isfile(os.path.join(args.model_dir, "model.bin")):
        LOG.error("no model.bin in %s; run scripts/install/models.sh", args.model_dir)
        return 2

    slots = Slots(args.workers, args.queue_timeout, "transcription")
    engine = Engine(args.model_dir, args.compute_type, args.threads, args.beam_size, slots, args.language)
    started = (
        f"ASR server on http://{args.host}:{args.port} (model {args.model_dir} loaded in {engine.load_ms:.0f} ms,"
        f" {args.compute_type}, {args.threads} threads)"
    )
    handler = Handler.bind(engine=engine, model_name=args.model_name, max_bytes=args.max_bytes)
    return serve(args.host, args.port, handler, LOG, started)


if __name__ == "__main__":
    code = main()
    # Skip interpreter teardown: destroying the CTranslate2 model during
    # finalisation can segfault, which would turn a clean stop into exit 139.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
