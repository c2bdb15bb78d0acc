"""Headless Chromium for tests that check what an operator's page shows: the page's DOM after
its scripts ran, and a screenshot of it."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PAGE_SECONDS = 15
"""Virtual time a page gets to fetch its data and draw (Chromium waits for its requests)."""


def _run(url: str, *flags: str) -> str:
    with tempfile.TemporaryDirectory(prefix="afirgen-chromium-") as profile:
        command = [
            CHROMIUM,
            "--headless",
            # Tests run as root, where Chromium's sandbox cannot start.
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={PAGE_SECONDS * 1000}",
            *flags,
            url,
        ]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"chromium failed on {url} ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout


def dom(url: str) -> str:
    """The HTML of ``url`` once its scripts have run."""
    return _run(url, "--dump-dom")


def screenshot(url: str, path: Path, size: tuple[int, int] = (1400, 900)) -> Path:
    """A PNG of ``url`` at ``size`` in ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    _run(url, f"--screenshot={path}", f"--window-size={size[0]},{size[1]}")
    return path


def ink(path: Path) -> tuple[float, int]:
    """Of a screenshot: the share of pixels that are not the background (the most common
    colour), and how many colours it has. A blank or error-only page has almost no ink."""
    with Image.open(path) as image:
        pixels = image.convert("RGB").resize((350, 225))
        colours = pixels.getcolors(maxcolors=350 * 225) or []
    total = sum(count for count, _ in colours)
    background = max(count for count, _ in colours)
    return (total - background) / total, len(colours)
