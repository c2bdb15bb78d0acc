"""Check requests before any model server sees them.

Every problem becomes a :class:`FieldViolation`; a request with any is refused
with INVALID_ARGUMENT listing all of them. ``prefix`` puts the field paths
where the caller's message has them (``request.`` inside StreamGenerate).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from afirgen_runtime.errors import FieldViolation, InvalidArgument

from afirgen_inference.domain.json_output import parse_schema
from afirgen_inference.domain.media import sniff_audio, sniff_image
from afirgen_inference.domain.model import (
    ROLES,
    ChatMessage,
    GenerateCall,
    RecognizeCall,
    Sampling,
    TranscribeCall,
)

# BCP-47 primary tags <-> the names Tesseract's language data files have.
MAX_STOP = 4
MAX_STOP_CHARS = 32
TESSERACT_NAMES = {"en": "eng", "hi": "hin", "mr": "mar", "bn": "ben", "ta": "tam", "te": "tel", "ur": "urd"}
_FROM_TESSERACT = {v: k for k, v in TESSERACT_NAMES.items()}


@dataclass(frozen=True)
class InputLimits:
    """What one request may carry (``AFIRGEN_LIMITS_*``), and how often bad JSON output is re-asked."""

    max_audio_bytes: int = 16 * 1024 * 1024
    """Largest audio accepted by Transcribe."""
    max_image_bytes: int = 10 * 1024 * 1024
    """Largest image accepted by RecognizeText (the OCR server's own limit)."""
    max_prompt_chars: int = 32_000
    """Largest total length of the chat messages."""
    max_messages: int = 64
    """Most chat messages in one request."""
    default_max_tokens: int = 512
    """Generated tokens when the request does not say."""
    max_tokens: int = 4096
    """Most generated tokens a request may ask for."""
    max_schema_chars: int = 16_000
    """Largest JSON schema."""
    json_reasks: int = 1
    """Further attempts when the output is not valid JSON for the schema."""
    asr_languages: tuple[str, ...] = ("en",)
    """Languages the speech model knows (BCP-47 primary tags); tiny.en knows English only."""
    ocr_languages: tuple[str, ...] = ("en", "hi")
    """Languages the OCR engine has data for (BCP-47 primary tags)."""


def _refuse(what: str, violations: list[FieldViolation]) -> None:
    if violations:
        detail = "; ".join(f"{v.field}: {v.description}" for v in violations)
        raise InvalidArgument(f"the {what} request is not valid: {detail}", violations=violations)


def _model(name: str, served: str, field: str, out: list[FieldViolation]) -> str:
    if name and name != served:
        out.append(FieldViolation(field, f"unknown model {name[:64]!r}; this proxy serves {served!r}"))
    return served


def validate_generate(
    *,
    model: str,
    served_model: str,
    messages: Sequence[tuple[str, str]],
    temperature: float,
    top_p: float,
    max_tokens: int,
    seed: int,
    json_schema: str,
    limits: InputLimits,
    prefix: str = "",
    stop: Sequence[str] = (),
) -> GenerateCall:
    """A :class:`GenerateCall`, or INVALID_ARGUMENT naming every bad field."""
    out: list[FieldViolation] = []
    resolved = _model(model, served_model, f"{prefix}model", out)
    if not messages:
        out.append(FieldViolation(f"{prefix}messages", "at least one message is required"))
    elif len(messages) > limits.max_messages:
        out.append(FieldViolation(f"{prefix}messages", f"at most {limits.max_messages} messages"))
    for i, (role, content) in enumerate(messages):
        if role not in ROLES:
            out.append(FieldViolation(f"{prefix}messages[{i}].role", f"must be one of {', '.join(ROLES)}"))
        if not content.strip():
            out.append(FieldViolation(f"{prefix}messages[{i}].content", "must not be empty"))
    total = sum(len(content) for _, content in messages)
    if total > limits.max_prompt_chars:
        out.append(FieldViolation(f"{prefix}messages", f"{total} characters; at most {limits.max_prompt_chars}"))
    sampling = f"{prefix}sampling"
    if not (math.isfinite(temperature) and 0.0 <= temperature <= 2.0):
        out.append(FieldViolation(f"{sampling}.temperature", "must be between 0 and 2"))
    if not (math.isfinite(top_p) and 0.0 <= top_p <= 1.0):
        out.append(FieldViolation(f"{sampling}.top_p", "must be between 0 and 1"))
    if not 0 <= max_tokens <= limits.max_tokens:
        out.append(FieldViolation(f"{sampling}.max_tokens", f"must be between 0 and {limits.max_tokens}"))
    if len(stop) > MAX_STOP or any(not s or len(s) > MAX_STOP_CHARS for s in stop):
        out.append(
            FieldViolation(f"{sampling}.stop", f"at most {MAX_STOP} non-empty strings of {MAX_STOP_CHARS} characters")
        )
    schema = None
    if json_schema:
        if len(json_schema) > limits.max_schema_chars:
            out.append(FieldViolation(f"{prefix}json_schema", f"at most {limits.max_schema_chars} characters"))
        else:
            try:
                schema = parse_schema(json_schema)
            except ValueError as exc:
                out.append(FieldViolation(f"{prefix}json_schema", str(exc)))
    _refuse("generate", out)
    return GenerateCall(
        model=resolved,
        messages=tuple(ChatMessage(role, content) for role, content in messages),
        sampling=Sampling(
            temperature=float(temperature),
            top_p=float(top_p),
            max_tokens=max_tokens or limits.default_max_tokens,
            seed=seed,
            stop=tuple(stop),
        ),
        json_schema=schema,
    )


def primary_tag(language: str) -> str:
    """``en-IN`` -> ``en``; Tesseract names (``hin``) -> their BCP-47 tag."""
    tag = language.strip().replace("_", "-").split("-", 1)[0].lower()
    return _FROM_TESSERACT.get(tag, tag)


def validate_transcribe(
    *, audio: bytes, language: str, model: str, served_model: str, limits: InputLimits
) -> TranscribeCall:
    """A :class:`TranscribeCall`, or INVALID_ARGUMENT naming every bad field."""
    out: list[FieldViolation] = []
    resolved = _model(model, served_model, "model", out)
    audio_format = _media(audio, "audio", limits.max_audio_bytes, sniff_audio, "WAV, MP3 or OGG", out)
    tag = primary_tag(language) if language else ""
    if language and tag not in limits.asr_languages:
        out.append(
            FieldViolation(
                "language",
                f"unsupported language {language[:16]!r}; supported: {', '.join(limits.asr_languages)}",
            )
        )
    _refuse("transcribe", out)
    return TranscribeCall(audio=audio, audio_format=audio_format, language=tag, model=resolved)


def validate_recognize(*, image: bytes, languages: Sequence[str], limits: InputLimits) -> RecognizeCall:
    """A :class:`RecognizeCall`, or INVALID_ARGUMENT naming every bad field."""
    out: list[FieldViolation] = []
    image_format = _media(image, "image", limits.max_image_bytes, sniff_image, "PNG or JPEG", out)
    tags: list[str] = []
    for i, language in enumerate(languages):
        tag = primary_tag(language)
        if tag not in limits.ocr_languages or tag not in TESSERACT_NAMES:
            out.append(
                FieldViolation(
                    f"languages[{i}]",
                    f"unsupported language {language[:16]!r}; supported: {', '.join(limits.ocr_languages)}",
                )
            )
        elif tag not in tags:
            tags.append(tag)
    _refuse("recognize text", out)
    return RecognizeCall(image=image, image_format=image_format, languages=tuple(tags) or ("en",))


def _media(
    data: bytes,
    field: str,
    max_bytes: int,
    sniff: Callable[[bytes], str | None],
    formats: str,
    out: list[FieldViolation],
) -> str:
    if not data:
        out.append(FieldViolation(field, "is required"))
        return ""
    if len(data) > max_bytes:
        out.append(FieldViolation(field, f"{len(data)} bytes; at most {max_bytes}"))
        return ""
    found = sniff(data)
    if found is None:
        out.append(FieldViolation(field, f"unsupported format; send {formats}"))
        return ""
    return found
