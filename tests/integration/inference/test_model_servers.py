"""The inference proxy against the real model servers of the test stack:
llama-server (SmolLM2-135M), faster-whisper-server (tiny.en) and Tesseract."""

from __future__ import annotations

import asyncio
import json

import grpc
import jsonschema
import pytest
from afirgen.inference.v1 import inference_pb2 as pb
from afirgen.inference.v1 import inference_pb2_grpc
from afirgen_runtime.errors import InvalidArgument
from afirgen_runtime.grpc_errors import from_rpc_error

from evaluation.media import (
    DEVANAGARI_FONT,
    char_accuracy,
    page_png,
    speech_wav,
    word_accuracy,
)

pytestmark = pytest.mark.integration
Stub = inference_pb2_grpc.InferenceServiceStub
TIMEOUT = 110.0


def chat(text: str, *, max_tokens: int = 24, schema: dict[str, object] | None = None) -> pb.GenerateRequest:
    return pb.GenerateRequest(
        messages=[pb.ChatMessage(role="user", content=text)],
        sampling=pb.SamplingParams(temperature=0, max_tokens=max_tokens),
        json_schema=json.dumps(schema) if schema else "",
    )


def ms(duration: object) -> float:
    return float(duration.ToNanoseconds()) / 1e6  # type: ignore[attr-defined]


# An answer far longer than the few tokens allowed: generation always ends at max_tokens.
LONG_ANSWER = "List the twelve months of the year, each with its number of days."


async def test_generate_text(inference: Stub) -> None:
    reply = await inference.Generate(chat(LONG_ANSWER, max_tokens=6), timeout=TIMEOUT)
    assert reply.text.strip() and reply.model == "smollm2" and reply.backend == "llm-0"
    usage = reply.usage
    assert (reply.finish_reason, usage.completion_tokens, usage.attempts) == ("length", 6, 1)
    assert usage.prompt_tokens > 5 and ms(usage.total_time) >= ms(usage.model_time) > 0


async def test_generate_json_for_a_schema(inference: Stub) -> None:
    """The schema becomes a decoding grammar: the reply is valid JSON for it, a constant is
    written as the schema says (the model could not invent another), and generation stops
    when the grammar is complete. Which offence a 135M model picks is its judgment, measured
    by ``make eval``, not the proxy's behaviour."""
    schema = {
        "type": "object",
        "properties": {
            "form": {"const": "FIR"},
            "complainant": {"type": "string", "maxLength": 40},
            "offence": {"type": "string", "enum": ["theft", "assault", "fraud", "other"]},
        },
        "required": ["form", "complainant", "offence"],
        "additionalProperties": False,
    }
    request = chat("Ravi Kumar says his phone was stolen at Sector 5 market.", max_tokens=160, schema=schema)
    request.messages.insert(0, pb.ChatMessage(role="system", content="Extract the fields as JSON."))
    reply = await inference.Generate(request, timeout=TIMEOUT)
    value = json.loads(reply.text)
    jsonschema.validate(value, schema)
    assert (value["form"], reply.finish_reason) == ("FIR", "stop")


async def test_stream_generate_yields_pieces_then_usage(inference: Stub) -> None:
    pieces: list[str] = []
    last = None
    call = inference.StreamGenerate(pb.StreamGenerateRequest(request=chat(LONG_ANSWER, max_tokens=8)), timeout=TIMEOUT)
    async for piece in call:
        if piece.text_delta:
            pieces.append(piece.text_delta)
        if piece.HasField("usage"):
            last = piece
    assert last is not None and len(pieces) > 1
    assert (last.model, last.backend, last.finish_reason, last.usage.completion_tokens) == (
        "smollm2",
        "llm-0",
        "length",
        8,
    )


async def test_identical_concurrent_requests_are_computed_once(inference: Stub) -> None:
    request = chat("Name one colour of the Indian flag.", max_tokens=8)
    replies = await asyncio.gather(*(inference.Generate(request, timeout=TIMEOUT) for _ in range(3)))
    assert len({r.text for r in replies}) == 1
    assert all(r.usage.shared for r in replies)


async def test_transcribe_espeak_wav(inference: Stub) -> None:
    sentence = "The complainant reported that his motorcycle was stolen from the market on Monday evening."
    reply = await inference.Transcribe(pb.TranscribeRequest(audio=speech_wav(sentence), language="en"), timeout=TIMEOUT)
    assert word_accuracy(sentence, reply.text) >= 0.8, reply.text
    assert reply.language == "en" and reply.model == "whisper-1" and reply.backend == "asr-0"
    assert 3000 < ms(reply.audio_duration) < 10_000


async def test_recognize_english_page(inference: Stub) -> None:
    text = "FIRST INFORMATION REPORT\nComplainant: Ravi Kumar, Sector 5 market\nMobile phone stolen on 12 March 2024"
    reply = await inference.RecognizeText(
        pb.RecognizeTextRequest(image=page_png(text), languages=["en"]), timeout=TIMEOUT
    )
    assert word_accuracy(text, reply.text) >= 0.9, reply.text
    assert list(reply.languages) == ["en"] and reply.backend == "ocr-0"


async def test_recognize_hindi_page(inference: Stub) -> None:
    text = "प्रथम सूचना रिपोर्ट\nशिकायतकर्ता का मोबाइल फोन बाजार से चोरी हो गया"
    image = page_png(text, DEVANAGARI_FONT)
    reply = await inference.RecognizeText(pb.RecognizeTextRequest(image=image, languages=["hi", "en"]), timeout=TIMEOUT)
    assert char_accuracy(text, reply.text) >= 0.8, reply.text
    assert list(reply.languages) == ["hi", "en"]


@pytest.mark.parametrize(
    ("method", "request_", "fields"),
    [
        ("Transcribe", pb.TranscribeRequest(audio=b""), {"audio"}),
        ("Transcribe", pb.TranscribeRequest(audio=b"%PDF-1.7 not audio", language="tlh"), {"audio", "language"}),
        ("RecognizeText", pb.RecognizeTextRequest(image=b"GIF89a....", languages=["xx"]), {"image", "languages[0]"}),
        ("Generate", pb.GenerateRequest(), {"messages"}),
        (
            "StreamGenerate",
            pb.StreamGenerateRequest(
                request=pb.GenerateRequest(messages=[pb.ChatMessage(role="user", content="hi")], json_schema="[")
            ),
            {"request.json_schema"},
        ),
    ],
)
async def test_bad_input_is_invalid_argument_with_field_violations(
    inference: Stub, method: str, request_: object, fields: set[str]
) -> None:
    rpc = getattr(inference, method)
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        if method == "StreamGenerate":
            async for _ in rpc(request_, timeout=10):
                pass
        else:
            await rpc(request_, timeout=10)
    assert failed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    error = from_rpc_error(failed.value)
    assert isinstance(error, InvalidArgument) and error.reason == "INVALID_ARGUMENT"
    assert {v.field for v in error.violations} == fields


async def test_oversized_image_is_refused_before_the_ocr_server(inference: Stub) -> None:
    image = b"\x89PNG\r\n\x1a\n" + bytes(10 * 1024 * 1024)
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await inference.RecognizeText(pb.RecognizeTextRequest(image=image), timeout=30)
    assert failed.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "at most" in (failed.value.details() or "")
