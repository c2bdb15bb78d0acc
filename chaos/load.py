"""The load a fault runs under, through the edge with officers' tokens, every call recorded.

- writers (one station each) create FIRs with an ``Idempotency-Key``; a create that fails is
  sent again with the same key until it is acknowledged, as a careful client does;
- one of every few acknowledged FIRs is finalized by its station house officer (the etag makes
  a repeat harmless), again until acknowledged;
- a reader reads acknowledged FIRs back (as an auditor, who sees every station) and lists them;
- a generator drafts a few FIRs from a complaint (typed, spoken or scanned), keyed too.

When the load's time is up, every key that was tried is tried until it is acknowledged (within
``drain_seconds``), so the audit knows exactly which writes the clients were told happened.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

KINDS = ("create", "read", "finalize", "generate")


class Tokens(Protocol):
    """Where the load's access tokens come from (an identity provider of the stack)."""

    def token(self, role: str, station: str = "") -> str:
        """An access token of an officer with ``role`` at ``station``."""
        ...


@dataclass(frozen=True)
class Call:
    """One request of the load and how it ended."""

    kind: str
    started: float
    """``time.monotonic()`` when it was sent."""
    ended: float
    status: int
    """HTTP status; 0 when no answer came (refused or broken connection, client timeout)."""
    reason: str
    """The ErrorInfo reason of a refusal, or the transport error's name."""

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class Ledger:
    """What the load did and what it was told."""

    calls: list[Call] = field(default_factory=list)
    acked: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Idempotency key -> the FIR the edge answered for it (creates and generations)."""
    unacked: set[str] = field(default_factory=set)
    """Keys tried but never acknowledged."""
    finalized: set[str] = field(default_factory=set)
    """FIR ids whose finalization was acknowledged."""
    stations: list[str] = field(default_factory=list)
    """Every station the load wrote to."""

    def failed(self, kind: str) -> list[Call]:
        """The calls of ``kind`` that did not succeed."""
        return [c for c in self.calls if c.kind == kind and not c.ok]


@dataclass(frozen=True)
class LoadShape:
    """How much of each kind of call the load makes."""

    writers: int = 4
    """Concurrent creators, each on a station of its own."""
    write_pause: float = 0.25
    """Pause of a writer after each acknowledged create (each create queues a render job that
    the audit waits for)."""
    read_pause: float = 0.05
    """Pause of the reader between two reads."""
    finalize_every: int = 3
    """One in this many acknowledged FIRs is finalized."""
    generations: int = 3
    """Generations drafted one after another (each may take many seconds)."""
    retry_pause: float = 0.2
    """Pause before a failed write is sent again."""
    drain_seconds: float = 60.0
    """After the load's time, how long unacknowledged writes are still sent again."""
    timeout_seconds: float = 60.0
    """Client timeout of a call (generations: three times as long)."""


def _reason(response: httpx.Response) -> str:
    try:
        details = response.json().get("details", [])
    except ValueError:
        return ""
    return next((str(d.get("reason", "")) for d in details if str(d.get("@type", "")).endswith("ErrorInfo")), "")


def fir_body(station: str, key: str) -> dict[str, Any]:
    """A CreateFir body for ``station`` (the key in the summary, for whoever reads the rows)."""
    return {
        "station": {"code": station, "name": "Chaos Station", "district": "Test District", "state": "Delhi"},
        "complainant": {"name": "Asha Verma", "phone": "+91 98100 12345"},
        "incident": {"occurred_from": "2026-11-01T18:30:00Z", "place": "bus stop"},
        "summary": f"Mobile phone snatched at the bus stop ({key})",
        "legal_sections": [{"act": "BNS", "section": "304", "title": "Snatching", "reason": "phone snatched"}],
    }


class MixedLoad:
    """One run of the load; ``run_id`` makes its stations and keys its own."""

    def __init__(
        self,
        base_url: str,
        tokens: Tokens,
        run_id: str,
        complaint: dict[str, str],
        shape: LoadShape | None = None,
    ) -> None:
        self._base_url = base_url
        self._tokens = tokens
        self._run = run_id
        self._complaint = complaint
        self._shape = shape or LoadShape()
        self.ledger = Ledger()
        self._finalize: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._until = 0.0
        self._drain_until = 0.0

    def _headers(self, role: str, station: str = "") -> dict[str, str]:
        return {"authorization": f"Bearer {self._tokens.token(role, station)}"}

    async def run(self, seconds: float, *, started: Callable[[], Awaitable[None]] | None = None) -> Ledger:
        """Load the stack for ``seconds`` (``started`` runs beside it: the fault), then drain."""
        shape = self._shape
        writers = [f"{self._run}-W{i}" for i in range(1, shape.writers + 1)]
        generator = f"{self._run}-G"
        self.ledger.stations = [*writers, generator]
        for station in self.ledger.stations:  # tokens first: the identity provider is not under test
            self._headers("sho", station)
        self._headers("auditor")
        timeout = httpx.Timeout(shape.timeout_seconds, connect=2.0)
        async with httpx.AsyncClient(base_url=self._base_url, timeout=timeout) as client:
            now = time.monotonic()
            self._until, self._drain_until = now + seconds, now + seconds + shape.drain_seconds
            tasks = [self._writer(client, station) for station in writers]
            tasks += [self._reader(client), self._finalizer(client), self._generator(client, generator)]
            if started is not None:
                tasks.append(started())
            await asyncio.gather(*tasks)
        return self.ledger

    def _running(self) -> bool:
        return time.monotonic() < self._until

    async def _call(self, kind: str, send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response | None:
        started = time.monotonic()
        try:
            response = await send()
        except httpx.HTTPError as exc:
            self.ledger.calls.append(Call(kind, started, time.monotonic(), 0, type(exc).__name__))
            return None
        reason = "" if response.status_code == 200 else _reason(response)
        self.ledger.calls.append(Call(kind, started, time.monotonic(), response.status_code, reason))
        return response

    async def _until_acknowledged(
        self, kind: str, send: Callable[[], Awaitable[httpx.Response]]
    ) -> dict[str, Any] | None:
        """Send until a 200 (the same request: keyed, or conditional on an etag) or the drain ends."""
        while time.monotonic() < self._drain_until:
            response = await self._call(kind, send)
            if response is not None and response.status_code == 200:
                answer: dict[str, Any] = response.json()
                return answer
            await asyncio.sleep(self._shape.retry_pause)
        return None

    async def _writer(self, client: httpx.AsyncClient, station: str) -> None:
        headers = self._headers("sho", station)
        for n in itertools.count(1):
            if not self._running():
                return
            key = f"{station}-{n}".lower()
            body = fir_body(station, key)
            keyed = headers | {"idempotency-key": key}
            fir = await self._until_acknowledged(
                "create", lambda body=body, keyed=keyed: client.post("/v1/firs", json=body, headers=keyed)
            )
            if fir is None:
                self.ledger.unacked.add(key)
                return
            self.ledger.acked[key] = fir
            if n % self._shape.finalize_every == 0:
                self._finalize.put_nowait(fir)
            await asyncio.sleep(self._shape.write_pause)

    async def _finalizer(self, client: httpx.AsyncClient) -> None:
        while self._running() or not self._finalize.empty():
            try:
                fir = await asyncio.wait_for(self._finalize.get(), timeout=0.2)
            except TimeoutError:
                continue
            headers = self._headers("sho", fir["station"]["code"])
            path, body = f"/v1/firs/{fir['id']}:finalize", {"etag": fir["etag"]}
            done = await self._until_acknowledged(
                "finalize", lambda path=path, body=body, headers=headers: client.post(path, json=body, headers=headers)
            )
            if done is not None:
                self.ledger.finalized.add(fir["id"])

    async def _reader(self, client: httpx.AsyncClient) -> None:
        headers = self._headers("auditor")
        for n in itertools.count():
            if not self._running():
                return
            if n % 5 == 0 or not self.ledger.acked:
                station = random.choice(self.ledger.stations)
                params = {"filter": f'station = "{station}"', "page_size": "10"}
                await self._call("read", lambda params=params: client.get("/v1/firs", params=params, headers=headers))
            else:
                path = f"/v1/firs/{random.choice(list(self.ledger.acked.values()))['id']}"
                await self._call("read", lambda path=path: client.get(path, headers=headers))
            await asyncio.sleep(self._shape.read_pause)

    async def _generator(self, client: httpx.AsyncClient, station: str) -> None:
        headers = self._headers("sho", station)
        body = {
            **self._complaint,
            "language": "en",
            "station": {"code": station, "name": "Chaos Station", "district": "Test District"},
            "complainant": {"name": "Sunita Devi", "phone": "9812345678"},
        }
        timeout = 3 * self._shape.timeout_seconds
        for n in range(1, self._shape.generations + 1):
            if not self._running():
                return
            key = f"{station}-{n}".lower()
            keyed = headers | {"idempotency-key": key}
            fir = await self._until_acknowledged(
                "generate",
                lambda keyed=keyed: client.post("/v1/firs:generate", json=body, headers=keyed, timeout=timeout),
            )
            if fir is None:
                self.ledger.unacked.add(key)
                return
            self.ledger.acked[key] = fir
