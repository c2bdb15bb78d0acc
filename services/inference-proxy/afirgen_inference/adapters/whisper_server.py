"""Client of one OpenAI-compatible transcription server (faster-whisper-server)."""

from __future__ import annotations

import httpx

from afirgen_inference.adapters.http_errors import check_status, json_object, translate
from afirgen_inference.domain.media import AUDIO_MIME
from afirgen_inference.domain.model import TranscribeCall, Transcript


class WhisperServer:
    """One speech recognition replica (``POST /v1/audio/transcriptions``)."""

    def __init__(
        self, name: str, url: str, http: httpx.AsyncClient, *, model: str, connect_timeout: float = 1.0
    ) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self._http = http
        self._model = model
        self._connect = connect_timeout

    def _timeout(self, seconds: float) -> httpx.Timeout:
        return httpx.Timeout(seconds, connect=min(seconds, self._connect))

    async def probe(self, time_limit: float) -> None:
        """``GET /health``."""
        with translate(self.name):
            response = await self._http.get(f"{self.url}/health", timeout=self._timeout(time_limit))
        check_status(self.name, response.status_code, response.content)

    async def transcribe(self, call: TranscribeCall, time_limit: float) -> Transcript:
        """Speech to text; ``verbose_json`` also gives the language and the audio length."""
        data = {"model": call.model or self._model, "response_format": "verbose_json", "temperature": "0"}
        if call.language:
            data["language"] = call.language
        files = {"file": (f"audio.{call.audio_format}", call.audio, AUDIO_MIME[call.audio_format])}
        with translate(self.name):
            response = await self._http.post(
                f"{self.url}/v1/audio/transcriptions", data=data, files=files, timeout=self._timeout(time_limit)
            )
        check_status(self.name, response.status_code, response.content)
        payload = json_object(self.name, response)
        duration = payload.get("duration")
        return Transcript(
            text=str(payload.get("text") or "").strip(),
            language=str(payload.get("language") or call.language),
            duration_seconds=float(duration) if isinstance(duration, int | float) else None,
        )
