"""Printing results: one table per backend and size, growth across sizes, the targets, the machine."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.harness import Measured
from benchmarks.workers import TogetherResult

STAGES = ("requests", "deliver", "ingest", "digests")
LINEAR = 1.2  # issue 17: time per item at most 1.2x that at 2,000 students


@dataclass
class RunResult:
    backend: str
    size: int
    seeded: str
    stages: dict[str, Measured] = field(default_factory=dict)
    baselines: dict[str, Measured] = field(default_factory=dict)
    together: list[TogetherResult] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)

    @property
    def cycle_seconds(self) -> float:
        return sum(self.stages[s].seconds for s in STAGES if s in self.stages)

    def ratio(self, stage: str) -> float:
        base = self.baselines.get(stage)
        mine = self.stages.get(stage)
        if base is None or mine is None or base.per_second == 0:
            return 0.0
        return mine.per_second / base.per_second


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"machine: {os.cpu_count()} CPUs ({model}), Python {platform.python_version()} "
        f"({sys.implementation.name}), {platform.system()} {platform.release()}"
    )


def table(run: RunResult) -> str:
    header = (
        f"{'stage':<9} {'count':>7} {'seconds':>8} {'per s':>8} {'base /s':>9} {'ratio':>6} "
        f"{'RSS MB':>7} {'queries':>8} {'q/item':>7}  notes"
    )
    lines = [f"== {run.backend}, {run.size:,} students ({run.seeded})", header, "-" * len(header)]
    for stage in STAGES:
        mine = run.stages.get(stage)
        if mine is None:
            continue
        base = run.baselines.get(stage)
        per_item = mine.queries / mine.count if mine.count else 0.0
        # A --no-baselines run has no baseline to show: "-", not a ratio of 0.
        base_rate = f"{base.per_second:.1f}" if base else "-"
        ratio = f"{run.ratio(stage):.2f}" if base else "-"
        lines.append(
            f"{stage:<9} {mine.count:>7} {mine.seconds:>8.2f} {mine.per_second:>8.1f} "
            f"{base_rate:>9} {ratio:>6} "
            f"{mine.peak_rss_mb:>7.0f} {mine.queries:>8} {per_item:>7.2f}  {mine.note}"
        )
    lines.append(f"{'cycle':<9} {'':>7} {run.cycle_seconds:>8.2f}")
    for stage in STAGES:
        base = run.baselines.get(stage)
        if base is not None:
            lines.append(
                f"  baseline {stage}: {base.count} in {base.seconds:.2f} s "
                f"(RSS {base.peak_rss_mb:.0f} MB){'; ' + base.note if base.note else ''}"
            )
    for together in run.together:
        lines.append(
            f"  deliver with {together.workers} worker(s): {sum(together.sent)} in "
            f"{together.seconds:.2f} s = {together.per_second:.1f}/s (per worker "
            f"{', '.join(map(str, together.sent))}); sink got {together.at_sink}, "
            f"duplicate Message-IDs {together.duplicates}"
        )
    lines.extend(f"  check: {check}" for check in run.checks)
    return "\n".join(lines)


def growth(runs: Sequence[RunResult]) -> str:
    """Seconds per item at each size against the smallest: up to 1.2x counts as linear (issue 17)."""
    lines = []
    for backend in dict.fromkeys(r.backend for r in runs):
        mine = sorted((r for r in runs if r.backend == backend), key=lambda r: r.size)
        small = mine[0]
        for large in mine[1:]:
            lines.append(
                f"== growth on {backend}, {small.size:,} -> {large.size:,} students (time per item)"
            )
            for stage in STAGES:
                a, b = small.stages.get(stage), large.stages.get(stage)
                if a is None or b is None or not a.count or not b.count:
                    continue
                per_a, per_b = a.seconds / a.count, b.seconds / b.count
                grew = per_b / per_a
                queries = f"; queries/item {a.queries / a.count:.2f} -> {b.queries / b.count:.2f}"
                lines.append(
                    f"{stage:<9} {per_a * 1000:8.3f} ms -> {per_b * 1000:8.3f} ms   growth "
                    f"x{grew:.2f} {'linear' if grew <= LINEAR else 'MORE THAN LINEAR'}{queries}"
                )
    return "\n".join(lines)


def targets(runs: Sequence[RunResult]) -> str:
    """The issue's targets: SQLite at 20,000 students, the ratios of issue 17, and PostgreSQL's workers."""
    lines = []
    for run in runs:
        if run.backend == "sqlite" and run.size == 20_000 and run.baselines:
            digests = run.stages.get("digests")
            checks = [
                (
                    "weekly cycle under 4 minutes",
                    run.cycle_seconds < 240,
                    f"{run.cycle_seconds:.0f} s",
                ),
                (
                    "requests >= 0.7x bare jinja2",
                    run.ratio("requests") >= 0.7,
                    f"{run.ratio('requests'):.2f}x",
                ),
                (
                    "delivery >= 0.8x bare aiosmtplib",
                    run.ratio("deliver") >= 0.8,
                    f"{run.ratio('deliver'):.2f}x",
                ),
                (
                    "ingestion >= 0.6x bare parse+trim",
                    run.ratio("ingest") >= 0.6,
                    f"{run.ratio('ingest'):.2f}x",
                ),
                (
                    "digests >= 100/s",
                    digests is not None and digests.per_second >= 100,
                    f"{digests.per_second if digests else 0:.0f}/s",
                ),
                (
                    "peak RSS < 300 MB",
                    max(m.peak_rss_mb for m in run.stages.values()) < 300,
                    f"{max(m.peak_rss_mb for m in run.stages.values()):.0f} MB",
                ),
            ]
            lines.append("== targets (sqlite, 20,000 students)")
            lines.extend(
                f"{'met ' if ok else 'MISSED'} {what}: {value}" for what, ok, value in checks
            )
        lines.extend(_ratio_targets(run))
        for one, more in _pairs(run.together):
            ok = (
                more.per_second >= one.per_second
                and more.duplicates == 0
                and more.at_sink == sum(more.sent)
            )
            lines.append(
                f"{'met ' if ok else 'MISSED'} {run.backend} {run.size:,}: {more.workers} workers "
                f"{more.per_second:.0f}/s vs one {one.per_second:.0f}/s, duplicates {more.duplicates}"
            )
    return "\n".join(lines)


# Issue 17: PostgreSQL's requests and delivery against their bare baselines, ingestion against
# bare parse+trim (the issue sets it at 20,000 students), and every backend's digests against
# one query and a bare render of the same templates.
_RATIO_TARGETS = (
    ("postgresql", "requests", 0.7, "bare jinja2"),
    ("postgresql", "deliver", 0.7, "bare aiosmtplib"),
    ("sqlite", "ingest", 0.4, "bare parse+trim"),
    ("postgresql", "ingest", 0.25, "bare parse+trim"),
    (None, "digests", 0.5, "one query + bare jinja2 render"),
)


def _ratio_targets(run: RunResult) -> list[str]:
    lines = []
    for backend, stage, target, baseline in _RATIO_TARGETS:
        if backend not in (None, run.backend) or stage not in run.baselines:
            continue
        ratio = run.ratio(stage)
        lines.append(
            f"{'met ' if ratio >= target else 'MISSED'} {run.backend} {run.size:,}: {stage} "
            f">= {target}x {baseline}: {ratio:.2f}x"
        )
    return lines


def _pairs(results: Sequence[TogetherResult]) -> list[tuple[TogetherResult, TogetherResult]]:
    """One worker beside each larger number of workers of the same run."""
    one = next((r for r in results if r.workers == 1), None)
    return [] if one is None else [(one, r) for r in results if r.workers > 1]
