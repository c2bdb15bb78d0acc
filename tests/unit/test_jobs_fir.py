"""The FIR service's jobs: what a change enqueues, handlers, the outbox relay,
the webhook signature and the PDF, with hand-written fakes (no I/O)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import io
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pypdf
import pytest
import uvloop
from afirgen_fir.adapters.pdf_form import LATIN, Fonts, fonts_for, latin_cut, render_fir_pdf
from afirgen_fir.adapters.pdf_renderer import ProcessPdfRenderer, RenderFailed
from afirgen_fir.adapters.webhook import WebhookNotifier
from afirgen_fir.domain import jobs
from afirgen_fir.domain.model import Complainant, Fir, FirStatus, LegalSectionRef, Station
from afirgen_fir.service_layer.fir_jobs import FirDocuments, FirJobHandlers
from afirgen_fir.service_layer.outbox_relay import OutboxRelay, RelayConfig
from afirgen_fir.service_layer.ports import Change, OutboxEntry, StoredDocument
from afirgen_runtime.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from fontTools import ttLib

from chaos.mesh import alive
from tests.unit.fakes import FakeFirRepository
from tests.waiting import until, until_exited

NOW = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)


def _fir(**kwargs: Any) -> Fir:
    fir = Fir(
        id="0b5c7a52-9f0e-4c53-9d35-8b1b1f2f7f1e",
        fir_number="DL-CP-01/2026/00007",
        station=Station("DL-CP-01", "Connaught Place", "New Delhi", "Delhi"),
        complainant=Complainant(name="Asha Verma", phone="+919810012345"),
        legal_sections=[LegalSectionRef("BNS", "304", "Snatching", "")],
        summary="Phone snatched",
        revision=2,
        create_time=NOW,
    )
    for key, value in kwargs.items():
        setattr(fir, key, value)
    return fir


def test_a_new_fir_is_rendered_and_needs_no_roll_up() -> None:
    # Counts change in the write's own transaction: no job per write recounts anything.
    created = jobs.jobs_for_change("CREATED", _fir(revision=1), [])
    assert [(j.type, j.priority) for j in created] == [("fir.render_document", 5)]
    assert created[0].payload == {"fir_id": _fir().id, "revision": 1}


def test_finalization_renders_and_notifies() -> None:
    final = jobs.jobs_for_change("FINALIZED", _fir(status=FirStatus.FINALIZED), ["status"])
    assert [(j.type, j.priority) for j in final] == [("fir.render_document", 6), ("fir.notify_finalized", 7)]
    assert final[0].payload == {"fir_id": _fir().id, "revision": 2}


def test_every_edit_rerenders_and_none_recounts() -> None:
    for changed in (["summary"], ["legal_sections"]):
        assert [j.type for j in jobs.jobs_for_change("UPDATED", _fir(), changed)] == ["fir.render_document"]


def test_the_notification_carries_no_personal_data() -> None:
    body = jobs.notification_for(_fir(status=FirStatus.FINALIZED, finalize_time=NOW))
    text = json.dumps(body)
    assert body["fir_number"] == "DL-CP-01/2026/00007" and body["status"] == "FINALIZED"
    assert "Asha" not in text and "9810012345" not in text


async def test_webhook_is_signed_over_timestamp_and_body() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        note = await WebhookNotifier("http://hook/x", "s3cret", client).send({"event": "e", "n": 1}, "key-1")
    request = seen[0]
    ts = request.headers["x-afirgen-timestamp"]
    expected = hmac.new(b"s3cret", ts.encode() + b"." + request.content, hashlib.sha256).hexdigest()
    assert request.headers["x-afirgen-signature"] == f"sha256={expected}"
    assert request.headers["idempotency-key"] == "key-1" and note == "webhook answered 204"


@pytest.mark.parametrize(("status", "error"), [(500, Unavailable), (429, Unavailable), (400, FailedPrecondition)])
async def test_webhook_answers_decide_retry_or_failure(status: int, error: type[Exception]) -> None:
    transport = httpx.MockTransport(lambda _: httpx.Response(status))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(error):
            await WebhookNotifier("http://hook/x", "s", client).send({}, "k")


async def test_unreachable_webhook_retries() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        with pytest.raises(Unavailable):
            await WebhookNotifier("http://hook/x", "s", client).send({}, "k")


class FakeDocuments:
    """Documents and daily counts."""

    def __init__(self) -> None:
        self.docs: dict[str, StoredDocument] = {}
        self.rollups: list[tuple[date, str]] = []

    async def document(self, fir_id: str) -> StoredDocument | None:
        return self.docs.get(fir_id)

    async def revision(self, fir_id: str) -> int | None:
        stored = self.docs.get(fir_id)
        return None if stored is None else stored.revision

    async def save_document(self, fir_id: str, revision: int, finalized: bool, content: bytes) -> int:
        current = self.docs.get(fir_id)
        if current is None or revision >= current.revision:
            self.docs[fir_id] = StoredDocument(fir_id, revision, content, "")
        return self.docs[fir_id].revision

    async def rollup(self, day: date, station: str) -> int:
        self.rollups.append((day, station))
        return 2


class FakeNotifier:
    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, Any], str]] = []

    async def send(self, body: dict[str, Any], idempotency_key: str) -> str:
        self.sent.append((body, idempotency_key))
        return "ok"


async def _no_pdf(fir: Fir) -> bytes:
    return b""


async def _stored_fir(repo: FakeFirRepository) -> Fir:
    fir, _ = await repo.create(_fir(id=""), action="CREATED", idempotency=None, change=Change("t", "r"))
    return fir


async def test_render_is_idempotent_and_downloads_wait_for_the_current_revision() -> None:
    repo, docs = FakeFirRepository(lambda: NOW), FakeDocuments()
    fir = await _stored_fir(repo)
    renders: list[int] = []

    async def render(fir: Fir) -> bytes:
        renders.append(fir.revision)
        return b"%PDF-1.4 x"

    handlers = FirJobHandlers(repo, docs, docs, render, None)
    downloads = FirDocuments(repo, docs)
    with pytest.raises(FailedPrecondition) as caught:
        await downloads.fetch(fir.id)
    assert caught.value.reason == "DOCUMENT_NOT_READY"
    await handlers.handle("fir.render_document", {"fir_id": fir.id}, "k")
    note = await handlers.handle("fir.render_document", {"fir_id": fir.id}, "k")
    assert renders == [1] and "up to date" in note
    document = await downloads.fetch(fir.id)
    assert document.content.startswith(b"%PDF") and document.filename.endswith(".pdf")


async def test_notify_sends_only_finalized_firs_and_without_a_webhook_does_nothing() -> None:
    repo, docs, notifier = FakeFirRepository(lambda: NOW), FakeDocuments(), FakeNotifier()
    fir = await _stored_fir(repo)
    handlers = FirJobHandlers(repo, docs, docs, _no_pdf, notifier)
    with pytest.raises(InvalidArgument):
        await handlers.handle("fir.notify_finalized", {"fir_id": fir.id}, "k")
    repo.firs[fir.id].status = FirStatus.FINALIZED
    await handlers.handle("fir.notify_finalized", {"fir_id": fir.id}, "key-9")
    assert notifier.sent[0][0]["fir_number"] == fir.fir_number and notifier.sent[0][1] == "key-9"
    silent = FirJobHandlers(repo, docs, docs, _no_pdf, None)
    assert await silent.handle("fir.notify_finalized", {"fir_id": fir.id}, "k") == "no webhook configured"


async def test_a_job_waits_for_its_turn_before_any_work() -> None:
    repo, docs = FakeFirRepository(lambda: NOW), FakeDocuments()
    turn = asyncio.Event()

    async def pace() -> None:
        await turn.wait()

    handlers = FirJobHandlers(repo, docs, docs, _no_pdf, None, pace=pace)
    job = asyncio.create_task(handlers.handle("fir.rollup_stats", {"day": "2026-11-28", "station": "X"}, "k"))
    await asyncio.sleep(0)  # the job runs up to its wait
    held = list(docs.rollups)
    turn.set()
    await job
    assert (held, docs.rollups) == ([], [(date(2026, 11, 28), "X")])


async def test_bad_job_arguments_fail_for_good() -> None:
    repo, docs = FakeFirRepository(lambda: NOW), FakeDocuments()
    handlers = FirJobHandlers(repo, docs, docs, _no_pdf, None)
    with pytest.raises(InvalidArgument) as caught:
        await handlers.handle("fir.unknown", {}, "k")
    assert caught.value.reason == "UNKNOWN_JOB_TYPE"
    with pytest.raises(InvalidArgument):
        await handlers.handle("fir.rollup_stats", {"day": "yesterday", "station": "X"}, "k")
    with pytest.raises(NotFound):
        await handlers.handle("fir.render_document", {"fir_id": "0b5c7a52-9f0e-4c53-9d35-000000000000"}, "k")
    assert await handlers.handle("fir.rollup_stats", {"day": "2026-11-28", "station": "X"}, "k")
    assert docs.rollups == [(date(2026, 11, 28), "X")]


class FakeOutbox:
    def __init__(self, entries: list[OutboxEntry]) -> None:
        self.entries = {e.pk: e for e in entries}
        self.sent: dict[int, str] = {}
        self.marks: list[int] = []
        """The rows each mark_sent call marked."""
        self.failures: list[tuple[int, float]] = []
        self.reads = 0

    async def pending(self, limit: int) -> list[OutboxEntry]:
        self.reads += 1
        return [e for pk, e in self.entries.items() if pk not in self.sent][:limit]

    async def mark_sent(self, sent: Sequence[tuple[int, str]]) -> None:
        self.marks.append(len(sent))
        self.sent.update(sent)

    async def mark_failed(self, pk: int, error: str, retry_in_seconds: float) -> None:
        self.failures.append((pk, retry_in_seconds))


class FlakyQueue:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.keys: list[str] = []

    async def enqueue(self, job: jobs.JobRequest, idempotency_key: str) -> str:
        self.keys.append(idempotency_key)
        if self.failures > 0:
            self.failures -= 1
            raise Unavailable("jobs service down")
        return f"job-for-{idempotency_key}"


async def test_relay_retries_with_the_same_key_until_the_jobs_service_answers() -> None:
    entry = OutboxEntry(1, jobs.JobRequest("fir.render_document", {"fir_id": "x"}, 5), "fir-outbox-1", 0)
    outbox, queue = FakeOutbox([entry]), FlakyQueue(failures=2)
    relay = OutboxRelay(outbox, queue, RelayConfig(poll_seconds=0.01))
    assert await relay.relay_once() == 0
    assert await relay.relay_once() == 0
    assert await relay.relay_once() == 1
    assert queue.keys == ["fir-outbox-1"] * 3 and outbox.sent == {1: "job-for-fir-outbox-1"}
    assert len(outbox.failures) == 2 and all(0 < delay <= 60 for _, delay in outbox.failures)


async def test_relay_marks_the_rows_of_a_batch_it_sent_in_one_call() -> None:
    entries = [OutboxEntry(pk, jobs.JobRequest("fir.rollup_stats", {}, 2), f"fir-outbox-{pk}", 0) for pk in (1, 2, 3)]
    outbox, queue = FakeOutbox(entries), FlakyQueue(failures=1)  # the first send fails
    await OutboxRelay(outbox, queue).relay_once()
    assert (outbox.marks, sorted(outbox.sent)) == ([2], [2, 3])


async def test_relay_sends_at_once_when_nudged() -> None:
    outbox, queue = FakeOutbox([]), FlakyQueue(failures=0)
    relay = OutboxRelay(outbox, queue, RelayConfig(poll_seconds=30))
    relay.start()
    await until(lambda: outbox.reads == 1, every=0.005, what="the relay's first (empty) read")
    outbox.entries[7] = OutboxEntry(7, jobs.JobRequest("fir.rollup_stats", {}, 2), "fir-outbox-7", 0)
    relay.nudge()
    # The next poll is 30 s away: only the nudge can send the row within 5 s.
    await until(lambda: 7 in outbox.sent, within=5, every=0.005, what="row 7 to be sent")
    await relay.stop()
    assert outbox.sent == {7: "job-for-fir-outbox-7"}


@pytest.mark.parametrize("fonts", [None, Fonts(None, None, None)], ids=["system-fonts", "core-font"])
def test_pdf_holds_the_form_and_the_fir_number(fonts: Fonts | None) -> None:
    content = render_fir_pdf(_fir(complainant=Complainant(name="रमेश कुमार")), fonts)
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)
    assert content.startswith(b"%PDF")
    for expected in ("FIRST INFORMATION REPORT", "DL-CP-01/2026/00007", "Connaught Place", "Act(s) and Section(s)"):
        assert expected in text
    assert "DRAFT" in text


def _text(content: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


def _widths(font: Path) -> dict[int, int]:
    """Advance width of each character ``font`` maps."""
    loaded = ttLib.TTFont(font)
    metrics = loaded["hmtx"].metrics
    return {code: metrics[glyph][0] for code, glyph in loaded.getBestCmap().items()}


SYSTEM_FONTS = Fonts.system()
needs_system_fonts = pytest.mark.skipif(
    SYSTEM_FONTS.regular is None, reason="DejaVu Sans is not installed (fonts-dejavu-core)"
)


LOHIT_ONLY = Fonts(None, None, Path("/fonts/Lohit-Devanagari.ttf"))


def test_an_fir_without_devanagari_is_set_without_lohit() -> None:
    assert fonts_for(_fir(), LOHIT_ONLY).devanagari is None


def test_an_fir_with_devanagari_keeps_lohit() -> None:
    fir = _fir(complainant=Complainant(name="\u0938\u0940\u0924\u093e Verma"))  # Sita in Devanagari
    assert fonts_for(fir, LOHIT_ONLY).devanagari == LOHIT_ONLY.devanagari


@needs_system_fonts
def test_the_latin_cut_holds_every_latin_character_at_the_whole_fonts_width(tmp_path: Path) -> None:
    assert SYSTEM_FONTS.regular is not None
    whole = _widths(SYSTEM_FONTS.regular)
    latin = {code for low, high in LATIN for code in range(low, high + 1) if code in whole}
    assert _widths(latin_cut(SYSTEM_FONTS.regular, tmp_path)) == {code: whole[code] for code in latin}


@needs_system_fonts
def test_an_english_fir_is_set_in_the_latin_cut() -> None:
    assert SYSTEM_FONTS.regular is not None
    chosen = fonts_for(_fir(), SYSTEM_FONTS)
    assert chosen.regular == latin_cut(SYSTEM_FONTS.regular) != SYSTEM_FONTS.regular


@needs_system_fonts
def test_an_fir_with_a_character_python_does_not_print_is_set_in_the_whole_fonts() -> None:
    chosen = fonts_for(_fir(complainant=Complainant(name="Asha\u2003Verma")), SYSTEM_FONTS)  # EM SPACE
    assert chosen.regular == SYSTEM_FONTS.regular


@needs_system_fonts
def test_an_fir_with_a_character_outside_the_cut_is_printed_with_it() -> None:
    content = render_fir_pdf(_fir(complainant=Complainant(name="Ωmega Stavros")), SYSTEM_FONTS)
    assert "Ωmega Stavros" in _text(content)


@needs_system_fonts
def test_a_cut_is_not_kept_where_other_users_may_write(tmp_path: Path) -> None:
    assert SYSTEM_FONTS.regular is not None
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    assert latin_cut(SYSTEM_FONTS.regular, shared) == SYSTEM_FONTS.regular


@contextlib.asynccontextmanager
async def _renderer(fonts: Fonts | None = None, **options: Any) -> AsyncIterator[ProcessPdfRenderer]:
    """A process renderer (the system's fonts unless given) whose children are gone after the block."""
    renderer = ProcessPdfRenderer(fonts or Fonts(None, None, None), **options)
    try:
        yield renderer
    finally:
        await renderer.aclose()


async def test_the_process_renderer_lays_out_the_same_pdf_as_this_process() -> None:
    # The child gets the FIR in the cache's stored form: nothing the form prints is lost on the way.
    fir = _fir(complainant=Complainant(name="रमेश कुमार", phone="+919810012345", address="12 Janpath"))
    async with _renderer() as renderer:
        content = await renderer(fir)
    assert _text(content) == _text(render_fir_pdf(fir, Fonts(None, None, None)))


async def test_renderer_children_exit_when_idle() -> None:
    async with _renderer(idle_seconds=0.2) as renderer:
        await renderer(_fir())
        started = renderer.pids
        left = await until_exited(started, within=10, what="the idle renderer children to exit")
        assert started and left == []


async def test_aclose_returns_once_the_children_have_exited() -> None:
    renderer = ProcessPdfRenderer(Fonts(None, None, None), workers=2)
    await asyncio.gather(renderer(_fir()), renderer(_fir()))
    started = renderer.pids
    await renderer.aclose()
    assert started and [pid for pid in started if alive(pid)] == []


async def test_children_still_exit_when_idle_after_a_render_was_cancelled_waiting_for_its_turn() -> None:
    async with _renderer(workers=1, idle_seconds=0.2) as renderer:
        first = asyncio.create_task(renderer(_fir()))
        waiting = asyncio.create_task(renderer(_fir()))
        await asyncio.sleep(0)  # both started: the second waits for the only child
        waiting.cancel()
        await first
        stopped = await until(lambda: renderer.running, lambda up: not up, within=10, what="the idle renderer to stop")
        assert stopped is False


async def test_a_layout_that_fails_in_the_child_reaches_the_caller() -> None:
    async with _renderer(Fonts(Path("/nonexistent/DejaVuSans.ttf"), None, None)) as renderer:
        with pytest.raises(RenderFailed, match="DejaVuSans"):
            await renderer(_fir())


@pytest.fixture
async def renderer_whose_child_died() -> AsyncIterator[ProcessPdfRenderer]:
    """A renderer that laid out one document, then had its child killed."""
    async with _renderer() as renderer:
        await renderer(_fir())
        (pid,) = renderer.pids
        os.kill(pid, signal.SIGKILL)
        await until_exited([pid], within=10, what="the child to die")
        yield renderer


async def test_a_render_on_a_child_that_died_is_unavailable(renderer_whose_child_died: ProcessPdfRenderer) -> None:
    with pytest.raises(Unavailable):
        await renderer_whose_child_died(_fir())


async def test_the_render_after_a_child_died_starts_another(renderer_whose_child_died: ProcessPdfRenderer) -> None:
    with contextlib.suppress(Unavailable):
        await renderer_whose_child_died(_fir())
    content = await renderer_whose_child_died(_fir())
    assert "DL-CP-01/2026/00007" in _text(content)


def test_a_render_on_a_child_that_died_is_unavailable_on_the_services_event_loop() -> None:
    # The services run on uvloop, which refuses to write to the closed pipe of a child that has
    # exited (a RuntimeError) where asyncio's own loop drops the write and the read ends.
    async def render_after_the_child_was_reaped() -> None:
        async with _renderer() as renderer:
            await renderer(_fir())
            (pid,) = renderer.pids
            os.kill(pid, signal.SIGKILL)
            await until(
                lambda: Path(f"/proc/{pid}").exists(),
                lambda seen: not seen,
                within=10,
                what="the loop to reap the child",
            )
            await renderer(_fir())

    with pytest.raises(Unavailable):
        uvloop.run(render_after_the_child_was_reaped())


_FORK_WITNESS: list[int] = []
"""The write end of a pipe the at-fork handler below writes to in a forked child, while a test listens."""


def _witness_fork() -> None:
    for fd in _FORK_WITNESS:
        os.write(fd, b"x")


os.register_at_fork(after_in_child=_witness_fork)


def test_a_child_starts_without_this_process_s_fork_handlers_on_the_services_event_loop() -> None:
    # uvloop's own spawn runs the interpreter's at-fork handlers in the child before its exec
    # (uvloop issue 749): in fir that is OpenTelemetry's batch span processor starting a thread in
    # the fork of a process full of gRPC's threads. A child must start the way subprocess starts one.
    read, write = os.pipe()
    _FORK_WITNESS.append(write)
    try:

        async def render() -> None:
            async with _renderer() as renderer:
                await renderer(_fir())

        uvloop.run(render())
    finally:
        _FORK_WITNESS.remove(write)
        os.close(write)
    with os.fdopen(read, "rb") as witnessed:
        assert witnessed.read() == b""


async def test_a_render_after_the_idle_exit_starts_the_children_again() -> None:
    async with _renderer(idle_seconds=0.2) as renderer:
        await renderer(_fir())
        await until(lambda: renderer.running, lambda up: not up, within=10, what="the idle renderer to stop")
        content = await renderer(_fir())
    assert "DL-CP-01/2026/00007" in pypdf.PdfReader(io.BytesIO(content)).pages[0].extract_text()


async def _rest_after_a_document(**options: Any) -> tuple[float, float]:
    """The CPU a child spent on a document, and the wall time until its next document was done."""
    async with _renderer(**options) as renderer:
        await renderer(_fir())  # the child's start and its import of fpdf are not the document's CPU
        before = renderer.cpu_seconds
        await renderer(_fir())
        finished, spent = time.monotonic(), renderer.cpu_seconds - before
        await renderer(_fir())
        return spent, time.monotonic() - finished


async def test_a_child_rests_after_a_document_so_it_uses_at_most_its_share_of_a_core() -> None:
    spent, waited = await _rest_after_a_document(cpu_share=0.1)
    # A share of 0.1: nine times the previous document's CPU before the next one starts.
    assert waited >= 9 * spent > 0


async def test_while_the_service_is_busy_a_child_rests_for_its_busy_share() -> None:
    # Quiet, a share of 1 would start the next document at once.
    spent, waited = await _rest_after_a_document(cpu_share=1.0, busy_cpu_share=0.05, busy=lambda: True)
    assert waited >= 19 * spent > 0


async def test_documents_render_in_children_at_a_low_cpu_priority() -> None:
    async with _renderer(workers=2, niceness=7) as renderer:
        await asyncio.gather(renderer(_fir()), renderer(_fir()), renderer(_fir()))
        children = renderer.pids
        assert 1 <= len(children) <= 2  # at most ``workers`` documents at once
        want = (min(19, os.getpriority(os.PRIO_PROCESS, 0) + 7), os.SCHED_IDLE)
        found = [(os.getpriority(os.PRIO_PROCESS, pid), os.sched_getscheduler(pid)) for pid in children]
        assert found == [want] * len(children)


async def test_a_document_starved_past_its_patience_leaves_sched_idle_until_it_answers() -> None:
    # No patience at all: every document waits past it, its child is promoted, then put back.
    async with _renderer(patience=0) as renderer:
        await renderer(_fir())
        await renderer(_fir())
        (child,) = renderer.pids
        assert (renderer.promotions, os.sched_getscheduler(child)) == (2, os.SCHED_IDLE)


async def test_a_document_answered_within_its_patience_stays_at_sched_idle() -> None:
    async with _renderer(patience=60) as renderer:
        await renderer(_fir())
        assert renderer.promotions == 0


async def test_a_render_cancelled_mid_document_leaves_its_child_warm_for_the_next() -> None:
    async with _renderer() as renderer:
        await renderer(_fir())
        (child,) = renderer.pids
        given_up = asyncio.create_task(renderer(_fir()))
        await until(renderer._slots.locked, every=0, what="the document handed to the child")
        given_up.cancel()
        await renderer(_fir())
        assert renderer.pids == [child]
