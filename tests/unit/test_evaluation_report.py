"""The evaluation report counts why the model's parts were set aside, from fir's JSON log."""

from __future__ import annotations

import json
from pathlib import Path

from evaluation.report import set_aside


def _line(message: str, **context: object) -> str:
    return json.dumps({"level": "INFO", "service": "fir", "message": message, "context": context})


def test_problems_are_counted_per_answer_part_and_kind(tmp_path: Path) -> None:
    log = tmp_path / "fir.log"
    log.write_text(
        "\n".join(
            [
                _line("serving", port=1),
                _line(
                    "model answer failed its checks",
                    problems=[
                        {"answer": "first", "part": "summary", "problem": "repeats itself"},
                        {"answer": "first", "part": "narrative", "problem": "is not in the third person"},
                        {"answer": "after_reask", "part": "narrative", "problem": "is not in the third person"},
                    ],
                ),
                _line(
                    "model answer failed its checks",
                    problems=[{"answer": "first", "part": "summary", "problem": "repeats itself"}],
                ),
            ]
        )
    )
    assert set_aside(log) == {
        ("first", "summary", "repeats itself"): 2,
        ("first", "narrative", "is not in the third person"): 1,
        ("after_reask", "narrative", "is not in the third person"): 1,
    }
