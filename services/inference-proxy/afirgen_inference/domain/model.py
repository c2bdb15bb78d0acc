"""What the proxy is asked for and what it answers, free of transport types."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

ROLES = ("system", "user", "assistant")


class BackendKind(StrEnum):
    """Kinds of model server."""

    LLM = "llm"
    ASR = "asr"
    OCR = "ocr"


class CircuitState(StrEnum):
    """State of one replica's circuit breaker."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class ChatMessage:
    """One message of a conversation."""

    role: str
    content: str


@dataclass(frozen=True)
class Sampling:
    """Sampling parameters; ``temperature == 0`` is greedy (deterministic) decoding."""

    temperature: float = 0.0
    top_p: float = 0.0
    max_tokens: int = 512
    seed: int = 0
    stop: tuple[str, ...] = ()


def _digest(*parts: bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(len(part).to_bytes(8, "big"))
        hasher.update(part)
    return hasher.hexdigest()


@dataclass(frozen=True)
class GenerateCall:
    """A validated chat completion request."""

    model: str
    messages: tuple[ChatMessage, ...]
    sampling: Sampling
    json_schema: dict[str, Any] | None = field(default=None, compare=False, hash=False)

    @property
    def deterministic(self) -> bool:
        """Greedy decoding: the same input gives the same output."""
        return self.sampling.temperature == 0.0

    def key(self) -> str:
        """Identity of the request (model, input, sampling, schema), for sharing and caching."""
        body = {
            "model": self.model,
            "messages": [[m.role, m.content] for m in self.messages],
            "sampling": [self.sampling.temperature, self.sampling.top_p, self.sampling.max_tokens],
            "stop": list(self.sampling.stop),
            "seed": self.sampling.seed,
            "schema": self.json_schema,
        }
        return "gen:" + _digest(json.dumps(body, sort_keys=True, ensure_ascii=False).encode())


@dataclass(frozen=True)
class TranscribeCall:
    """A validated speech-to-text request."""

    audio: bytes = field(repr=False)
    audio_format: str
    language: str
    model: str

    def key(self) -> str:
        """Identity of the request, for sharing and caching."""
        return "asr:" + _digest(self.model.encode(), self.language.encode(), self.audio)


@dataclass(frozen=True)
class RecognizeCall:
    """A validated OCR request; ``languages`` are BCP-47 tags the engine knows."""

    image: bytes = field(repr=False)
    image_format: str
    languages: tuple[str, ...]

    def key(self) -> str:
        """Identity of the request, for sharing and caching."""
        return "ocr:" + _digest(",".join(self.languages).encode(), self.image)


@dataclass(frozen=True)
class Completion:
    """What an LLM server returned for one call."""

    text: str
    finish_reason: str = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class TextDelta:
    """A piece of a streamed completion."""

    text: str


@dataclass(frozen=True)
class Transcript:
    """What a speech server returned."""

    text: str
    language: str = ""
    duration_seconds: float | None = None


@dataclass(frozen=True)
class PageText:
    """What an OCR server returned."""

    text: str


@dataclass(frozen=True)
class Timings:
    """Where the time of one answer went, and how it was obtained."""

    model_seconds: float = 0.0
    """Round trip of the successful call to the model server."""
    total_seconds: float = 0.0
    """Whole time in the proxy."""
    queue_seconds: float = 0.0
    """Waiting for a free slot."""
    attempts: int = 0
    """Calls made to model servers."""
    shared: bool = False
    """Computed once for several identical concurrent requests."""


@dataclass(frozen=True)
class Generation:
    """The answer to a :class:`GenerateCall`."""

    completion: Completion
    model: str
    backend: str
    timings: Timings


@dataclass(frozen=True)
class Transcription:
    """The answer to a :class:`TranscribeCall`."""

    transcript: Transcript
    model: str
    backend: str
    timings: Timings


@dataclass(frozen=True)
class Recognition:
    """The answer to a :class:`RecognizeCall`."""

    page: PageText
    model: str
    backend: str
    languages: tuple[str, ...]
    timings: Timings


@dataclass(frozen=True)
class BackendStatus:
    """One replica as ListModels shows it."""

    name: str
    kind: BackendKind
    model: str
    url: str
    available: bool
    circuit: CircuitState
    in_flight: int
    queued: int
    max_in_flight: int
    max_queue: int
    latency_p50: float | None
    latency_p99: float | None
    last_error: str = ""
    last_probe_at: datetime | None = None
