"""The operator's view (`make observe`, scripts/devstack/observe.py): Prometheus scraping the
test stack with the alert rules loaded, Jaeger holding its traces, and their pages as headless
Chromium renders them.

Prometheus and Jaeger run on free ports under the observe supervisord of the test stack. The
stack's spans go to the session's OTLP receiver, which passes every export on to this Jaeger
(the services of `make observe` send theirs to Jaeger directly, over the same protocol)."""

from __future__ import annotations

import html
import json
import re
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from scripts.devstack.config import REPO
from scripts.devstack.observe import PROMETHEUS_DIR, SCRAPE_JOBS, ObserveConfig, Observer, install_jaeger
from scripts.devstack.stack import Stack
from tests import browser
from tests.e2e.fir_helpers import fir_body
from tests.e2e.test_tracing import trace_of
from tests.otlp_receiver import OtlpReceiver
from tests.waiting import until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]
ARTIFACTS = REPO / ".run" / "artifacts" / "observe"
"""Screenshots the tests take, kept after the run for a person to look at."""


@pytest.fixture(scope="module")
def observer(stack: Stack, otlp: OtlpReceiver) -> Iterator[ObserveConfig]:
    """Prometheus and Jaeger of the test stack, up; the stack's spans reach Jaeger."""
    cfg = ObserveConfig.for_tests(stack.cfg)
    running = Observer(cfg)
    running.up(install_jaeger())  # the first run on a machine builds Jaeger (minutes)
    otlp.forward_to(cfg.otlp_endpoint)
    yield cfg
    otlp.forward_to(None)
    running.down()


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - loopback
        return json.loads(resp.read())


def _targets(cfg: ObserveConfig) -> dict[tuple[str, str], str]:
    """(scrape job, instance) -> health of that target, from Prometheus' API."""
    active = _get_json(f"{cfg.prometheus_url}/api/v1/targets")["data"]["activeTargets"]
    return {(t["labels"]["job"], t["labels"]["instance"]): t["health"] for t in active}


async def test_the_prometheus_targets_page_shows_every_service_up(observer: ObserveConfig) -> None:
    # Every target discovered and scraped once at least (a health other than "unknown").
    await until(
        lambda: _targets(observer),
        lambda t: len(t) == sum(map(len, SCRAPE_JOBS.values())) and "unknown" not in t.values(),
        within=60,
        what="a first scrape of every target",
    )
    page = browser.dom(f"{observer.prometheus_url}/classic/targets")  # Debian ships the classic UI
    # The page has a section per job, headed "<job> (n/n up)".
    shown = dict(re.findall(r"([\w-]+) \((\d+/\d+) up\)", page))
    assert shown == {job: f"{len(ports)}/{len(ports)}" for job, ports in SCRAPE_JOBS.items()}, shown


async def test_prometheus_loaded_every_alert_rule(observer: ObserveConfig) -> None:
    groups = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())["groups"]
    expected = {rule["alert"] for group in groups for rule in group["rules"]}
    loaded = _get_json(f"{observer.prometheus_url}/api/v1/rules?type=alert")["data"]["groups"]
    assert {rule["name"] for group in loaded for rule in group["rules"]} == expected


async def _traced_request(rest: httpx.AsyncClient, otlp: OtlpReceiver, cfg: ObserveConfig, station: str) -> str:
    """Create an FIR; its trace id once Jaeger holds the trace's spans of every service."""
    resp = await rest.post("/v1/firs", json=fir_body(station))
    assert resp.status_code == 200, resp.text
    trace_id = await trace_of(otlp, resp.headers["x-request-id"])

    def in_jaeger() -> set[str]:
        try:
            [trace] = _get_json(f"{cfg.jaeger_url}/api/traces/{trace_id}")["data"]
        except OSError:  # 404 until its first span arrives
            return set()
        return {trace["processes"][span["processID"]]["serviceName"] for span in trace["spans"]}

    wanted = {"afirgen-edge", "afirgen-fir", "afirgen-jobs-worker"}
    await until(in_jaeger, lambda services: wanted <= services, within=90, every=0.5, what=f"trace {trace_id}")
    return trace_id


def _spans_in_jaeger(cfg: ObserveConfig, trace_id: str) -> list[tuple[str, str]]:
    [trace] = _get_json(f"{cfg.jaeger_url}/api/traces/{trace_id}")["data"]
    return sorted((trace["processes"][s["processID"]]["serviceName"], s["operationName"]) for s in trace["spans"])


async def test_a_requests_trace_page_lists_every_span_of_the_request(
    rest: httpx.AsyncClient, otlp: OtlpReceiver, observer: ObserveConfig, station: str
) -> None:
    trace_id = await _traced_request(rest, otlp, observer, station)
    before = Counter(_spans_in_jaeger(observer, trace_id))
    page = browser.dom(f"{observer.jaeger_url}/trace/{trace_id}")
    after = Counter(_spans_in_jaeger(observer, trace_id))  # the job's last spans may still be arriving
    shown = Counter(
        (html.unescape(service), html.unescape(operation))
        for service, operation in re.findall(r'<tr class="span" data-service="([^"]*)" data-operation="([^"]*)"', page)
    )
    assert not (before - shown) and not (shown - after), (before - shown, shown - after)


async def test_a_request_id_opens_the_requests_trace(
    rest: httpx.AsyncClient, otlp: OtlpReceiver, observer: ObserveConfig, station: str
) -> None:
    resp = await rest.post("/v1/firs", json=fir_body(station))
    assert resp.status_code == 200, resp.text
    request_id = resp.headers["x-request-id"]
    trace_id = await trace_of(otlp, request_id)
    await until(
        lambda: _spans_in_jaeger_or_none(observer, trace_id), within=60, every=0.5, what=f"trace {trace_id} in Jaeger"
    )
    page = browser.dom(f"{observer.jaeger_url}/?q={request_id}")
    assert f"<h1>Trace {trace_id}</h1>" in page


def _spans_in_jaeger_or_none(cfg: ObserveConfig, trace_id: str) -> list[tuple[str, str]]:
    try:
        return _spans_in_jaeger(cfg, trace_id)
    except OSError:
        return []


async def test_the_trace_page_screenshot_shows_a_drawn_waterfall(
    rest: httpx.AsyncClient, otlp: OtlpReceiver, observer: ObserveConfig, station: str
) -> None:
    trace_id = await _traced_request(rest, otlp, observer, station)
    shot = browser.screenshot(f"{observer.jaeger_url}/trace/{trace_id}", ARTIFACTS / "trace.png")
    share, colours = browser.ink(shot)
    # The header bar alone is 5% of the picture, an error line adds little; a drawn trace (rows of
    # text and coloured bars) covers 15% and more.
    assert share > 0.10 and colours > 50, (share, colours, str(Path(shot)))
