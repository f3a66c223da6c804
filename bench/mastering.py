"""Benchmark: panelpress mastering against the plain encode (the floor) and ffmpeg-normalize, on realistic panels.

For each input of bench/panel.py (realistic, hot, quiet; 60 minutes of 48 kHz 24-bit stereo by default) it runs,
one after the other:

    plain             ffmpeg -i in.wav -c:a libmp3lame -b:a 128k out.mp3      (what a host would type)
    panelpress        panelpress build, through the real CLI, on a fresh show and cache
    ffmpeg-normalize  ffmpeg-normalize in.wav --preset podcast -c:a libmp3lame -b:a 128k -ar 44100

and measures, for each: wall time; CPU time of the whole process tree (user + system of every process, from
getrusage of the waited children); the peak memory of each process on its own (VmHWM, read from /proc while it
runs: ru_maxrss of a child counts its parent's memory at the fork); and, on the decoded output, integrated
loudness, true peak and loudness range by ffmpeg's ebur128. For panelpress it adds the build's own report: each
pass's wall and CPU time, the gain, the loudness range in and out, and the gain reduction of compressor and limiter.
A last run masters a long panel (180 minutes by default) for peak memory.

    make bench                                                    # all of it (about 45 minutes on 2 cores)
    .venv/bin/python bench/mastering.py --minutes 10 --memory-minutes 0 --no-normalize   # a quick look

Targets (issue 27), on all three inputs: CPU ≤ 1.3× and wall time ≤ 1.2× the plain encode's (≤ 76 CPU s per hour
of audio); within ±0.3 LU of -16 LUFS; true peak ≤ -1 dBTP; the limiter's 99th-percentile gain reduction ≤ 3 dB;
panelpress's own meter of the decoded output within 0.1 LU / 0.1 dB of ffmpeg's ebur128; peak memory ≤ 300 MB per
process at 180 minutes. Each pass's CPU is printed per hour of audio: measure (decode and analysis), encode,
verify (decoding the output as ffmpeg writes it, and metering it). Results are also written to bench/out/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import panel
from pipeline.audio import loudness
from pipeline.audio.ffmpeg import ffmpeg

FF = ffmpeg()
OUT = ROOT / "bench" / "out"
TARGET_I, TARGET_TP, TOLERANCE = -16.0, -1.0, 0.3

SHOW = """\
[show]
title = "Bench Panel"
description = "Benchmark show."
author = "Bench"
owner_email = "bench@example.com"
site_url = "https://bench.example.com/"
[build]
workers = {workers}
"""


def _tree(root: int) -> list[int]:
    """The pids of `root` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def measure(command: list[str], env: dict | None = None, cwd: Path | None = None) -> dict:
    """Run a command; return its wall time, the CPU time of its process tree and each process's peak memory (MB)."""
    peaks: dict[int, tuple[str, float]] = {}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            for pid in _tree(proc.pid):
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                name = re.search(r"^Name:\s*(\S+)", status, re.M)
                hwm = re.search(r"^VmHWM:\s*(\d+) kB", status, re.M)
                if name and hwm:
                    # Name is cut at 15 characters: "ffmpeg-linux-x8" is the wheel's ffmpeg, "ffmpeg-normaliz" is Python.
                    kind = (
                        "ffmpeg"
                        if name.group(1).startswith("ffmpeg") and not name.group(1).startswith("ffmpeg-norm")
                        else name.group(1)
                    )
                    peaks[pid] = (kind, max(peaks.get(pid, ("", 0.0))[1], int(hwm.group(1)) / 1024))
            done.wait(0.25)  # VmHWM only grows: a slow poll still sees each process's peak, and costs little

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    out, err = proc.communicate()
    done.set()
    watcher.join()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"failed: {' '.join(map(str, command))}\n{err[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    memory: dict[str, float] = {}
    for kind, mb in peaks.values():
        memory[kind] = max(memory.get(kind, 0.0), mb)
    return {"wall": wall, "cpu": cpu, "memory": memory, "stdout": out}


def ebur128(path: Path) -> dict[str, float]:
    """Integrated loudness, true peak and loudness range of the decoded file: ffmpeg's ebur128 (peak=true), its final
    values read to two decimals (its printed summary has one)."""
    file = path.with_suffix(".ebur128.txt")
    subprocess.run(
        [FF, "-nostdin", "-v", "error", "-i", str(path), "-af", loudness.ebur128(file, True), "-f", "null", "-"],
        check=True,
    )
    found = loudness.read_metering(file)
    file.unlink()
    return {"I": found.integrated, "TP": found.true_peak, "LRA": found.lra}


def plain(source: Path, work: Path) -> dict:
    out = work / "plain.mp3"
    result = measure(
        [FF, "-nostdin", "-v", "error", "-i", str(source), "-c:a", "libmp3lame", "-b:a", "128k", "-y", str(out)]
    )
    return {**result, "output": out}


def panelpress(source: Path, work: Path, *more: Path, workers: int = 1) -> dict:
    """Build a show of these recordings with the real CLI, from a fresh cache (the first one's output and report)."""
    show = work / "show"
    if show.exists():
        shutil.rmtree(show)
    (show / "episodes").mkdir(parents=True)
    (show / "show_notes").mkdir()
    (show / "panelpress.toml").write_text(SHOW.format(workers=workers))
    for number, recording in enumerate((source, *more)):
        name = f"{number}-{recording.name}"
        os.symlink(recording, show / "episodes" / name)
        (show / "show_notes" / f"{Path(name).stem}.md").write_text(
            f"---\ntitle: Bench {number}\ndate: 2026-01-0{number + 1}\n---\n"
        )
    result = measure([sys.executable, "-m", "pipeline.cli", "build", "--show", str(show)], cwd=ROOT)
    output = show / "public" / "media" / f"0-{source.stem}.mp3"
    records = sorted((show / ".panelpress-cache" / "master").glob("*.json"))
    report = json.loads(records[0].read_text())["report"] if not more else None  # one recording: its mastering report
    return {**result, "output": output, "report": report}


def normalize(source: Path, work: Path) -> dict | None:
    tool = shutil.which("ffmpeg-normalize", path=str(Path(sys.executable).parent)) or shutil.which("ffmpeg-normalize")
    if not tool:
        return None
    out = work / "normalized.mp3"
    command = [
        tool,
        str(source),
        "--preset",
        "podcast",
        "-c:a",
        "libmp3lame",
        "-b:a",
        "128k",
        "-ar",
        "44100",
        "-o",
        str(out),
        "-f",
        "-q",
    ]
    return {**measure(command, env={**os.environ, "FFMPEG_PATH": FF}), "output": out}


def memory_text(memory: dict[str, float]) -> str:
    return ", ".join(f"{kind} {mb:.0f} MB" for kind, mb in sorted(memory.items()) if mb >= 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60, help="length of each panel (default 60)")
    parser.add_argument("--profiles", default="realistic,hot,quiet", help="which inputs (default all three)")
    parser.add_argument(
        "--memory-minutes", type=float, default=180, help="length of the memory run; 0 skips it (default 180)"
    )
    parser.add_argument("--no-normalize", action="store_true", help="skip ffmpeg-normalize")
    parser.add_argument(
        "--throughput-minutes",
        type=float,
        default=60,
        help="length of each of the two panels mastered side by side on two workers; 0 skips it (default 60)",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    work = OUT / "run"
    work.mkdir(parents=True, exist_ok=True)
    results = {"minutes": args.minutes, "cores": os.cpu_count(), "ffmpeg": FF.rsplit("/", 1)[-1], "inputs": {}}
    for profile in args.profiles.split(","):
        source = panel.make(profile, args.minutes, args.seed)
        facts = panel.facts(source)
        print(
            f"\n## {profile}: {args.minutes:g} min, 48 kHz 24-bit stereo, {facts['I']:.1f} LUFS, true peak {facts['true_peak']:.1f} dBTP, LRA {facts['LRA']:.1f} LU",
            flush=True,
        )
        runs = {"plain": plain(source, work)}
        runs["panelpress"] = panelpress(source, work)
        if not args.no_normalize:
            found = normalize(source, work)
            if found:
                runs["ffmpeg-normalize"] = found
        floor = runs["plain"]
        print(
            "| method | wall s | × plain | CPU s | × plain | LUFS | dBTP | LRA in → out | limiter GR max / p99 dB | peak memory |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        stored = {}
        for name, run in runs.items():
            level = ebur128(run["output"])
            report = run.get("report")
            limiter = f"{report['limiter_max']:.1f} / {report['limiter_p99']:.1f}" if report else ""
            print(
                f"| {name} | {run['wall']:.1f} | {run['wall'] / floor['wall']:.2f}× | {run['cpu']:.1f} | {run['cpu'] / floor['cpu']:.2f}× | "
                f"{level['I']:.2f} | {level['TP']:.2f} | {facts['LRA']:.1f} → {level['LRA']:.1f} | {limiter} | {memory_text(run['memory'])} |"
            )
            stored[name] = {
                "wall": run["wall"],
                "cpu": run["cpu"],
                "memory": run["memory"],
                **level,
                **({"report": report} if report else {}),
            }
        one = runs["panelpress"]
        if "ffmpeg-normalize" in runs:
            other = runs["ffmpeg-normalize"]
            print(
                f"panelpress is {other['wall'] / one['wall']:.1f}× faster than ffmpeg-normalize in wall time, {other['cpu'] / one['cpu']:.1f}× in CPU time (target ≥ 3×)"
            )
        report = one["report"]
        hours = args.minutes / 60
        print(
            "panelpress passes (wall / CPU s): "
            + ", ".join(f"{p['name']} {p['wall']:.1f} / {p['cpu']:.1f}" for p in report["timings"])
            + f"; gain {report['gain']:+.1f} dB; compressor GR max / p99 {report['compressor_max']:.1f} / {report['compressor_p99']:.1f} dB",
            flush=True,
        )
        print(
            "per hour of audio, CPU s: "
            + ", ".join(f"{p['name']} {p['cpu'] / hours:.1f}" for p in report["timings"])
            + f"; the whole build {one['cpu'] / hours:.1f} (plain encode {floor['cpu'] / hours:.1f}"
            + (
                f", ffmpeg-normalize {runs['ffmpeg-normalize']['cpu'] / hours:.1f}"
                if "ffmpeg-normalize" in runs
                else ""
            )
            + ")",
            flush=True,
        )
        theirs = stored["panelpress"]
        print(
            f"panelpress's meter (decoded output) vs ffmpeg's ebur128 (peak=true): integrated {report['output_i']:.2f} vs "
            f"{theirs['I']:.2f} LUFS, true peak {report['output_tp']:.2f} vs {theirs['TP']:.2f} dBTP",
            flush=True,
        )
        results["inputs"][profile] = {"input": facts, **stored}
        for run in runs.values():
            run["output"].unlink(missing_ok=True)

    if args.throughput_minutes:
        # Throughput (issue 9): two different panels, mastered and checked on the decoded output side by side.
        first, second = (
            panel.make("realistic", args.throughput_minutes, args.seed),
            panel.make("realistic", args.throughput_minutes, args.seed + 1),
        )
        run = panelpress(first, work, second, workers=2)
        hours = 2 * args.throughput_minutes / 60
        print(
            f"\ntwo {args.throughput_minutes:g}-minute panels on two workers: wall {run['wall']:.1f} s, CPU {run['cpu']:.1f} s "
            f"({hours / (run['wall'] / 60):.2f} hours of audio a minute; issue 9's figure: two hours in ≤ 65 s)",
            flush=True,
        )
        results["throughput"] = {"minutes": args.throughput_minutes, "wall": run["wall"], "cpu": run["cpu"]}

    if args.memory_minutes:
        source = panel.make("realistic", args.memory_minutes, args.seed)
        run = panelpress(source, work)
        level = ebur128(run["output"])
        print(
            f"\n{args.memory_minutes:g} min (realistic): wall {run['wall']:.1f} s, CPU {run['cpu']:.1f} s, peak memory {memory_text(run['memory'])} "
            f"(target ≤ 300 MB each); output {level['I']:.2f} LUFS, {level['TP']:.2f} dBTP, LRA {level['LRA']:.1f}",
            flush=True,
        )
        results["memory"] = {
            "minutes": args.memory_minutes,
            "wall": run["wall"],
            "cpu": run["cpu"],
            "memory": run["memory"],
            **level,
        }
    (OUT / "results.json").write_text(json.dumps(results, indent=1))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
