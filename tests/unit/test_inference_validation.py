"""Input checks of the inference proxy: formats by magic bytes, languages, prompts, schemas."""

from __future__ import annotations

import json

import pytest
from afirgen_inference.domain.json_output import output_problem, parse_schema
from afirgen_inference.domain.media import sniff_audio, sniff_image
from afirgen_inference.domain.validation import (
    InputLimits,
    validate_generate,
    validate_recognize,
    validate_transcribe,
)
from afirgen_runtime.errors import InvalidArgument

LIMITS = InputLimits(max_audio_bytes=1000, max_image_bytes=1000, max_prompt_chars=100, max_tokens=256)
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(16)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(16)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (WAV, "wav"),
        (b"OggS\x00\x02" + bytes(20), "ogg"),
        (b"ID3\x04\x00" + bytes(20), "mp3"),
        (b"\xff\xfb\x90\x64" + bytes(20), "mp3"),  # MPEG-1 layer III frame
        (b"\xff\xf3\x40\xc4", "mp3"),  # MPEG-2 layer III
        (b"\xff\xe9\x00\x00", None),  # reserved MPEG version
        (b"\xff\xd8\xff\xe0", None),  # a JPEG is not audio
        (b"RIFF\x24\x00\x00\x00AVI ", None),
        (b"fLaC\x00", None),
        (b"", None),
    ],
)
def test_sniff_audio(data: bytes, expected: str | None) -> None:
    assert sniff_audio(data) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [(PNG, "png"), (b"\xff\xd8\xff\xdb" + bytes(8), "jpeg"), (b"GIF89a", None), (b"%PDF-1.7", None), (b"", None)],
)
def test_sniff_image(data: bytes, expected: str | None) -> None:
    assert sniff_image(data) == expected


def violations(exc: pytest.ExceptionInfo[InvalidArgument]) -> dict[str, str]:
    return {v.field: v.description for v in exc.value.violations}


def test_transcribe_accepts_region_tags_and_refuses_bad_audio_and_languages() -> None:
    call = validate_transcribe(audio=WAV, language="en-IN", model="", served_model="whisper-1", limits=LIMITS)
    assert (call.audio_format, call.language, call.model) == ("wav", "en", "whisper-1")
    assert validate_transcribe(audio=WAV, language="", model="", served_model="w", limits=LIMITS).language == ""
    for audio, expected in ((b"", "is required"), (bytes(1001), "at most 1000"), (b"hello world", "unsupported")):
        with pytest.raises(InvalidArgument) as bad:
            validate_transcribe(audio=audio, language="en", model="", served_model="w", limits=LIMITS)
        assert expected in violations(bad)["audio"]
    with pytest.raises(InvalidArgument) as bad:
        validate_transcribe(audio=WAV, language="hi", model="large-v3", served_model="whisper-1", limits=LIMITS)
    assert set(violations(bad)) == {"language", "model"}
    assert bad.value.reason == "INVALID_ARGUMENT"


def test_recognize_maps_languages_and_refuses_unknown_ones() -> None:
    call = validate_recognize(image=PNG, languages=["hi", "en-IN", "eng", "hin"], limits=LIMITS)
    assert call.languages == ("hi", "en") and call.image_format == "png"
    assert validate_recognize(image=PNG, languages=[], limits=LIMITS).languages == ("en",)
    with pytest.raises(InvalidArgument) as bad:
        validate_recognize(image=b"GIF89a....", languages=["en", "klingon"], limits=LIMITS)
    assert set(violations(bad)) == {"image", "languages[1]"}
    with pytest.raises(InvalidArgument) as bad:
        validate_recognize(image=PNG, languages=["ta"], limits=LIMITS)  # known to Tesseract, not installed
    assert "languages[0]" in violations(bad)


def generate(**overrides: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {
        "model": "",
        "served_model": "smollm2",
        "messages": [("system", "Be brief."), ("user", "Hello")],
        "temperature": 0.0,
        "top_p": 0.0,
        "max_tokens": 0,
        "seed": 0,
        "json_schema": "",
        "limits": LIMITS,
    }
    return validate_generate(**(args | overrides))  # type: ignore[arg-type]


def test_generate_defaults_and_identity() -> None:
    call = generate()
    assert call.model == "smollm2" and call.sampling.max_tokens == LIMITS.default_max_tokens
    assert call.deterministic and call.key() == generate().key()
    assert call.key() != generate(messages=[("user", "Hello")]).key()
    assert call.key() != generate(json_schema='{"type": "object"}').key()
    assert not generate(temperature=0.7).deterministic


def test_generate_refuses_every_bad_field_at_once() -> None:
    with pytest.raises(InvalidArgument) as bad:
        generate(
            model="gpt-9",
            messages=[("robot", "hi"), ("user", "  ")],
            temperature=3.0,
            top_p=float("nan"),
            max_tokens=10_000,
            json_schema="{not json",
            prefix="request.",
        )
    assert set(violations(bad)) == {
        "request.model",
        "request.messages[0].role",
        "request.messages[1].content",
        "request.sampling.temperature",
        "request.sampling.top_p",
        "request.sampling.max_tokens",
        "request.json_schema",
    }
    with pytest.raises(InvalidArgument) as bad:
        generate(messages=[])
    assert "messages" in violations(bad)
    with pytest.raises(InvalidArgument) as bad:
        generate(messages=[("user", "x" * 101)])
    assert "at most 100" in violations(bad)["messages"]
    with pytest.raises(InvalidArgument) as bad:
        generate(json_schema='{"type": "no-such-type"}')
    assert "not a valid JSON schema" in violations(bad)["json_schema"]


def test_output_problem_checks_json_and_schema_without_quoting_values() -> None:
    schema = parse_schema(
        json.dumps({"type": "object", "properties": {"phone": {"type": "integer"}}, "required": ["phone"]})
    )
    assert output_problem('{"phone": 98100}', schema) is None
    assert "not JSON" in (output_problem('{"phone": 98', schema) or "")
    problem = output_problem('{"phone": "+91 98100 12345"}', schema) or ""
    assert "phone" in problem and "type" in problem and "98100" not in problem
    assert "required" in (output_problem("{}", schema) or "")
