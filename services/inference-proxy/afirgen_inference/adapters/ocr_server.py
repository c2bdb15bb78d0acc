"""Client of one Tesseract OCR server (``scripts/models/ocr_server.py``)."""

from __future__ import annotations

from afirgen_inference.adapters.model_server import HttpModelServer
from afirgen_inference.domain.media import IMAGE_MIME
from afirgen_inference.domain.model import PageText, RecognizeCall
from afirgen_inference.domain.validation import TESSERACT_NAMES


class TesseractServer(HttpModelServer):
    """One OCR replica (``POST /v1/ocr`` with the raw image)."""

    async def recognize(self, call: RecognizeCall, time_limit: float) -> PageText:
        """Text in the image, read with the call's languages."""
        payload = await self._post_json(
            "/v1/ocr",
            time_limit,
            params={"languages": ",".join(TESSERACT_NAMES[tag] for tag in call.languages)},
            content=call.image,
            headers={"content-type": IMAGE_MIME[call.image_format]},
        )
        return PageText(text=str(payload.get("text") or "").strip())
