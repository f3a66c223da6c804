"""Benchmark: remastering a back catalogue on threads and on a Dask cluster, side by side in one run.

A show of 50 distinct 10-minute speech-like recordings (two voices of band-passed pink noise taking turns, each
episode its own seed, level and rhythm) is first published as plain encodes (`normalize = false`), then the host
turns loudness mastering on and remasters every episode:

    threads   `panelpress remaster` on this machine's threads ([build] workers = 0: one per core)
    dask      the same remaster of a copy of the show on a `dask.distributed.LocalCluster` of 2 single-threaded
              worker processes on this machine (`--executor dask --scheduler ...`)

It prints wall and CPU time of each (CPU of the whole process tree: the build, the workers, every ffmpeg), checks
that both sites are byte-identical, measures the scheduler's overhead per episode task (a task carrying a real
episode's records and returning them, one at a time), and projects the time 2,000 hours of audio would take on 10
workers of this machine's size from the measured cost per hour of audio.

    .venv/bin/python bench/catalogue.py                           # 50 × 10 minutes
    .venv/bin/python bench/catalogue.py --episodes 6 --minutes 2  # a shorter look

Inputs are made once per length and count in bench/out/catalogue/inputs (git-ignored). Needs the `dask` extra.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.audio.ffmpeg import ffmpeg

OUT = ROOT / "bench" / "out" / "catalogue"
VERSION = 1  # bump when the generator changes what it makes
NOW = "2026-06-01T00:00:00+00:00"  # both remasters publish "now": the same lastBuildDate, so the sites can be compared

SHOW = """\
[show]
title = "Catalogue Panel"
description = "A back catalogue remastered by the catalogue benchmark."
author = "Bench Host"
owner_email = "bench@example.com"
site_url = "https://bench.example.com/podcast/"
category = "Business"
[build]
publish_new = true
[audio]
normalize = {normalize}
"""

# The build as a host runs it, in a process of its own: its figures (and its children's CPU) on stderr as JSON.
RUN = """
import json, resource, sys, time
from datetime import datetime
from pipeline import config
from pipeline.build import build
settings = config.with_executor(config.load(sys.argv[1]), sys.argv[2], sys.argv[3] or None)
start = time.perf_counter()
result = build(settings, now=datetime.fromisoformat(sys.argv[4]), remaster=sys.argv[5] == "remaster")
wall = time.perf_counter() - start
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"ok": result.ok, "published": len(result.published), "failures": [f.error.message() for f in result.failures],
                  "wall": wall, "cpu": me.ru_utime + me.ru_stime, "children_cpu": kids.ru_utime + kids.ru_stime}), file=sys.stderr)
"""


def recording(folder: Path, number: int, minutes: float) -> Path:
    """One episode's recording: two voices (band-passed pink noise) taking turns at their own levels and rhythm."""
    path = folder / f"panel-{number:03d}.flac"
    if path.is_file():
        return path
    a, b = 0.25 + (number % 7) * 0.06, 0.12 + (number % 5) * 0.05  # the voices' levels differ per episode
    turn = 2.6 + (number % 9) * 0.35  # seconds per turn
    graph = (
        f"anoisesrc=color=pink:seed={number * 2 + 1}:amplitude={a:.3f}:sample_rate=48000,bandpass=f=650:width_type=h:w=1500,"
        f"volume='if(lt(mod(t,{turn * 2:.2f}),{turn * 0.8:.2f}),1,0.02)':eval=frame[a];"
        f"anoisesrc=color=pink:seed={number * 2 + 2}:amplitude={b:.3f}:sample_rate=48000,bandpass=f=1000:width_type=h:w=2000,"
        f"volume='if(between(mod(t,{turn * 2:.2f}),{turn:.2f},{turn * 1.85:.2f}),1,0.02)':eval=frame[b];"
        "[a][b]amix=inputs=2:normalize=0"
    )
    partial = path.with_suffix(".partial.flac")
    subprocess.run(
        [
            ffmpeg(),
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            graph,
            "-t",
            str(minutes * 60),
            "-ac",
            "1",
            "-c:a",
            "flac",
            "-y",
            str(partial),
        ],
        check=True,
    )
    partial.rename(path)
    return path


def inputs(count: int, minutes: float) -> list[Path]:
    """The catalogue's recordings, made once (two at a time: one per core)."""
    from concurrent.futures import ThreadPoolExecutor

    folder = OUT / "inputs" / f"v{VERSION}-{minutes:g}min"
    folder.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(lambda n: recording(folder, n, minutes), range(1, count + 1)))


def make_show(folder: Path, recordings: list[Path]) -> Path:
    """A show of every recording (linked, not copied), each with notes, one a week."""
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "episodes").mkdir(parents=True)
    (folder / "show_notes").mkdir()
    (folder / "panelpress.toml").write_text(SHOW.format(normalize="false"))
    for number, source in enumerate(recordings, start=1):
        os.link(source, folder / "episodes" / source.name)
        week = f"2020-{1 + (number - 1) // 4 % 12:02d}-{1 + 7 * ((number - 1) % 4):02d}"
        (folder / "show_notes" / f"{source.stem}.md").write_text(
            f"---\ntitle: Panel {number}\ndate: {week}\npanelists: [Dana, Sam]\n---\n\nPanel {number} of the catalogue.\n"
        )
    return folder


def run(show: Path, executor: str, scheduler: str = "", remaster: bool = True) -> dict:
    """One build of `show` in a process of its own; its figures, with the CPU of every process it started."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(show), executor, scheduler, NOW, "remaster" if remaster else "build"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    try:
        figures = json.loads(done.stderr.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise SystemExit(f"the {executor} build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}") from None
    if not figures["ok"]:
        raise SystemExit(f"the {executor} build failed: {figures['failures']}")
    return {**figures, "process_wall": wall}


def site(folder: Path) -> dict[str, str]:
    import hashlib

    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".panelpress")
    }


def _echo(work, setup):
    return work


def overhead_ms(client, show: Path, count: int) -> float:
    """The scheduler's cost of one episode task: submit a real episode's Work and Setup, get them back, one at a time."""
    from datetime import datetime

    from pipeline import config
    from pipeline.episode import stages
    from pipeline.episode.discover import discover

    settings = config.load(show)
    setup = stages.Setup(config=settings, now=datetime.fromisoformat(NOW))
    recordings, _ = discover(settings)
    works = [stages.run(stages.Work(source=rec), setup, stages.NOTES) for rec in recordings[:count]]
    client.submit(_echo, works[0], setup, pure=False).result()  # the first task also ships the function
    times = []
    for work in works:
        start = time.perf_counter()
        client.submit(_echo, work, setup, pure=False).result()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    recordings = inputs(args.episodes, args.minutes)
    print(
        f"inputs: {len(recordings)} recordings of {args.minutes:g} min ({time.perf_counter() - t0:.0f} s, cached in {OUT.relative_to(ROOT)}/inputs)",
        flush=True,
    )
    work = OUT / "shows"
    threads_show = make_show(work / "threads", recordings)
    first = run(threads_show, "threads", remaster=False)  # published once as plain encodes
    print(f"first publish (plain encodes, threads): {first['wall']:.1f} s", flush=True)
    settings = threads_show / "panelpress.toml"
    settings.write_text(
        settings.read_text().replace("normalize = false", "normalize = true")
    )  # the host turns mastering on
    dask_show = work / "dask"
    shutil.rmtree(dask_show, ignore_errors=True)
    shutil.copytree(
        threads_show,
        dask_show,
        copy_function=lambda src, dst: os.link(src, dst) if "/episodes/" in src else shutil.copy2(src, dst),
    )

    threads = run(threads_show, "threads")
    print(f"threads: {threads['wall']:.1f} s", flush=True)

    before = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    started = time.perf_counter() - start
    client = Client(cluster, set_as_default=False)
    on_dask = run(dask_show, "dask", cluster.scheduler_address)
    print(f"dask: {on_dask['wall']:.1f} s", flush=True)
    measuring = resource.getrusage(resource.RUSAGE_SELF)
    overhead = overhead_ms(client, dask_show, args.episodes)
    measured = resource.getrusage(resource.RUSAGE_SELF)  # the overhead's own notes stages here: not the remaster's CPU
    client.close()
    cluster.close()  # its worker processes are reaped: their CPU (and their ffmpegs') is counted below
    after = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
    dask_cpu = sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before))
    dask_cpu -= measured.ru_utime + measured.ru_stime - measuring.ru_utime - measuring.ru_stime

    same = site(threads_show / "public") == site(dask_show / "public")
    hours = args.episodes * args.minutes / 60
    threads_cpu = threads["cpu"] + threads["children_cpu"]
    per_hour = on_dask["wall"] / hours
    projected = 2000 * per_hour / 10
    ratio = on_dask["wall"] / threads["wall"]
    print()
    print(
        f"catalogue: {args.episodes} episodes × {args.minutes:g} min = {hours:.2f} h of audio, remastered (normalize off → on, -16 LUFS); {os.cpu_count()} cores"
    )
    print("| run | wall | CPU (build + workers + ffmpeg) | wall per hour of audio |")
    print("|---|---|---|---|")
    print(f"| threads (2 threads) | {threads['wall']:.1f} s | {threads_cpu:.1f} s | {threads['wall'] / hours:.1f} s |")
    print(
        f"| Dask LocalCluster (2 single-threaded worker processes) | {on_dask['wall']:.1f} s | {dask_cpu:.1f} s | {per_hour:.1f} s |"
    )
    print(
        f"Dask / threads wall: {ratio:.3f} ({(ratio - 1) * 100:+.1f} %; target: at most 10 % slower: {'met' if ratio <= 1.10 else 'NOT met'})"
    )
    print(f"sites byte-identical: {'yes' if same else 'NO'} ({len(site(threads_show / 'public'))} files)")
    print(f"cluster start (not in the Dask wall time; its CPU is in the Dask CPU): {started:.1f} s")
    print(
        f"scheduler overhead per episode task (a real episode's Work and Setup there and back, median of {args.episodes}): {overhead:.1f} ms"
    )
    print(
        f"projection (not measured): 2,000 h of audio on 10 workers of this machine's size (2 cores each) ≈ 2000 × {per_hour:.1f} s / 10 = {projected / 3600:.1f} h"
    )
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
