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

import base64
import binascii
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from urllib.parse import SplitResult, parse_qs

from model_http import BadRequest, JsonHandler, Slots, configure_logging, serve, server_options

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


class Tesseract:
    """Runs the tesseract CLI with a bounded number of concurrent jobs."""

    def __init__(self, binary: str, slots: Slots, timeout: float, tessdata_dir: str | None = None) -> None:
        self.binary = binary
        self.timeout = timeout
        self.tessdata_dir = tessdata_dir
        self.slots = slots
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
        cmd = [*DIE_WITH_PARENT, *self._base_cmd(), "stdin", "stdout", "-l", "+".join(languages), "--psm", str(psm)]
        with self.slots.held():
            try:
                proc = subprocess.run(
                    cmd, input=image, capture_output=True, env=self.env, timeout=self.timeout, check=False
                )
            except subprocess.TimeoutExpired as exc:
                raise RuntimeError(f"tesseract timed out after {self.timeout:g}s") from exc
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
    post_route = "/v1/ocr"

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

    # ---- routes --------------------------------------------------------
    def health(self) -> dict:
        return {
            "tesseract": self.engine.version,
            "languages": self.engine.languages,
            "default_languages": self.default_languages,
            "workers": self.engine.slots.workers,
            "max_bytes": self.max_bytes,
        }

    def post(self, url: SplitResult) -> dict | str:
        started = time.perf_counter()
        # base64 in JSON is 4/3 larger than the image it carries
        body = self.read_body(
            self.max_bytes * 4 // 3 + 65536,
            f"body of {{length}} bytes exceeds the limit of {self.max_bytes} image bytes",
            'empty body: send image bytes or JSON {"image_base64": ...}',
        )
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
            # Per the project's API contract oversized images are a 400 too; the body was read.
            raise BadRequest(f"image of {len(image)} bytes exceeds the limit of {self.max_bytes} bytes", close=True)
        fmt = sniff_image(image)
        if fmt is None:
            raise BadRequest("body is not a supported image (png, jpeg, tiff, bmp, gif, webp, pnm, jp2)")
        text = self.engine.ocr(image, languages, psm)
        duration_ms = round((time.perf_counter() - started) * 1000.0, 1)
        return {"text": text, "languages": languages, "format": fmt, "duration_ms": duration_ms}


def main(argv: list[str] | None = None) -> int:
    parser, option = server_options(
        "Tesseract OCR HTTP server", "OCR", port=8092, workers=2, queue_timeout=30, max_bytes=10 << 20
    )
    option("--timeout", "60", type=float, help="seconds one tesseract run may take (default 60)")
    option("--languages", "eng", help="default languages, comma separated (default eng)")
    option("--tesseract", "tesseract", env="AFIRGEN_TESSERACT")
    option("--tessdata-dir", env="AFIRGEN_TESSDATA_DIR")
    args = parser.parse_args(argv)

    configure_logging(args.log_level)
    binary = shutil.which(args.tesseract) or args.tesseract
    if not os.path.isfile(binary):
        LOG.error("tesseract binary not found (%s); run scripts/install/models.sh", args.tesseract)
        return 2
    if args.workers < 1:
        parser.error("--workers must be >= 1")
    engine = Tesseract(binary, Slots(args.workers, args.queue_timeout, "OCR"), args.timeout, args.tessdata_dir)
    defaults = [p.strip() for p in args.languages.replace("+", ",").split(",") if p.strip()]
    missing = [lang for lang in defaults if lang not in engine.languages]
    if missing:
        LOG.error("default language(s) %s not installed; available %s", missing, engine.languages)
        return 2
    started = (
        f"OCR server on http://{args.host}:{args.port} (tesseract {engine.version},"
        f" languages {engine.languages}, workers {args.workers})"
    )
    handler = Handler.bind(engine=engine, max_bytes=args.max_bytes, default_languages=defaults)
    return serve(args.host, args.port, handler, LOG, started)


if __name__ == "__main__":
    sys.exit(main())
