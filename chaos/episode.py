"""One fault under load: the load starts, the fault hits one process a few seconds in, the
load goes on to its end, the stack settles, and the audit counts what it cost.

Faults: ``kill`` (SIGKILL; supervisord starts the process again), ``stop`` (SIGSTOP for
``freeze_seconds``, then SIGCONT: a hang) and ``restart`` (supervisorctl restart: SIGTERM, a
graceful stop, and a start). Times are seconds from the moment the fault hit.
"""

from __future__ import annotations

import asyncio
import base64
import signal
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc
from afirgen.inference.v1 import inference_pb2, inference_pb2_grpc

from chaos.audit import Audit, Auditor
from chaos.load import KINDS, Ledger, LoadShape, MixedLoad, Tokens
from chaos.mesh import Mesh, Target, alive, children

ACTIONS = {"kill": "SIGKILL", "stop": "SIGSTOP 10 s", "restart": "restart"}
OPEN = (inference_pb2.CIRCUIT_STATE_OPEN, inference_pb2.CIRCUIT_STATE_HALF_OPEN)
ORPHAN_SECONDS = 2.0
"""How long the children of a killed process may outlive it (the kernel kills them at once)."""


@dataclass(frozen=True)
class Fault:
    """A target and what is done to it."""

    target: Target
    action: str
    """``kill``, ``stop`` or ``restart``."""

    @property
    def name(self) -> str:
        return f"{self.target.name} {ACTIONS[self.action]}"


@dataclass(frozen=True)
class Timing:
    """The clock of an episode."""

    load_seconds: float = 20.0
    fault_at: float = 5.0
    """Seconds into the load when the fault hits."""
    freeze_seconds: float = 10.0
    """How long a stopped process stays stopped."""
    back_within: float = 120.0
    """Longest wait for the target to serve again."""
    settle_seconds: float = 150.0
    """Longest wait for the run's jobs to finish (a killed worker's jobs wait for their lease)."""


@dataclass(frozen=True)
class Detection:
    """How fast the inference proxies noticed a frozen model server."""

    seconds: float | None
    """From SIGSTOP until every proxy's circuit for it was open (None: not within the freeze)."""
    refusals: tuple[tuple[str, float], ...]
    """(status code name, seconds) of a call to the model made at each proxy right after."""


@dataclass(frozen=True)
class Outcome:
    """Everything measured for one fault."""

    fault: Fault
    calls: dict[str, int]
    failed: dict[str, int]
    failed_by_design: int
    """Failed generations a down model server explains (UNAVAILABLE MODEL_UNAVAILABLE, 503)."""
    failures_end: float
    """Seconds from the fault to the end of the last failed call (0: none failed)."""
    back_after: float | None
    """Seconds from the fault until the target served again (None: it did not)."""
    resumed_at: float
    """Seconds from the fault until it ended (the SIGCONT of a freeze; 0 otherwise)."""
    detection: Detection | None
    orphans: int
    """Children of a killed process still alive ``ORPHAN_SECONDS`` after it died."""
    settled: bool
    audit: Audit


def complaint_for(target: Target) -> dict[str, str]:
    """The generations' input: the frozen or killed model server's kind, else typed text."""
    from evaluation.media import page_png, speech_wav  # Pillow and espeak-ng: the dev extra

    text = (
        "Yesterday evening around 7:15 pm two men on a red scooter pulled the gold chain from my neck"
        " near Sector 9 park. The number plate started with DL 8S."
    )
    if target.model == "asr":
        return {"audio": _b64(speech_wav(text))}
    if target.model == "ocr":
        return {"image": _b64(page_png(text.replace(". ", ".\n")))}
    return {"text": text}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Episode:
    """Runs one fault against a mesh and measures it."""

    def __init__(
        self,
        mesh: Mesh,
        tokens: Tokens,
        auditor: Auditor,
        timing: Timing | None = None,
        shape: LoadShape | None = None,
    ) -> None:
        self._mesh = mesh
        self._tokens = tokens
        self._auditor = auditor
        self._timing = timing or Timing()
        self._shape = shape or LoadShape()

    async def _wait_serving(self, target: Target, within: float) -> bool:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if await asyncio.to_thread(self._mesh.serving, target):
                return True
            await asyncio.sleep(0.1)
        return False

    async def run(self, fault: Fault) -> Outcome:
        """Load, fault, settle, audit."""
        target, timing = fault.target, self._timing
        if not await self._wait_serving(target, timing.back_within):
            raise RuntimeError(f"{target.program} is not serving before the fault")
        run_id = "C" + uuid.uuid4().hex[:6].upper()
        load = MixedLoad(self._mesh.cfg.base_url, self._tokens, run_id, complaint_for(target), self._shape)
        hit = _FaultRun(self._mesh, fault, timing)
        ledger = await load.run(timing.load_seconds, started=hit.run)
        settled = await self._auditor.settle(ledger.stations, timing.settle_seconds)
        audit = await self._auditor.audit(ledger)
        return _outcome(fault, ledger, hit, settled, audit)


def _outcome(fault: Fault, ledger: Ledger, hit: _FaultRun, settled: bool, audit: Audit) -> Outcome:
    failed = [c for c in ledger.calls if not c.ok]
    by_design = [c for c in failed if c.kind == "generate" and c.status == 503 and c.reason == "MODEL_UNAVAILABLE"]
    end = max((c.ended for c in failed), default=hit.at)
    return Outcome(
        fault=fault,
        calls={kind: sum(1 for c in ledger.calls if c.kind == kind) for kind in KINDS},
        failed={kind: len(ledger.failed(kind)) for kind in KINDS},
        failed_by_design=len(by_design) if fault.target.model else 0,
        failures_end=max(0.0, end - hit.at) if failed else 0.0,
        back_after=hit.back_after,
        resumed_at=hit.resumed_at,
        detection=hit.detection,
        orphans=hit.orphans,
        settled=settled,
        audit=audit,
    )


class _FaultRun:
    """The fault's side of an episode, run beside the load."""

    def __init__(self, mesh: Mesh, fault: Fault, timing: Timing) -> None:
        self._mesh = mesh
        self._fault = fault
        self._timing = timing
        self.at = 0.0
        self.back_after: float | None = None
        self.resumed_at = 0.0
        self.detection: Detection | None = None
        self.orphans = 0

    async def run(self) -> None:
        await asyncio.sleep(self._timing.fault_at)
        target, action, mesh = self._fault.target, self._fault.action, self._mesh
        self.at = time.monotonic()
        if action == "kill":
            pid = mesh.pid(target)
            started = children(pid)
            mesh.signal(target, signal.SIGKILL)
            self.orphans = await _survivors(started, ORPHAN_SECONDS)
        elif action == "stop":
            pid = mesh.signal(target, signal.SIGSTOP)
            watch = asyncio.create_task(self._detect()) if target.model else None
            try:
                await asyncio.sleep(self._timing.freeze_seconds)
            finally:
                mesh.signal_pid(pid, signal.SIGCONT)
            self.resumed_at = time.monotonic() - self.at
            if watch is not None:
                self.detection = await watch
        else:
            await asyncio.to_thread(mesh.restart, target)
        await self._back()

    async def _back(self) -> None:
        deadline = self.at + self._timing.back_within
        while time.monotonic() < deadline:
            if await asyncio.to_thread(self._mesh.serving, self._fault.target):
                self.back_after = time.monotonic() - self.at
                return
            await asyncio.sleep(0.1)

    async def _detect(self) -> Detection:
        """Poll every proxy's ListModels until each shows the frozen server's circuit open, then
        make one call to that server through each proxy and time its refusal."""
        kind = self._fault.target.model
        ports = self._mesh.cfg.inference_ports
        channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for port in ports]
        stubs = [inference_pb2_grpc.InferenceServiceStub(channel) for channel in channels]
        try:
            seconds = await _until_open(stubs, kind, self.at, self._timing.freeze_seconds)
            refusals = tuple([await _refusal(stub, kind) for stub in stubs]) if seconds is not None else ()
        finally:
            for channel in channels:
                await channel.close()
        return Detection(seconds, refusals)


async def _survivors(pids: list[int], within: float) -> int:
    """How many of ``pids`` are still alive once they are all gone or ``within`` ran out."""
    deadline = time.monotonic() + within
    while True:
        left = sum(1 for pid in pids if alive(pid))
        if not left or time.monotonic() >= deadline:
            return left
        await asyncio.sleep(0.05)


async def _until_open(
    stubs: list[inference_pb2_grpc.InferenceServiceStub], kind: str, since: float, within: float
) -> float | None:
    async def opened(index: int) -> bool:
        try:
            reply = await stubs[index].ListModels(inference_pb2.ListModelsRequest(), timeout=1)
        except grpc.aio.AioRpcError:
            return False
        return any(b.kind == kind and b.circuit_state in OPEN for b in reply.backends)

    pending = set(range(len(stubs)))
    while pending and time.monotonic() - since < within:
        polled = sorted(pending)
        for index, is_open in zip(polled, await asyncio.gather(*(opened(i) for i in polled)), strict=True):
            if is_open:
                pending.discard(index)
        await asyncio.sleep(0.02)
    return None if pending else time.monotonic() - since


def _call(kind: str) -> Callable[[inference_pb2_grpc.InferenceServiceStub], Awaitable[object]]:
    """One small, valid call to the model server of ``kind``."""
    from evaluation.media import page_png, speech_wav

    if kind == "asr":
        audio = speech_wav("yes")
        return lambda s: s.Transcribe(inference_pb2.TranscribeRequest(audio=audio, language="en"), timeout=10)
    if kind == "ocr":
        image = page_png("yes")
        return lambda s: s.RecognizeText(inference_pb2.RecognizeTextRequest(image=image, languages=["eng"]), timeout=10)
    chat = inference_pb2.GenerateRequest(
        messages=[inference_pb2.ChatMessage(role="user", content="Say yes.")],
        sampling=inference_pb2.SamplingParams(max_tokens=2),
    )
    return lambda s: s.Generate(chat, timeout=10)


async def _refusal(stub: inference_pb2_grpc.InferenceServiceStub, kind: str) -> tuple[str, float]:
    call = _call(kind)
    started = time.monotonic()
    try:
        await call(stub)
        code = "OK"
    except grpc.aio.AioRpcError as exc:
        code = exc.code().name
    return code, time.monotonic() - started
