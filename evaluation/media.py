"""Inputs made on the spot for tests and the evaluation: speech with espeak-ng, scanned pages with Pillow."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, features

LATIN_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
DEVANAGARI_FONT = "/usr/share/fonts/truetype/lohit-devanagari/Lohit-Devanagari.ttf"


def speech_wav(sentence: str, voice: str = "en-us") -> bytes:
    """``sentence`` spoken by espeak-ng (``voice``: en-us, hi, ...), as WAV bytes."""
    espeak = shutil.which("espeak-ng")
    assert espeak, "espeak-ng is installed by scripts/install/models.sh"
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run([espeak, "-v", voice, "-s", "150", "-w", str(wav), sentence], check=True)
        return wav.read_bytes()


def page_png(text: str, font_path: str = LATIN_FONT, size: int = 40) -> bytes:
    """``text`` (lines) drawn black on white, as PNG bytes."""
    layout = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    font = ImageFont.truetype(font_path, size, layout_engine=layout)
    lines = text.split("\n")
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    width = max(int(probe.textbbox((0, 0), line, font=font)[2]) for line in lines) + 80
    image = Image.new("RGB", (width, (size + 24) * len(lines) + 60), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((40, 30 + i * (size + 24)), line, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def word_accuracy(expected: str, got: str) -> float:
    """1 - word edit distance / expected words (case and punctuation ignored)."""

    def words(text: str) -> list[str]:
        return [w.strip(".,;:!?\"'()|-").lower() for w in text.split() if w.strip(".,;:!?\"'()|-")]

    a, b = words(expected), words(got)
    previous = list(range(len(b) + 1))
    for i, wa in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, wb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (wa != wb))
        previous = current
    return max(0.0, 1.0 - previous[-1] / max(1, len(a)))


def char_accuracy(expected: str, got: str) -> float:
    """Like :func:`word_accuracy` over characters (spaces ignored): fairer for Devanagari."""
    return word_accuracy(" ".join("".join(expected.split())), " ".join("".join(got.split())))
