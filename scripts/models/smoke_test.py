#!/usr/bin/env python3
"""End-to-end checks of the three local model servers, with timings.

Run it with the models venv's python (it needs Pillow to draw test images):

  .venv-models/bin/python scripts/models/smoke_test.py llm --url http://127.0.0.1:8090
  .venv-models/bin/python scripts/models/smoke_test.py asr --url http://127.0.0.1:8091
  .venv-models/bin/python scripts/models/smoke_test.py ocr --url http://127.0.0.1:8092

Each sub-command exits non-zero when a check fails and prints one JSON line
per check with the measured latency.  HTTP uses only urllib.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

# The speech and pages the checks send are made as the evaluation makes them.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from evaluation.media import char_accuracy, page_png, speech_wav, word_accuracy

FAILURES: list[str] = []


def report(name: str, ok: bool, **info) -> None:
    print(json.dumps({"check": name, "ok": ok, **info}, ensure_ascii=False), flush=True)
    if not ok:
        FAILURES.append(name)


def http(
    method: str, url: str, body: bytes | None = None, headers: dict | None = None, timeout: float = 120.0
) -> tuple[int, bytes, float]:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url}")
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - scheme checked above
            data = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        data = exc.read()
        status = exc.code
    return status, data, (time.perf_counter() - started) * 1000.0


def post_json(url: str, payload: dict, timeout: float = 120.0) -> tuple[int, dict, float]:
    status, data, ms = http("POST", url, json.dumps(payload).encode(), {"Content-Type": "application/json"}, timeout)
    try:
        parsed = json.loads(data)
    except json.JSONDecodeError:
        parsed = {"raw": data.decode("utf-8", "replace")}
    return status, parsed, ms


def similarity(expected: str, got: str) -> float:
    """Word accuracy, to three places."""
    return round(word_accuracy(expected, got), 3)


# --------------------------------------------------------------------- LLM
def check_llm(url: str, model: str) -> None:
    status, data, ms = http("GET", f"{url}/health")
    report("llm.health", status == 200, status=status, body=data.decode()[:200], latency_ms=round(ms, 1))

    # warm-up so that the timed request below does not pay one-off costs
    post_json(
        f"{url}/v1/chat/completions", {"model": model, "max_tokens": 4, "messages": [{"role": "user", "content": "Hi"}]}
    )

    payload = {
        "model": model,
        "temperature": 0,
        "max_tokens": 64,
        "messages": [
            {"role": "system", "content": "You are a concise assistant for police clerks."},
            {"role": "user", "content": "In one sentence, what is a First Information Report?"},
        ],
    }
    status, resp, ms = post_json(f"{url}/v1/chat/completions", payload)
    ok = status == 200 and bool(resp.get("choices", [{}])[0].get("message", {}).get("content"))
    usage = resp.get("usage", {})
    timings = resp.get("timings", {})
    report(
        "llm.chat",
        ok,
        status=status,
        latency_ms=round(ms, 1),
        completion_tokens=usage.get("completion_tokens"),
        prompt_tokens=usage.get("prompt_tokens"),
        tokens_per_s=round(timings.get("predicted_per_second", 0.0), 1),
        prompt_tokens_per_s=round(timings.get("prompt_per_second", 0.0), 1),
        end_to_end_tokens_per_s=round(usage.get("completion_tokens", 0) / (ms / 1000.0), 1) if ms else None,
        text=resp.get("choices", [{}])[0].get("message", {}).get("content", "")[:200],
    )

    schema = {
        "type": "object",
        "properties": {
            "complainant_name": {"type": "string"},
            "offence": {"type": "string", "enum": ["theft", "assault", "fraud", "other"]},
            "location": {"type": "string"},
        },
        "required": ["complainant_name", "offence", "location"],
        "additionalProperties": False,
    }
    payload = {
        "model": model,
        "temperature": 0,
        "max_tokens": 96,
        "response_format": {"type": "json_object", "schema": schema},
        "messages": [
            {"role": "system", "content": "Extract the fields as JSON."},
            {"role": "user", "content": "Ravi Kumar says his phone was stolen at Sector 5 market."},
        ],
    }
    status, resp, ms = post_json(f"{url}/v1/chat/completions", payload)
    content = resp.get("choices", [{}])[0].get("message", {}).get("content", "")
    try:
        obj = json.loads(content)
        ok = (
            status == 200
            and isinstance(obj, dict)
            and set(obj) == set(schema["required"])
            and obj["offence"] in schema["properties"]["offence"]["enum"]
        )
    except (json.JSONDecodeError, TypeError):
        obj, ok = None, False
    report("llm.json_schema", ok, status=status, latency_ms=round(ms, 1), content=content[:300])

    # OpenAI's newer json_schema form is accepted by llama-server too
    payload["response_format"] = {"type": "json_schema", "json_schema": {"name": "fir", "schema": schema}}
    status, resp, ms = post_json(f"{url}/v1/chat/completions", payload)
    content = resp.get("choices", [{}])[0].get("message", {}).get("content", "")
    try:
        ok = status == 200 and set(json.loads(content)) == set(schema["required"])
    except (json.JSONDecodeError, TypeError):
        ok = False
    report("llm.json_schema_openai_form", ok, status=status, latency_ms=round(ms, 1), content=content[:300])

    # small benchmark: same 64-token request 5x without the prompt cache
    lat, gen, pp = [], [], []
    for i in range(5):
        payload = {
            "model": model,
            "temperature": 0,
            "max_tokens": 64,
            "cache_prompt": False,
            "messages": [{"role": "user", "content": f"Write two sentences about police station number {i + 1}."}],
        }
        status, resp, ms = post_json(f"{url}/v1/chat/completions", payload)
        if status != 200:
            break
        lat.append(ms)
        gen.append(resp.get("timings", {}).get("predicted_per_second", 0.0))
        pp.append(resp.get("timings", {}).get("prompt_per_second", 0.0))

    def med(xs: list[float]) -> float | None:
        return round(sorted(xs)[len(xs) // 2], 1) if xs else None

    report(
        "llm.bench",
        len(lat) == 5,
        requests=len(lat),
        max_tokens=64,
        median_latency_ms=med(lat),
        median_gen_tokens_per_s=med(gen),
        median_prompt_tokens_per_s=med(pp),
    )

    # streaming (server-sent events)
    payload = {
        "model": model,
        "stream": True,
        "temperature": 0,
        "max_tokens": 32,
        "messages": [{"role": "user", "content": "Count from one to five."}],
    }
    req = urllib.request.Request(  # noqa: S310 - url checked by http() above
        f"{url}/v1/chat/completions",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    started = time.perf_counter()
    first_ms, chunks, text, done = None, 0, "", False
    with urllib.request.urlopen(req, timeout=120) as resp:  # noqa: S310
        ctype = resp.headers.get("Content-Type", "")
        for raw in resp:
            line = raw.decode("utf-8", "replace").strip()
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                done = True
                break
            delta = json.loads(data)["choices"][0].get("delta", {}).get("content") or ""
            if delta and first_ms is None:
                first_ms = (time.perf_counter() - started) * 1000.0
            chunks += 1
            text += delta
    total_ms = (time.perf_counter() - started) * 1000.0
    report(
        "llm.stream",
        done and chunks > 1,
        content_type=ctype,
        chunks=chunks,
        time_to_first_token_ms=round(first_ms or 0, 1),
        latency_ms=round(total_ms, 1),
        text=text[:200],
    )


# --------------------------------------------------------------------- ASR
def multipart(fields: dict, file_field: str, filename: str, content: bytes, ctype: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for key, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
    out.write(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'.encode()
    )
    out.write(content)
    out.write(f"\r\n--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def check_asr(url: str, sentence: str) -> None:
    status, data, ms = http("GET", f"{url}/health")
    report("asr.health", status == 200, status=status, body=data.decode()[:200], latency_ms=round(ms, 1))
    if not shutil.which("espeak-ng"):
        report("asr.espeak", False, error="espeak-ng not installed")
        return
    audio = speech_wav(sentence)
    seconds = (len(audio) - 44) / (22050 * 2)
    body, ctype = multipart(
        {"model": "whisper-1", "language": "en", "response_format": "json"}, "file", "speech.wav", audio, "audio/wav"
    )
    for label in ("first", "second"):
        status, data, ms = http("POST", f"{url}/v1/audio/transcriptions", body, {"Content-Type": ctype})
        try:
            text = json.loads(data).get("text", "")
        except json.JSONDecodeError:
            text = data.decode("utf-8", "replace")
        acc = similarity(sentence, text)
        report(
            f"asr.transcribe.{label}",
            status == 200 and acc >= 0.8,
            status=status,
            latency_ms=round(ms, 1),
            audio_seconds=round(seconds, 2),
            real_time_factor=round(ms / 1000.0 / seconds, 3),
            word_accuracy=acc,
            expected=sentence,
            text=text.strip(),
        )


# --------------------------------------------------------------------- OCR
def report_read(name: str, status: int, resp: dict, ms: float, accuracy: float, bar: float, **info) -> None:
    """One OCR check: passes with HTTP 200 and ``accuracy`` at ``bar`` or above."""
    report(
        name,
        status == 200 and accuracy >= bar,
        status=status,
        latency_ms=round(ms, 1),
        server_ms=resp.get("duration_ms"),
        **info,
    )


def find_font(candidates: list[str]) -> str | None:
    for path in candidates:
        if os.path.exists(path):
            return path
    return None


def check_ocr(url: str) -> None:
    status, data, ms = http("GET", f"{url}/health")
    report("ocr.health", status == 200, status=status, body=data.decode()[:300], latency_ms=round(ms, 1))

    from PIL import features

    raqm = features.check("raqm")

    eng_text = (
        "FIRST INFORMATION REPORT\nComplainant: Ravi Kumar, Sector 5 market\nMobile phone stolen on 12 March 2024"
    )
    latin = find_font(
        ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"]
    )
    png = page_png(eng_text, latin)
    # raw body
    status, data, ms = http("POST", f"{url}/v1/ocr?languages=eng", png, {"Content-Type": "image/png"})
    resp = json.loads(data)
    acc = similarity(eng_text, resp.get("text", ""))
    report_read("ocr.english.raw", status, resp, ms, acc, 0.9, word_accuracy=acc, text=resp.get("text", "").strip())
    # JSON body
    status, resp, ms = post_json(
        f"{url}/v1/ocr", {"image_base64": base64.b64encode(png).decode(), "languages": ["eng"]}
    )
    acc = similarity(eng_text, resp.get("text", ""))
    report_read("ocr.english.json", status, resp, ms, acc, 0.9, word_accuracy=acc)

    hin_text = "प्रथम सूचना रिपोर्ट\nशिकायतकर्ता का मोबाइल फोन बाजार से चोरी हो गया"
    deva = find_font(
        [
            "/usr/share/fonts/truetype/lohit-devanagari/Lohit-Devanagari.ttf",
            "/usr/share/fonts/truetype/noto/NotoSansDevanagari-Regular.ttf",
            "/usr/share/fonts/opentype/noto/NotoSansDevanagari-Regular.ttf",
        ]
    )
    if deva is None:
        report("ocr.hindi", False, error="no Devanagari font (apt-get install fonts-lohit-deva)")
    else:
        png = page_png(hin_text, deva)
        status, resp, ms = post_json(
            f"{url}/v1/ocr", {"image_base64": base64.b64encode(png).decode(), "languages": ["hin", "eng"]}
        )
        # character accuracy is more telling for Devanagari
        char_acc = round(char_accuracy(hin_text, resp.get("text", "")), 3)
        report_read(
            "ocr.hindi",
            status,
            resp,
            ms,
            char_acc,
            0.8,
            word_accuracy=similarity(hin_text, resp.get("text", "")),
            char_accuracy=char_acc,
            pillow_raqm=raqm,
            text=resp.get("text", "").strip(),
        )

    # rejections
    for name, body, headers in (
        ("empty", b"", {"Content-Type": "image/png"}),
        ("not_image", b"hello, this is not an image", {"Content-Type": "application/octet-stream"}),
        ("bad_json", b"{not json", {"Content-Type": "application/json"}),
        (
            "bad_language",
            json.dumps({"image_base64": base64.b64encode(png).decode(), "languages": ["xx"]}).encode(),
            {"Content-Type": "application/json"},
        ),
    ):
        status, data, ms = http("POST", f"{url}/v1/ocr", body, headers)
        try:
            err = json.loads(data).get("error", {}).get("message")
        except json.JSONDecodeError:
            err = None
        report(f"ocr.reject.{name}", status == 400 and bool(err), status=status, error=err)
    status, data, _ = http("GET", f"{url}/health")
    max_bytes = json.loads(data).get("max_bytes", 10 * 1024 * 1024)
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (max_bytes + 1)
    try:
        status, data, ms = http("POST", f"{url}/v1/ocr", big, {"Content-Type": "image/png"})
        err = json.loads(data).get("error", {}).get("message")
    except (ConnectionError, urllib.error.URLError) as exc:  # server may close before reading it all
        status, err = None, repr(exc)
    report("ocr.reject.oversized", status == 400, status=status, error=err)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("llm")
    p.add_argument("--url", default="http://127.0.0.1:8090")
    p.add_argument("--model", default="smollm2")
    p = sub.add_parser("asr")
    p.add_argument("--url", default="http://127.0.0.1:8091")
    p.add_argument(
        "--sentence",
        default="The complainant reported that his motorcycle was stolen "
        "from the market parking lot on Monday evening.",
    )
    p = sub.add_parser("ocr")
    p.add_argument("--url", default="http://127.0.0.1:8092")
    args = parser.parse_args()
    url = args.url.rstrip("/")
    if args.what == "llm":
        check_llm(url, args.model)
    elif args.what == "asr":
        check_asr(url, args.sentence)
    else:
        check_ocr(url)
    print(f"smoke_test {args.what}: {'FAILED ' + ', '.join(FAILURES) if FAILURES else 'all checks passed'}")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
