"""Failures only the FIR service raises (their place in the mesh's tree: :mod:`afirgen_runtime.errors`)."""

from __future__ import annotations

from afirgen_runtime.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound, ResourceExhausted


class FirNotFound(NotFound):
    """The FIR does not exist, or is outside the caller's scope (which looks the same)."""

    reason = "FIR_NOT_FOUND"


class FirFinalized(FailedPrecondition):
    """The FIR is finalized and can no longer change."""

    reason = "FIR_FINALIZED"


class StaleEtag(Aborted):
    """The etag sent with a change is not the FIR's current one: re-read and retry
    (``metadata["current_etag"]``)."""

    reason = "ETAG_MISMATCH"


class DocumentNotReady(FailedPrecondition):
    """The FIR's document of its current revision is still being rendered."""

    reason = "DOCUMENT_NOT_READY"


class TooManyGenerations(ResourceExhausted):
    """The caller already has as many generations running as allowed."""

    reason = "TOO_MANY_GENERATIONS"


class KnowledgeBaseEmpty(FailedPrecondition):
    """No legal section to cite: the legal knowledge base was never loaded."""

    reason = "GENERATION_FAILED"


class NothingRecognised(InvalidArgument):
    """Speech or text recognition found too little in the audio or image to draft from."""

    reason = "GENERATION_FAILED"
