"""Benchmark: every figure of issue 27 side by side, each as a ratio to its baseline measured in the same run.

    mastering    bench/mastering.py, run as it is (its own lines are printed as they come): panelpress against a
                 plain LAME encode of the same panel (the floor) and against ffmpeg-normalize
    edits        editing one episode's title in a show of N episodes, against a no-op build of the same show
                 (both through the real CLI, Python's start included), as bench/scale.py measures them
    memory       the first build of N episodes: the peak resident memory of panelpress's own process and the
                 largest VmHWM of any ffmpeg it started, read from /proc while they run

    make bench                        # short: a 5-minute realistic panel, a show of 200 episodes (about 10 minutes)
    make bench BENCH=full             # 60-minute panels (realistic, hot, quiet), shows of 200 and 1,000 episodes
    .venv/bin/python bench/all.py --help

Goals (issue 27): mastering ≤ 1.3× the plain encode's CPU and ≤ 1.2× its wall time; editing one title ≤ 0.8 s
(wall at 200 episodes, Python's start included; CPU at 1,000); the first build of 1,000 episodes ≤ 150 MB.
The machine, the date and the load average are printed with the figures: copy them into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import scale  # after the path: bench/ is run as a script

MODES = {
    "short": {"sizes": [200], "mastering": ["--minutes", "5", "--profiles", "realistic"]},
    "full": {"sizes": [200, 1000], "mastering": []},
}
_NAMES = {"cpu": "CPU", "wall": "wall"}
QUIET = ["--memory-minutes", "0", "--throughput-minutes", "0"]  # memory and throughput: bench/mastering.py's own


def machine() -> str:
    """The processor, its cores, and the load average now."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor() or platform.machine(),
    )
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, load average {load()}"


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def mastering(extra: list[str]) -> list[dict]:
    """Run bench/mastering.py, printing its lines; the rows of the side-by-side table from its results file."""
    command = [sys.executable, str(ROOT / "bench" / "mastering.py"), *QUIET, *extra]
    print(f"$ {' '.join(command[1:])}", flush=True)
    subprocess.run(command, cwd=ROOT, check=True)
    try:
        results = json.loads((ROOT / "bench" / "out" / "results.json").read_text())
        inputs = results["inputs"]
    except (OSError, ValueError, KeyError):
        return [{"figure": "mastering", "note": "see bench/mastering.py's lines above (no results.json to read)"}]
    rows = []
    for profile, runs in inputs.items():
        own, floor, other = runs.get("panelpress"), runs.get("plain"), runs.get("ffmpeg-normalize")
        label = f"mastering, {profile} panel, {results.get('minutes', '?'):g} min"
        if own and floor:
            for what, goal in (("cpu", 1.3), ("wall", 1.2)):
                ratio = own[what] / floor[what]
                rows.append(
                    _row(
                        f"{label}, {_NAMES[what]}",
                        own[what],
                        "plain LAME encode",
                        floor[what],
                        "s",
                        f"≤ {goal}×",
                        ratio <= goal,
                    )
                )
        if own and other:
            for what in ("cpu", "wall"):
                rows.append(_row(f"{label}, {_NAMES[what]}", own[what], "ffmpeg-normalize", other[what], "s"))
    return rows


def edits(sizes: list[int], work: Path) -> list[dict]:
    """For each size: the first build (its memory), a no-op build and an edit of one title (median of 3 each)."""
    rows = []
    for count in sizes:
        print(f"\n## a show of {count} episodes (load average {load()})", flush=True)
        show = scale.make_show(work / f"show-{count}", count)
        first = scale.panelpress("build", "--show", str(show))
        print(
            f"first build: {first['wall']:.1f} s, CPU {scale.cpu(first):.1f} s; peak memory: Python {first['rss_mb']:.0f} MB,"
            f" largest ffmpeg {first['ffmpeg_mb']:.0f} MB",
            flush=True,
        )
        noops = [scale.panelpress("build", "--show", str(show)) for _ in range(3)]
        notes = show / "show_notes" / "episode-0000.md"
        edited = []
        for take in range(3):
            text = notes.read_text(encoding="utf-8")
            notes.write_text(text.replace("title: 'Panel 0", f"title: 'Panel 0 (take {take})", 1), encoding="utf-8")
            edited.append(scale.panelpress("build", "--show", str(show)))
        noop = {key: statistics.median(run[key] for run in noops) for key in ("wall", "cpu", "rss_mb")}
        edit = {key: statistics.median(run[key] for run in edited) for key in ("wall", "cpu", "rss_mb")}
        noop["cpu"] = statistics.median(scale.cpu(run) for run in noops)
        edit["cpu"] = statistics.median(scale.cpu(run) for run in edited)
        print(
            f"no-op build: {noop['wall']:.2f} s, CPU {noop['cpu']:.2f} s; edit one title: {edit['wall']:.2f} s, CPU {edit['cpu']:.2f} s"
            f" (medians of 3)",
            flush=True,
        )
        label = f"edit one title, {count} episodes"
        for what in ("wall", "cpu"):
            rows.append(
                _row(
                    f"{label}, {_NAMES[what]}", edit[what], "no-op build", noop[what], "s", "≤ 0.8 s", edit[what] <= 0.8
                )
            )
        peak = first["rss_mb"]
        rows.append(
            _row(
                f"first build, {count} episodes, peak memory of Python",
                peak,
                "no-op build",
                noop["rss_mb"],
                "MB",
                "≤ 150 MB",
                peak <= 150,
            )
        )
        rows.append(
            {
                "figure": f"first build, {count} episodes, largest ffmpeg (VmHWM)",
                "value": f"{first['ffmpeg_mb']:.0f} MB",
                "baseline": "",
                "ratio": "",
                "goal": "",
            }
        )
    return rows


def _row(figure: str, value: float, baseline: str, base: float, unit: str, goal: str = "", met: bool = False) -> dict:
    """One line of the side-by-side table: the figure, its baseline of the same run, their ratio, the goal."""
    shown = (lambda v: f"{v:.2f} {unit}") if unit == "s" else (lambda v: f"{v:.0f} {unit}")
    return {
        "figure": figure,
        "value": shown(value),
        "baseline": f"{baseline} {shown(base)}",
        "ratio": f"{value / base:.2f}×" if base else "",
        "goal": f"{goal} ({'met' if met else 'not met'})" if goal else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=sorted(MODES), default="short", help="short (default) or full")
    parser.add_argument("--skip-mastering", action="store_true", help="only the edits and the memory")
    parser.add_argument("--skip-edits", action="store_true", help="only the mastering")
    args = parser.parse_args()
    mode = MODES[args.mode]
    started = datetime.now(UTC)
    print(f"panelpress benchmarks, {args.mode} mode, {started:%Y-%m-%d %H:%M} UTC\nmachine: {machine()}", flush=True)
    rows: list[dict] = []
    if not args.skip_mastering:
        rows += mastering(mode["mastering"])
    if not args.skip_edits:
        with tempfile.TemporaryDirectory(prefix="panelpress-bench-") as work:
            rows += edits(mode["sizes"], Path(work))
    print(f"\n## side by side ({args.mode} mode, {started:%Y-%m-%d}; load average at the end {load()})")
    print("| figure | panelpress | baseline, same run | ratio | goal |")
    print("|---|---|---|---|---|")
    for row in rows:
        if "note" in row:
            print(f"| {row['figure']} | {row['note']} | | | |")
        else:
            print(f"| {row['figure']} | {row['value']} | {row['baseline']} | {row['ratio']} | {row['goal']} |")


if __name__ == "__main__":
    main()
