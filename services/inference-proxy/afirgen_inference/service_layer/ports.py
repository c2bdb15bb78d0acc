"""Ports of the inference proxy: what the service layer needs from outside.

One client object talks to one replica of a model server. Clients raise only
:class:`afirgen_inference.domain.errors.BackendError` subclasses for server
and transport failures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Protocol

from afirgen_inference.domain.model import (
    Completion,
    GenerateCall,
    PageText,
    RecognizeCall,
    TextDelta,
    TranscribeCall,
    Transcript,
)

Clock = Callable[[], float]
"""Monotonic seconds (``time.monotonic``; tests pass a fake)."""


class ModelServer(Protocol):
    """Any replica: it can be health-probed."""

    url: str

    async def probe(self, time_limit: float) -> None:
        """Return when the server is ready to serve; raise ``BackendError`` otherwise."""
        ...


class CompletionStream(Protocol):
    """A streamed completion whose request was accepted by the server."""

    def events(self) -> AsyncIterator[TextDelta | Completion]:
        """Text deltas as they come, then the whole :class:`Completion` (text may be empty)."""
        ...

    async def aclose(self) -> None:
        """Release the connection."""
        ...


class ChatServer(ModelServer, Protocol):
    """One OpenAI-compatible chat server (llama-server)."""

    async def complete(self, call: GenerateCall, time_limit: float) -> Completion:
        """One completion."""
        ...

    async def open_stream(self, call: GenerateCall, time_limit: float) -> CompletionStream:
        """Send a streaming completion request; errors before the first piece are raised here."""
        ...


class SpeechServer(ModelServer, Protocol):
    """One OpenAI-compatible transcription server."""

    async def transcribe(self, call: TranscribeCall, time_limit: float) -> Transcript:
        """Speech to text."""
        ...


class OcrServer(ModelServer, Protocol):
    """One OCR server."""

    async def recognize(self, call: RecognizeCall, time_limit: float) -> PageText:
        """Text in an image."""
        ...
