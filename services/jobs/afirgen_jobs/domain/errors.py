"""Failures only the jobs service raises (their place in the mesh's tree: :mod:`afirgen_runtime.errors`)."""

from __future__ import annotations

from afirgen_runtime.errors import FailedPrecondition, NotFound


class JobNotFound(NotFound):
    """The job does not exist."""

    reason = "JOB_NOT_FOUND"


class JobStateConflict(FailedPrecondition):
    """The job's status does not allow the operation (``metadata["status"]``)."""

    reason = "JOB_STATE_CONFLICT"
