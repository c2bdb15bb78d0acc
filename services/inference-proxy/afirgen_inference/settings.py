"""Settings of the inference proxy (``AFIRGEN_*`` environment variables)."""

from __future__ import annotations

from dataclasses import dataclass, field

from afirgen_runtime.settings import LogSettings, ServerSettings


@dataclass(frozen=True)
class BackendSettings:
    """One kind of model server (LLM, ASR or OCR) and its replicas.

    Environment: ``AFIRGEN_LLM_*``, ``AFIRGEN_ASR_*``, ``AFIRGEN_OCR_*``, e.g.
    ``AFIRGEN_LLM_URLS=http://127.0.0.1:8090,http://127.0.0.1:8093``.
    """

    urls: tuple[str, ...] = ()
    """Base URLs of the replicas (comma separated); none: every call is UNAVAILABLE."""
    model: str = ""
    """Name of the model the replicas serve (callers may name it or leave the field empty)."""
    max_in_flight: int = 1
    """Calls one replica serves at once (llama-server: its ``--parallel`` slots)."""
    max_queue: int = 8
    """Callers that may wait for a free slot; more are refused at once with RESOURCE_EXHAUSTED."""
    timeout_seconds: float = 120.0
    """Upper bound of one call to a model server (the caller's deadline caps it further)."""
    connect_timeout_seconds: float = 1.0
    """TCP connect timeout: a dead server is noticed in at most this long."""
    attempts: int = 3
    """Attempts for a transient failure (connect error, 429, 502, 503, 504)."""
    backoff_initial_seconds: float = 0.05
    """First retry delay; it doubles per attempt."""
    backoff_max_seconds: float = 1.0
    """Longest retry delay."""
    backoff_jitter_seconds: float = 0.05
    """Random delay added to each retry delay, so retries of many callers spread out."""
    failure_threshold: int = 4
    """Failures in a row (calls or health probes) that open a replica's circuit."""
    recovery_seconds: float = 5.0
    """Time an open circuit refuses calls before one probe may close it."""
    probe_interval_seconds: float = 2.0
    """Health probe period per replica."""
    probe_timeout_seconds: float = 1.0
    """Timeout of one health probe."""
    silent_while_busy: bool = False
    """True for a server that answers no health probe while it works (faster-whisper-server): a probe
    timeout during a call is then not a failure. The stack's servers all answer while busy, so a
    timeout means a hung server (frozen, swapping), which opens its circuit."""


def _llm() -> BackendSettings:
    return BackendSettings(urls=("http://127.0.0.1:8090",), model="smollm2", max_in_flight=1, max_queue=8)


def _asr() -> BackendSettings:
    return BackendSettings(urls=("http://127.0.0.1:8091",), model="whisper-1", max_in_flight=1, max_queue=8)


def _ocr() -> BackendSettings:
    return BackendSettings(
        urls=("http://127.0.0.1:8092",), model="tesseract", max_in_flight=2, max_queue=16, timeout_seconds=60.0
    )


@dataclass(frozen=True)
class LimitSettings:
    """What one request may carry (``AFIRGEN_LIMITS_*``)."""

    max_audio_bytes: int = 16 * 1024 * 1024
    """Largest audio accepted by Transcribe."""
    max_image_bytes: int = 10 * 1024 * 1024
    """Largest image accepted by RecognizeText (the OCR server's own limit)."""
    max_prompt_chars: int = 32_000
    """Largest total length of the chat messages."""
    max_messages: int = 64
    """Most chat messages in one request."""
    default_max_tokens: int = 512
    """Generated tokens when the request does not say."""
    max_tokens: int = 4096
    """Most generated tokens a request may ask for."""
    max_schema_chars: int = 16_000
    """Largest JSON schema."""
    json_reasks: int = 1
    """Further attempts when the output is not valid JSON for the schema."""
    asr_languages: tuple[str, ...] = ("en",)
    """Languages the speech model knows (BCP-47 primary tags); tiny.en knows English only."""
    ocr_languages: tuple[str, ...] = ("en", "hi")
    """Languages the OCR engine has data for (BCP-47 primary tags)."""


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
    limits: LimitSettings = field(default_factory=LimitSettings)
    """Input limits (``AFIRGEN_LIMITS_*``)."""
