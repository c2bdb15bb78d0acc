"""Recognise audio and image formats by their first bytes (never by a declared type)."""

from __future__ import annotations

AUDIO_MIME = {"wav": "audio/wav", "mp3": "audio/mpeg", "ogg": "audio/ogg"}
IMAGE_MIME = {"png": "image/png", "jpeg": "image/jpeg"}

# MPEG audio frame sync: 11 set bits, then a version that is not "reserved"
# (bits 01) and a layer that is not "reserved" (bits 00).
_MPEG_VERSION_MASK = 0x18
_MPEG_LAYER_MASK = 0x06


def sniff_audio(data: bytes) -> str | None:
    """``wav``, ``mp3`` or ``ogg``; ``None`` for anything else."""
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"OggS":
        return "ogg"
    if data[:3] == b"ID3":
        return "mp3"
    if (
        len(data) >= 2
        and data[0] == 0xFF
        and data[1] & 0xE0 == 0xE0
        and data[1] & _MPEG_VERSION_MASK != 0x08
        and data[1] & _MPEG_LAYER_MASK != 0
    ):
        return "mp3"
    return None


def sniff_image(data: bytes) -> str | None:
    """``png`` or ``jpeg``; ``None`` for anything else."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    return None
