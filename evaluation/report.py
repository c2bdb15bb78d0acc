"""The evaluation report: a headline table, one row per case, and a latency chart."""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections import Counter
from pathlib import Path

from evaluation.metrics import Score

STAGES = ("asr", "ocr", "rules", "retrieval", "llm", "llm_reask")


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(scores: list[Score]) -> dict[str, float | int | str]:
    """The headline figures over every case."""
    drafted = [s for s in scores if not s.error]
    hits = sum(s.section_hits for s in drafted)
    cited = sum(len(s.cited) for s in drafted)
    expected = sum(len(s.expected) for s in drafted)
    facts = sum(s.facts_expected for s in drafted)
    typed = [s.seconds for s in drafted if s.input == "text" and s.language == "en"]
    return {
        "cases": len(scores),
        "drafted": len(drafted),
        "grounding_violations": sum(len(s.grounding_violations) for s in drafted),
        "invented_persons": sum(len(s.invented_persons) for s in drafted),
        "contradictions": sum(len(s.contradictions) for s in drafted),
        "summaries_valid": sum(s.summary_valid for s in drafted) / max(1, len(drafted)),
        "facts_kept": sum(s.facts_kept for s in drafted) / max(1, facts),
        "section_recall": hits / max(1, expected),
        "section_precision": hits / max(1, cited),
        "summary_by_model": sum(s.summary_by_model for s in drafted) / max(1, len(drafted)),
        "narrative_by_model": sum(s.narrative_by_model for s in drafted) / max(1, len(drafted)),
        "typed_en_p50_s": statistics.median(typed) if typed else 0.0,
        "typed_en_p99_s": _percentile(typed, 0.99),
        "all_p50_s": statistics.median([s.seconds for s in drafted]) if drafted else 0.0,
    }


def headline(scores: list[Score]) -> str:
    """The headline table, in Markdown."""
    s = summary(scores)
    rows = [
        ("cases drafted", f"{s['drafted']} of {s['cases']}"),
        ("grounding violations", s["grounding_violations"]),
        ("invented persons", s["invented_persons"]),
        ("contradictions", s["contradictions"]),
        ("summaries valid", f"{s['summaries_valid']:.0%}"),
        ("facts kept", f"{s['facts_kept']:.0%}"),
        ("section recall", f"{s['section_recall']:.0%}"),
        ("section precision", f"{s['section_precision']:.0%}"),
        ("summary written by the model (passed its checks)", f"{s['summary_by_model']:.0%}"),
        ("narrative written by the model (passed its checks)", f"{s['narrative_by_model']:.0%}"),
        ("typed English complaint, p50 / p99", f"{s['typed_en_p50_s']:.1f} s / {s['typed_en_p99_s']:.1f} s"),
        ("every case, p50", f"{s['all_p50_s']:.1f} s"),
    ]
    return "\n".join(["| measure | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)])


def _case_rows(scores: list[Score]) -> list[str]:
    rows = [
        "| case | input | grounding | invented | sections (cited / expected) | contra. | facts | summary | model"
        " parts | s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        if s.error:
            rows.append(f"| {s.case} | {s.language} {s.input} | error: {s.error[:80]} | | | | | | | {s.seconds:.1f} |")
            continue
        model = "+".join(
            p for p, used in (("summary", s.summary_by_model), ("narrative", s.narrative_by_model)) if used
        )
        rows.append(
            f"| {s.case} | {s.language} {s.input} | {len(s.grounding_violations)} | {len(s.invented_persons)} |"
            f" {','.join(s.cited) or '-'} / {','.join(s.expected)} | {len(s.contradictions)} |"
            f" {s.facts_kept}/{s.facts_expected} | {'valid' if s.summary_valid else 'INVALID'} | {model or '-'} |"
            f" {s.seconds:.1f} |"
        )
    return rows


def chart(scores: list[Score], path: Path, title: str) -> None:
    """Per-case latency split by stage, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drafted = [s for s in scores if not s.error]
    figure, axis = plt.subplots(figsize=(10, max(4, 0.22 * len(drafted))))
    left = [0.0] * len(drafted)
    for stage in STAGES:
        widths = [s.stages.get(stage, 0.0) / 1000 for s in drafted]
        axis.barh([s.case for s in drafted], widths, left=left, label=stage)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    axis.set_xlabel("seconds")
    axis.set_title(title)
    axis.invert_yaxis()
    axis.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def set_aside(fir_log: Path) -> Counter[tuple[str, str, str]]:
    """(answer, part, problem) counts from fir's log lines "model answer failed its checks"
    (answer: ``first``, or ``after_reask`` for what a re-ask that answered left failing)."""
    tally: Counter[tuple[str, str, str]] = Counter()
    for line in fir_log.read_text(errors="replace").splitlines() if fir_log.exists() else []:
        if '"model answer failed its checks"' not in line:
            continue
        for found in json.loads(line).get("context", {}).get("problems", []):
            tally[(found["answer"], found["part"], found["problem"])] += 1
    return tally


def _set_aside_rows(tally: Counter[tuple[str, str, str]]) -> list[str]:
    if not tally:
        return ["None logged."]
    rows = ["| answer | part | problem | drafts |", "|---|---|---|---|"]
    for (answer, part, problem), count in sorted(tally.items(), key=lambda kv: (kv[0][0] != "first", -kv[1])):
        rows.append(f"| {answer.replace('_', ' ')} | {part} | {problem} | {count} |")
    return rows


def write(
    out: Path, model: str, threads: int, scores: list[Score], rejected: Counter[tuple[str, str, str]] | None = None
) -> Path:
    """report.md, latency.png and scores.json in ``out``; returns the report's path."""
    out.mkdir(parents=True, exist_ok=True)
    chart(scores, out / "latency.png", f"{model}, {threads} LLM thread(s): seconds per stage")
    (out / "scores.json").write_text(json.dumps([dataclasses.asdict(s) for s in scores], indent=1, ensure_ascii=False))
    problems = [
        f"- {s.case}: {problem}"
        for s in scores
        for problem in [*s.grounding_violations, *s.invented_persons, *s.contradictions]
    ]
    lines = [
        f"# Drafting evaluation: {model}",
        "",
        f"{len(scores)} labelled complaints, one request at a time through the edge, LLM with {threads} thread(s).",
        "",
        headline(scores),
        "",
        "![seconds per stage](latency.png)",
        "",
        "## Every case",
        "",
        *_case_rows(scores),
        "",
        "## Problems found",
        "",
        *(problems or ["None."]),
        "",
        "## Why the model's summary or narrative was set aside",
        "",
        "Counted from fir's log; the rules wrote the part instead.",
        "",
        *_set_aside_rows(rejected or Counter()),
        "",
    ]
    report = out / "report.md"
    report.write_text("\n".join(lines))
    return report
