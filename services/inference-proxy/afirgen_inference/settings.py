"""Settings of the inference proxy (``AFIRGEN_*`` environment variables)."""

from __future__ import annotations

from dataclasses import dataclass, field

from afirgen_runtime.settings import LogSettings, ServerSettings

from afirgen_inference.domain.validation import InputLimits
from afirgen_inference.service_layer.backend_pool import BackendSettings


def _llm() -> BackendSettings:
    return BackendSettings(urls=("http://127.0.0.1:8090",), model="smollm2", max_in_flight=1, max_queue=8)


def _asr() -> BackendSettings:
    return BackendSettings(urls=("http://127.0.0.1:8091",), model="whisper-1", max_in_flight=1, max_queue=8)


def _ocr() -> BackendSettings:
    return BackendSettings(
        urls=("http://127.0.0.1:8092",), model="tesseract", max_in_flight=2, max_queue=16, timeout_seconds=60.0
    )


@dataclass(frozen=True)
class InferenceSettings:
    """Everything the inference proxy reads from its environment."""

    server: ServerSettings = field(
        default_factory=lambda: ServerSettings(port=50052, max_message_bytes=24 * 1024 * 1024)
    )
    """gRPC server (``AFIRGEN_SERVER_*``)."""
    log: LogSettings = field(default_factory=LogSettings)
    """Logging (``AFIRGEN_LOG_*``)."""
    llm: BackendSettings = field(default_factory=_llm)
    """OpenAI-compatible chat servers (llama.cpp's llama-server)."""
    asr: BackendSettings = field(default_factory=_asr)
    """OpenAI-compatible transcription servers (faster-whisper-server)."""
    ocr: BackendSettings = field(default_factory=_ocr)
    """Tesseract OCR HTTP servers (scripts/models/ocr_server.py)."""
    limits: InputLimits = field(default_factory=InputLimits)
    """Input limits (``AFIRGEN_LIMITS_*``)."""
