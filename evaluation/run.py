"""Draft every labelled complaint through a real stack and score the drafts.

    make eval                                   # SmolLM2 (the default model), every case
    .venv/bin/python -m evaluation --model gemma3
    .venv/bin/python -m evaluation --short      # the six cases the test suite also runs

A stack of its own is started on free ports (MariaDB, Redis, Keycloak, the
model servers, the services, Envoy) and stopped at the end; every complaint
goes through ``POST /v1/firs:generate`` at the edge with an officer's token,
one at a time, as typed text, speech (espeak-ng) or a scanned page (Pillow).
The report (Markdown, a chart, the raw scores) goes to
``evaluation/reports/<model>/``. Exit status 1 when any draft has a grounding
violation, an invented person or a contradiction (a case that made no draft
at all, such as speech the recogniser could not read, is reported, not failed).
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from evaluation import metrics, report
from evaluation.media import DEVANAGARI_FONT, page_png, speech_wav
from scripts.devstack.config import LLMS, StackConfig
from scripts.devstack.edge import RateLimits
from scripts.devstack.identity import IdentityProvider
from scripts.devstack.stack import Stack

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"
SHORT = (
    "c01-motorcycle-theft",
    "c06-dowry-cruelty",
    "c08-hit-and-run",
    "c11-hindi-phone-theft",
    "w22-hockey-stick-attack",
    "w47-accountant-breach-of-trust",
)
"""Six cases for the test suite: English and Hindi, named and unknown offenders, a death, a near-death."""


def load_cases(short: bool = False) -> list[dict[str, Any]]:
    """The labelled cases (shared first), or only the short set."""
    cases = [json.loads(line) for path in sorted(CASES.glob("*.jsonl"), reverse=True) for line in path.open()]
    return [c for c in cases if c["id"] in SHORT] if short else cases


def request_body(case: dict[str, Any], station: str) -> dict[str, Any]:
    """The generation request for a case, in its input form (text, speech or a scanned page)."""
    complaint, language = case["complaint"], case["language"]
    person = case["complainant"]
    body: dict[str, Any] = {
        "language": language,
        "station": {"code": station, "name": "Evaluation Station", "district": "Evaluation District"},
        "complainant": {"name": person["name"], "phone": person.get("phone", ""), "address": person.get("address", "")},
    }
    kind = case.get("input", "text")
    if kind == "audio":
        body["audio"] = base64.b64encode(speech_wav(complaint, "hi" if language == "hi" else "en-us")).decode()
    elif kind == "image":
        words = complaint.split()
        lines = "\n".join(" ".join(words[i : i + 9]) for i in range(0, len(words), 9))
        font = DEVANAGARI_FONT if language == "hi" else None
        body["image"] = base64.b64encode(page_png(lines, font) if font else page_png(lines)).decode()
    else:
        body["text"] = complaint
    return body


def draft_all(base_url: str, token: str, station: str, cases: list[dict[str, Any]]) -> Iterator[metrics.Score]:
    """Generate and score each case in turn."""
    headers = {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=300) as client:
        for case in cases:
            body = request_body(case, station)
            started = time.perf_counter()
            resp = client.post("/v1/firs:generate", json=body, headers={"Idempotency-Key": f"eval-{uuid.uuid4()}"})
            seconds = time.perf_counter() - started
            if resp.status_code != 200:
                failed = metrics.Score(case["id"], case["language"], case.get("input", "text"), seconds=seconds)
                failed.error = f"{resp.status_code}: {resp.text[:300]}"
                yield failed
                continue
            yield metrics.score(case, resp.json(), seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation", description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(LLMS), default="smollm2")
    parser.add_argument("--llm-threads", type=int, default=2, help="LLM server threads (default 2: a quiet machine)")
    parser.add_argument("--short", action="store_true", help="only the six cases of the test suite")
    parser.add_argument("--out", type=Path, default=HERE / "reports")
    args = parser.parse_args(argv)

    cases = load_cases(args.short)
    run_dir = Path(tempfile.mkdtemp(prefix="afirgen-eval-"))
    # The evaluation measures drafting, one request at a time: the edge's per-caller limits stay out of it.
    limits = RateLimits(generations_per_minute=6000, generation_burst=100)
    config = dataclasses.replace(
        StackConfig.for_tests(run_dir), llm=args.model, llm_threads=args.llm_threads, rate_limits=limits
    )
    stack = Stack(config, owned=True)
    # A SIGTERM (a timeout, a stopped job) unwinds like Ctrl-C, so the stack is destroyed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        stack.up()
        station = "EVAL-" + uuid.uuid4().hex[:6].upper()
        with IdentityProvider(stack.cfg.idp_url, stack.cfg.idp_admin_password) as idp:
            idp.ensure_officer(f"eval-{station.lower()}", "sho", station, "Evaluation District")
            token = idp.token(f"eval-{station.lower()}")
        scores = []
        for score in draft_all(stack.cfg.base_url, token, station, cases):
            scores.append(score)
            mark = "ok" if not (score.error or score.grounding_violations or score.invented_persons) else "FAIL"
            print(f"{score.case:40} {score.seconds:6.1f}s {mark} {score.error}", flush=True)
        rejected = report.set_aside(run_dir / "logs" / "fir.log")
    finally:
        stack.destroy()
    out = args.out / args.model / ("short" if args.short else "full")
    written = report.write(out, args.model, args.llm_threads, scores, rejected)
    print(f"report: {written}")
    print(report.headline(scores))
    broken = [s for s in scores if s.grounding_violations or s.invented_persons or s.contradictions]
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
