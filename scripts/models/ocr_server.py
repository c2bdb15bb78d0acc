#!/usr/bin/env python3
"""Small HTTP OCR server around the Tesseract CLI (stdlib only).

Endpoints
---------
GET  /health   -> {"status": "ok", "tesseract": "5.3.0", "languages": [...], ...}
POST /v1/ocr   -> {"text": "...", "languages": ["eng"], "duration_ms": 123.4}

POST /v1/ocr accepts either
  * a raw image body (PNG, JPEG, TIFF, BMP, GIF, WebP, PNM, JPEG 2000), any
    Content-Type other than application/json; languages may be given in the
    query string: /v1/ocr?languages=eng,hin  (also "eng+hin"); optional &psm=N
  * a JSON body {"image_base64": "...", "languages": ["eng", "hin"], "psm": 3}

Empty, oversized, non-image or otherwise malformed requests get HTTP 400 with
{"error": {"message": ..., "type": "invalid_request_error"}}.  When every
worker slot is busy for longer than --queue-timeout the answer is 503.

Tesseract runs as a subprocess (OMP_THREAD_LIMIT=1) through a bounded
semaphore, so at most --workers OCR jobs run at once.  Only the standard
library is used (and model_http.py beside it), so it runs with any python3 >= 3.8.

Run in the foreground:
  python3 scripts/models/ocr_server.py --host 127.0.0.1 --port 8092
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from model_http import BadRequest, Busy, JsonHandler, configure_logging, serve

LOG = logging.getLogger("ocr_server")
DIE_WITH_PARENT = ["setpriv", "--pdeathsig", "KILL"] if sys.platform == "linux" and shutil.which("setpriv") else []
"""Prefix of a tesseract run: the kernel kills it when the request's thread (so this server) is gone,
instead of leaving it to finish a page for nobody after the server was killed."""

# Magic numbers of the formats Leptonica (Tesseract's image library) reads.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"BM", "bmp"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "jp2"),
    (b"\xff\x4f\xff\x51", "j2k"),
)


def sniff_image(data: bytes) -> str | None:
    """Return the image format name if ``data`` starts like an image."""
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if len(data) > 2 and data[0:1] == b"P" and data[1:2] in b"123456" and data[2:3] in b" \t\r\n":
        return "pnm"
    return None


class TooLarge(BadRequest):
    """Body or image over --max-bytes (also HTTP 400, connection closed)."""


class Tesseract:
    """Runs the tesseract CLI with a bounded number of concurrent jobs."""

    def __init__(
        self, binary: str, workers: int, timeout: float, queue_timeout: float, tessdata_dir: str | None = None
    ) -> None:
        self.binary = binary
        self.timeout = timeout
        self.queue_timeout = queue_timeout
        self.tessdata_dir = tessdata_dir
        self.slots = threading.BoundedSemaphore(workers)
        self.workers = workers
        self.env = dict(os.environ)
        self.env["OMP_THREAD_LIMIT"] = "1"
        if tessdata_dir:
            self.env["TESSDATA_PREFIX"] = tessdata_dir
        self.version = self._version()
        self.languages = self._list_languages()

    def _base_cmd(self) -> list[str]:
        cmd = [self.binary]
        if self.tessdata_dir:
            cmd += ["--tessdata-dir", self.tessdata_dir]
        return cmd

    def _version(self) -> str:
        out = subprocess.run(
            [self.binary, "--version"], capture_output=True, text=True, env=self.env, timeout=30, check=False
        )
        first = (out.stdout or out.stderr).strip().splitlines()
        return first[0].split()[-1] if first else "unknown"

    def _list_languages(self) -> list[str]:
        out = subprocess.run(
            [*self._base_cmd(), "--list-langs"],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=30,
            check=False,
        )
        lines = (out.stdout or "").strip().splitlines()
        return sorted(line.strip() for line in lines[1:] if line.strip() and line.strip() != "osd")

    def ocr(self, image: bytes, languages: list[str], psm: int) -> str:
        if not self.slots.acquire(timeout=self.queue_timeout):
            raise Busy(f"all {self.workers} OCR workers busy for {self.queue_timeout:g}s")
        try:
            cmd = [*DIE_WITH_PARENT, *self._base_cmd(), "stdin", "stdout", "-l", "+".join(languages), "--psm", str(psm)]
            try:
                proc = subprocess.run(
                    cmd, input=image, capture_output=True, env=self.env, timeout=self.timeout, check=False
                )
            except subprocess.TimeoutExpired as exc:
                raise RuntimeError(f"tesseract timed out after {self.timeout:g}s") from exc
        finally:
            self.slots.release()
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip()
            # Leptonica could not decode the bytes although the magic matched.
            if "Error in pix" in err or "Unsupported image type" in err or "image file not found" in err.lower():
                raise BadRequest(f"could not decode image: {err.splitlines()[-1] if err else 'unknown error'}")
            raise RuntimeError(f"tesseract exited with {proc.returncode}: {err[-500:]}")
        return proc.stdout.decode("utf-8", "replace")


class Handler(JsonHandler):
    server_version = "afirgen-ocr/1.0"
    log = LOG

    # Set on the class by main().
    engine: Tesseract
    max_bytes: int
    default_languages: list[str]

    # ---- helpers -------------------------------------------------------
    def _parse_languages(self, value) -> list[str]:
        if value is None or value == "" or value == []:
            langs = list(self.default_languages)
        elif isinstance(value, str):
            langs = [p for p in value.replace("+", ",").split(",") if p.strip()]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            langs = list(value)
        else:
            raise BadRequest('languages must be a list of strings such as ["eng", "hin"]')
        langs = [lang.strip() for lang in langs]
        unknown = [lang for lang in langs if lang not in self.engine.languages]
        if unknown:
            raise BadRequest(f"unsupported language(s) {unknown}; available: {self.engine.languages}")
        # keep order, drop duplicates
        return list(dict.fromkeys(langs))

    @staticmethod
    def _parse_psm(value) -> int:
        if value is None or value == "":
            return 3
        try:
            psm = int(value)
        except (TypeError, ValueError) as exc:
            raise BadRequest("psm must be an integer 0-13") from exc
        if not 0 <= psm <= 13:
            raise BadRequest("psm must be an integer 0-13")
        return psm

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise BadRequest("chunked bodies are not supported; send Content-Length")
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            raise BadRequest("missing Content-Length")
        try:
            length = int(length_header)
        except ValueError as exc:
            raise BadRequest("invalid Content-Length") from exc
        if length <= 0:
            raise BadRequest('empty body: send image bytes or JSON {"image_base64": ...}')
        # base64 in JSON is 4/3 larger than the image it carries
        limit = self.max_bytes * 4 // 3 + 65536
        if length > limit:
            raise TooLarge(f"body of {length} bytes exceeds the limit of {self.max_bytes} image bytes")
        data = self.rfile.read(length)
        if len(data) != length:
            raise BadRequest("body shorter than Content-Length")
        return data

    # ---- routes --------------------------------------------------------
    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path in ("/health", "/healthz"):
            self.send_json(
                HTTPStatus.OK,
                {
                    "status": "ok",
                    "tesseract": self.engine.version,
                    "languages": self.engine.languages,
                    "default_languages": self.default_languages,
                    "workers": self.engine.workers,
                    "max_bytes": self.max_bytes,
                },
            )
        else:
            self.fail(HTTPStatus.NOT_FOUND, f"no route GET {path}")

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/v1/ocr":
            self.fail(HTTPStatus.NOT_FOUND, f"no route POST {url.path}", close=True)
            return
        started = time.perf_counter()
        try:
            body = self._read_body()
            ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
            query = parse_qs(url.query)
            if ctype == "application/json" or (not ctype and body[:1] == b"{"):
                try:
                    payload = json.loads(body)
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    raise BadRequest(f"invalid JSON: {exc}") from exc
                if not isinstance(payload, dict) or not isinstance(payload.get("image_base64"), str):
                    raise BadRequest("JSON body needs a string field image_base64")
                b64 = payload["image_base64"].strip()
                if b64.startswith("data:") and "," in b64:  # accept data: URLs
                    b64 = b64.split(",", 1)[1]
                try:
                    image = base64.b64decode(b64, validate=True)
                except (binascii.Error, ValueError) as exc:
                    raise BadRequest(f"image_base64 is not valid base64: {exc}") from exc
                languages = self._parse_languages(payload.get("languages"))
                psm = self._parse_psm(payload.get("psm"))
            else:
                image = body
                langs_q = query.get("languages") or query.get("lang") or [None]
                languages = self._parse_languages(langs_q[0])
                psm = self._parse_psm((query.get("psm") or [None])[0])
            if not image:
                raise BadRequest("empty image")
            if len(image) > self.max_bytes:
                raise TooLarge(f"image of {len(image)} bytes exceeds the limit of {self.max_bytes} bytes")
            fmt = sniff_image(image)
            if fmt is None:
                raise BadRequest("body is not a supported image (png, jpeg, tiff, bmp, gif, webp, pnm, jp2)")
            text = self.engine.ocr(image, languages, psm)
        except TooLarge as exc:
            # Per the project's API contract oversized bodies are a 400 too.
            # The unread body stays in the socket, so close the connection.
            self.fail(HTTPStatus.BAD_REQUEST, str(exc), close=True)
            return
        except BadRequest as exc:
            self.fail(HTTPStatus.BAD_REQUEST, str(exc))
            return
        except Busy as exc:
            self.fail(HTTPStatus.SERVICE_UNAVAILABLE, str(exc))
            return
        except Exception as exc:  # pragma: no cover - unexpected failures
            LOG.exception("OCR failed")
            self.fail(HTTPStatus.INTERNAL_SERVER_ERROR, str(exc))
            return
        duration_ms = round((time.perf_counter() - started) * 1000.0, 1)
        self.send_json(
            HTTPStatus.OK,
            {
                "text": text,
                "languages": languages,
                "format": fmt,
                "duration_ms": duration_ms,
            },
        )


def main(argv: list[str] | None = None) -> int:
    env = os.environ.get
    parser = argparse.ArgumentParser(description="Tesseract OCR HTTP server")
    parser.add_argument("--host", default=env("AFIRGEN_OCR_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("AFIRGEN_OCR_PORT", "8092")))
    parser.add_argument(
        "--workers",
        type=int,
        default=int(env("AFIRGEN_OCR_WORKERS", "2")),
        help="max concurrent tesseract processes (default 2)",
    )
    parser.add_argument(
        "--max-bytes",
        type=int,
        default=int(env("AFIRGEN_OCR_MAX_BYTES", str(10 * 1024 * 1024))),
        help="largest accepted image in bytes (default 10 MiB)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=float(env("AFIRGEN_OCR_TIMEOUT", "60")),
        help="seconds one tesseract run may take (default 60)",
    )
    parser.add_argument(
        "--queue-timeout",
        type=float,
        default=float(env("AFIRGEN_OCR_QUEUE_TIMEOUT", "30")),
        help="seconds to wait for a free worker before 503 (default 30)",
    )
    parser.add_argument(
        "--languages",
        default=env("AFIRGEN_OCR_LANGUAGES", "eng"),
        help="default languages, comma separated (default eng)",
    )
    parser.add_argument("--tesseract", default=env("AFIRGEN_TESSERACT", "tesseract"))
    parser.add_argument("--tessdata-dir", default=env("AFIRGEN_TESSDATA_DIR"))
    parser.add_argument("--log-level", default=env("AFIRGEN_OCR_LOG_LEVEL", "INFO"))
    args = parser.parse_args(argv)

    configure_logging(args.log_level)
    binary = shutil.which(args.tesseract) or args.tesseract
    if not os.path.isfile(binary):
        LOG.error("tesseract binary not found (%s); run scripts/install/models.sh", args.tesseract)
        return 2
    if args.workers < 1:
        parser.error("--workers must be >= 1")
    engine = Tesseract(binary, args.workers, args.timeout, args.queue_timeout, args.tessdata_dir)
    defaults = [p.strip() for p in args.languages.replace("+", ",").split(",") if p.strip()]
    missing = [lang for lang in defaults if lang not in engine.languages]
    if missing:
        LOG.error("default language(s) %s not installed; available %s", missing, engine.languages)
        return 2
    bound = type(
        "BoundHandler", (Handler,), {"engine": engine, "max_bytes": args.max_bytes, "default_languages": defaults}
    )
    started = (
        f"OCR server on http://{args.host}:{args.port} (tesseract {engine.version},"
        f" languages {engine.languages}, workers {args.workers})"
    )
    return serve(args.host, args.port, bound, LOG, started)


if __name__ == "__main__":
    sys.exit(main())
