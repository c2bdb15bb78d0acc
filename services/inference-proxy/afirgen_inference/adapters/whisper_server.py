"""Client of one OpenAI-compatible transcription server (faster-whisper-server)."""

from __future__ import annotations

from afirgen_inference.adapters.model_server import HttpModelServer
from afirgen_inference.domain.media import AUDIO_MIME
from afirgen_inference.domain.model import TranscribeCall, Transcript


class WhisperServer(HttpModelServer):
    """One speech recognition replica (``POST /v1/audio/transcriptions``)."""

    async def transcribe(self, call: TranscribeCall, time_limit: float) -> Transcript:
        """Speech to text; ``verbose_json`` also gives the language and the audio length."""
        data = {"model": call.model or self._model, "response_format": "verbose_json", "temperature": "0"}
        if call.language:
            data["language"] = call.language
        files = {"file": (f"audio.{call.audio_format}", call.audio, AUDIO_MIME[call.audio_format])}
        payload = await self._post_json("/v1/audio/transcriptions", time_limit, data=data, files=files)
        duration = payload.get("duration")
        return Transcript(
            text=str(payload.get("text") or "").strip(),
            language=str(payload.get("language") or call.language),
            duration_seconds=float(duration) if isinstance(duration, int | float) else None,
        )
