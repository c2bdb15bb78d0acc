"""Client of one Tesseract OCR server (``scripts/models/ocr_server.py``)."""

from __future__ import annotations

import httpx

from afirgen_inference.adapters.http_errors import check_status, json_object, translate
from afirgen_inference.domain.media import IMAGE_MIME
from afirgen_inference.domain.model import PageText, RecognizeCall
from afirgen_inference.domain.validation import TESSERACT_NAMES


class TesseractServer:
    """One OCR replica (``POST /v1/ocr`` with the raw image)."""

    def __init__(self, name: str, url: str, http: httpx.AsyncClient, *, connect_timeout: float = 1.0) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self._http = http
        self._connect = connect_timeout

    def _timeout(self, seconds: float) -> httpx.Timeout:
        return httpx.Timeout(seconds, connect=min(seconds, self._connect))

    async def probe(self, time_limit: float) -> None:
        """``GET /health``."""
        with translate(self.name):
            response = await self._http.get(f"{self.url}/health", timeout=self._timeout(time_limit))
        check_status(self.name, response.status_code, response.content)

    async def recognize(self, call: RecognizeCall, time_limit: float) -> PageText:
        """Text in the image, read with the call's languages."""
        languages = ",".join(TESSERACT_NAMES[tag] for tag in call.languages)
        with translate(self.name):
            response = await self._http.post(
                f"{self.url}/v1/ocr",
                params={"languages": languages},
                content=call.image,
                headers={"content-type": IMAGE_MIME[call.image_format]},
                timeout=self._timeout(time_limit),
            )
        check_status(self.name, response.status_code, response.content)
        payload = json_object(self.name, response)
        return PageText(text=str(payload.get("text") or "").strip())
