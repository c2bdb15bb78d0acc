import io
import json

import pytest
from afirgen_runtime import logging as runtime_logging
from afirgen_runtime.context import request_id_var
from afirgen_runtime.redaction import MASK, redact_text, redact_value
from afirgen_runtime.settings import LogSettings
from loguru import logger

from tests.waiting import until


@pytest.mark.parametrize(
    "text",
    [
        "call me on 9876543210",
        "call me on +91 98765 43210",
        "mail ravi.kumar@example.co.in today",
        "aadhaar 2345 6789 0123 given",
        "aadhaar 234567890123 given",
        "PAN ABCDE1234F",
    ],
)
def test_free_text_personal_data_is_masked(text: str) -> None:
    out = redact_text(text)
    assert MASK in out
    for secret in (
        "9876543210",
        "98765 43210",
        "ravi.kumar@example.co.in",
        "2345 6789 0123",
        "234567890123",
        "ABCDE1234F",
    ):
        assert secret not in out


def test_ordinary_numbers_survive() -> None:
    assert redact_text("FIR DL-CP-01/2026/00042 took 153 ms, 3 sections") == (
        "FIR DL-CP-01/2026/00042 took 153 ms, 3 sections"
    )


def test_sensitive_keys_are_masked_whole_at_any_depth() -> None:
    value = {"complainant": {"name": "Sita Devi"}, "fir": {"address": "4 Lake Road", "station": "PS1"}}
    out = redact_value(value)
    assert out == {"complainant": MASK, "fir": {"address": MASK, "station": "PS1"}}


def _capture(settings: LogSettings | None = None) -> io.StringIO:
    stream = io.StringIO()
    runtime_logging.configure("unit", settings or LogSettings(), stream=stream)
    return stream


def test_log_lines_are_json_with_request_id_and_redacted() -> None:
    stream = _capture()
    token = request_id_var.set("req-123")
    try:
        logger.bind(name="Ramesh Gupta", station="PS9").info("complaint from 9876543210")
    finally:
        request_id_var.reset(token)
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["service"] == "unit"
    assert line["request_id"] == "req-123"
    assert line["level"] == "INFO"
    assert line["module"] == __name__
    assert line["context"] == {"name": MASK, "station": "PS9"}
    assert "9876543210" not in stream.getvalue() and "Ramesh" not in stream.getvalue()


def test_exceptions_carry_type_and_redacted_stack() -> None:
    stream = _capture()
    try:
        raise ValueError("bad phone 9876543210")
    except ValueError:
        logger.exception("failed")
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["level"] == "ERROR"
    assert line["exception"]["type"] == "ValueError"
    assert "Traceback" in line["exception"]["stack"]
    assert "9876543210" not in stream.getvalue()


def test_module_levels_override_the_default() -> None:
    stream = _capture(LogSettings(level="WARNING", module_levels={__name__: "DEBUG"}))
    logger.debug("visible")
    assert "visible" in stream.getvalue()
    stream = _capture(LogSettings(level="WARNING"))
    logger.debug("hidden")
    assert stream.getvalue() == ""


def test_stdlib_logging_is_routed_into_json() -> None:
    import logging

    stream = _capture()
    logging.getLogger("some.library").warning("library says %s", "hi")
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["module"] == "some.library" and line["message"] == "library says hi"


def test_identifiers_are_not_mistaken_for_phone_numbers() -> None:
    text = "job 66ca4923-1234-4567-8912-ae1198765432 trace 4bf92f3577b34da6a3ce929d0e0e4736 phone 9876543210"
    out = redact_text(text)
    assert "66ca4923-1234-4567-8912-ae1198765432" in out and "4bf92f3577b34da6a3ce929d0e0e4736" in out
    assert "9876543210" not in out


def _access_line(request_id: str, method: str, code: str, duration_ms: float) -> str:
    """The access line written for a call of ``method`` with ``request_id``."""
    stream = _capture()
    token = request_id_var.set(request_id)
    try:
        runtime_logging.access(method, code, duration_ms)
    finally:
        request_id_var.reset(token)
    return stream.getvalue().splitlines()[-1]


def test_access_lines_have_the_shape_of_every_other_line() -> None:
    line = json.loads(_access_line("req-9", "/afirgen.fir.v1.FirService/GetFir", "OK", 1.25))
    del line["timestamp"]
    assert line == {
        "level": "INFO",
        "service": "unit",
        "module": "afirgen_runtime.interceptors",
        "request_id": "req-9",
        "trace_id": "",
        "message": "rpc",
        "context": {"method": "/afirgen.fir.v1.FirService/GetFir", "code": "OK", "duration_ms": 1.25},
    }


def test_an_access_line_is_the_text_json_dumps_writes_for_it() -> None:
    text = _access_line('req "9" ज़', '/a.B/"C"\n', "OK", 0.5)
    assert text == json.dumps(json.loads(text), ensure_ascii=False)


def test_access_lines_follow_the_interceptors_level() -> None:
    stream = _capture(LogSettings(module_levels={"afirgen_runtime.interceptors": "WARNING"}))
    runtime_logging.access("/m", "OK", 1.0)
    assert stream.getvalue() == ""


async def test_access_lines_written_inside_the_event_loop_reach_the_stream() -> None:
    stream = _capture()
    runtime_logging.access("/m", "OK", 1.0)
    await until(stream.getvalue, lambda text: '"message": "rpc"' in text, what="the batched access line")
