"""Benchmark: `panelpress stats` over 1 million and 10 million realistic access-log lines.

It writes a show whose site folder holds 30 episodes (each a real 128 kbps MP3 frame stretched to 40 minutes as a
sparse file, with an ID3 tag of cover art, and an Opus edition named in the manifest), then an nginx log in the
combined format with the Range field: listeners of Apple Podcasts (its bytes=0-1 probe, then AppleCoreMedia's
chunks), Overcast, Pocket Casts, Spotify, AntennaPod and browsers (ranges, whole files, partial plays), the feed
fetched by apps and aggregators, bots and libraries, and the site's pages and assets, over a day per 30,000 lines.
Each run is `python -m pipeline.cli stats` in a process of its own, measured by the kernel (wait4):

- the full run: lines per second (wall and CPU), peak memory (maximum resident set);
- the incremental run after 1 % more lines were appended: its time against the full run's.

The CLI runs as a host's install runs it, its modules' bytecode kept (under bench/out/pycache), as in bench/scale.py:
PYTHONDONTWRITEBYTECODE=1, when set, would have every run compile panelpress's source again (about 0.1 s of CPU, a
fifth of an incremental run's); `--compile-each-run` measures that way instead.

    .venv/bin/python bench/stats.py                   # 1 M and 10 M lines
    .venv/bin/python bench/stats.py --lines 1000000
    .venv/bin/python bench/stats.py --lines 1000000 --runs 3              # three of each, and their medians
    .venv/bin/python bench/stats.py --lines 1000000 --keep /some/folder   # its show and log kept there
    .venv/bin/python bench/stats.py --lines 1000000 --compile-each-run    # the environment as it is

A kept show and log let two versions of the code be compared on the same lines, e.g. their outputs byte for byte:
`python -m pipeline.cli stats --show FOLDER/show-1000000 --format csv --reset FOLDER/access-1000000.log`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scale import HOST_ENV  # the CLI's environment as a host's install runs it: its bytecode kept

EPISODES = 30
MINUTES = 40
LINES_PER_DAY = 30_000
SHOW = """\
[show]
title = "Bench Panel"
description = "A show for the stats benchmark."
author = "Bench"
owner_email = "owner@example.com"
site_url = "https://pod.example.com/show/"
category = "Business"
explicit = false
[build]
publish_new = false
"""

APPS = [  # (weight, agent, how it downloads)
    (30, "Podcasts/1410.53 CFNetwork/1111 Darwin/19.0.0 (x86_64)", "apple"),
    (12, "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)", "whole"),
    (10, "Pocket Casts", "whole"),
    (18, "Spotify/8.7.10 iOS/15.3.1 (iPhone13,2)", "chunks"),
    (6, "AntennaPod/3.2.0", "whole"),
    (4, "Castro 2020.14/1287", "whole"),
    (
        5,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
        "partial",
    ),
    (3, "AppleCoreMedia/1.0.0.18R382 (Apple Watch; U; CPU OS 7_0 like Mac OS X; en_us)", "whole"),
]
CORE_MEDIA = "AppleCoreMedia/1.0.0.19E258 (iPhone; U; CPU OS 15_4 like Mac OS X; en_us)"
BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "curl/8.5.0",
    "python-requests/2.31.0",
    "facebookexternalhit/1.1",
    "-",
]
FEEDERS = [
    "Feedly/1.0 (+http://www.feedly.com/fetcher.html; {n} subscribers; like FeedFetcher-Google)",
    "Overcast/1.0 Podcast Sync ({n} subscribers; feed-id=123; +http://overcast.fm/)",
    "iTMS",
    "Podcasts/1410.53 CFNetwork/1111 Darwin/19.0.0 (x86_64)",
    "PocketCasts/1.0 (Pocket Casts Feed Parser; +http://pocketcasts.com/)",
]
PAGES = ["/show/", "/show/index.html", "/show/assets/site.css", "/show/assets/site.js", "/show/icons/icon-192.png"]


def make_show(folder: Path, episodes: int = EPISODES) -> tuple[Path, list[tuple[str, int]]]:
    """A built show without audio work: settings, ledger, manifest, and sparse MP3s of 40 minutes."""
    import json

    from pipeline import layout

    folder.mkdir(parents=True)
    (folder / "panelpress.toml").write_text(SHOW)
    for sub in ("episodes", "show_notes"):
        (folder / sub).mkdir()
    site = folder / "public" / "media"
    site.mkdir(parents=True)
    frame = _mp3_frame()
    tag = _id3(60_000)
    size = len(tag) + 128_000 // 8 * 60 * MINUTES
    files, ledger, manifest = [], {}, {}
    for n in range(episodes):
        slug = f"episode-{n + 1:03d}"
        rel = layout.media(slug, "mp3")
        path = folder / "public" / rel
        with path.open("wb") as stream:
            stream.write(tag + frame * 40)
        os.truncate(path, size)
        files.append((rel, size))
        manifest[rel] = ["0" * 64, size, 0]
        ledger[slug] = {"guid": f"g{n}", "first_published": f"2026-01-{1 + n % 28:02d}T09:00:00+00:00"}
    manifest[layout.FEED_FILE] = ["0" * 64, 1, 0]
    (folder / "public" / layout.MANIFEST).write_text(json.dumps({"files": manifest}))
    (folder / "panelpress-ledger.json").write_text(json.dumps({"episodes": ledger}))
    return folder, files


def _mp3_frame() -> bytes:
    # MPEG-1 Layer III, 128 kbps, 44.1 kHz, no padding: 417 bytes
    return struct.pack(">I", 0xFFFB9000) + bytes(413)


def _id3(size: int) -> bytes:
    body = size - 10
    synchsafe = bytes([(body >> 21) & 0x7F, (body >> 14) & 0x7F, (body >> 7) & 0x7F, body & 0x7F])
    return b"ID3\x04\x00\x00" + synchsafe + bytes(body)


def write_log(path: Path, lines: int, files: list[tuple[str, int]], start: float, seed: int) -> float:
    """`lines` realistic lines appended to `path`; the time of the last one."""
    rng = random.Random(seed)
    weights = [weight for weight, _, _ in APPS]
    listeners = [
        (f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}")
        if rng.random() < 0.8
        else f"2001:db8:{rng.randint(0, 0xFFFF):x}:{rng.randint(0, 0xFFFF):x}::{rng.randint(1, 0xFFFF):x}"
        for _ in range(200_000)
    ]
    step = 86_400 / LINES_PER_DAY
    now = start
    out = []
    written = 0
    with path.open("a") as stream:
        while written < lines:
            now += step
            stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now))
            ip = rng.choice(listeners)
            roll = rng.random()
            if roll < 0.62:
                rel, size = rng.choice(files)
                _, agent, how = rng.choices(APPS, weights)[0]
                requests = _downloads(rng, how, agent, size)
            elif roll < 0.77:
                agent = rng.choice(FEEDERS).format(n=rng.randint(1, 500))
                rel, requests = "feed.xml", [(agent, "-", 200, 40_000)]
            elif roll < 0.87:
                rel, size = rng.choice(files)
                requests = [(rng.choice(BOTS), "-", 200, size)]
            else:
                rel = rng.choice(PAGES).removeprefix("/show/")
                requests = [(rng.choice([BOTS[0], APPS[6][1]]), "-", 200, 5_000)]
            for agent, range_, status, sent in requests:
                out.append(f'{ip} - - [{stamp}] "GET /show/{rel} HTTP/1.1" {status} {sent} "-" "{agent}" "{range_}"\n')
                written += 1
            if len(out) >= 50_000:
                stream.write("".join(out))
                out.clear()
        stream.write("".join(out))
    return now


def _downloads(rng: random.Random, how: str, agent: str, size: int) -> list[tuple[str, str, int, int]]:
    if how == "apple":
        chunks = [(agent, "bytes=0-1", 206, 2)]
        position = 0
        for _ in range(rng.randint(1, 4)):
            length = rng.randint(200_000, 2_000_000)
            chunks.append((CORE_MEDIA, f"bytes={position}-{position + length - 1}", 206, length))
            position += length
        return chunks
    if how == "chunks":
        start = rng.choice((0, 0, rng.randint(0, size // 2)))
        length = rng.randint(500_000, 8_000_000)
        return [(agent, f"bytes={start}-{start + length - 1}", 206, length)]
    if how == "partial":
        return [(agent, "bytes=0-", 206, rng.randint(10_000, 3_000_000))]
    return [(agent, "-", 200, size if rng.random() < 0.9 else rng.randint(1_000, size))]


def _tree_pss(pid: int) -> int:
    """The proportional set size (bytes) of a process and its children: memory shared between them counted once."""
    total = 0
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for each in pids:
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
    return total


def run(show: Path, log: Path, compile_each_run: bool = False, reset: bool = False) -> tuple[float, float, int, str]:
    """One `panelpress stats` in a process of its own (`reset`: from no state): wall seconds, CPU seconds (its
    processes), peak memory (bytes: the largest sum of its processes' proportional set sizes, sampled every 0.2 s),
    its summary."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if not compile_each_run:  # as installed: the bytecode compiled once
        env = {**HOST_ENV, "PYTHONPATH": str(ROOT)}
    began = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "stats", "--show", str(show), "--format", "csv"]
        + ["--reset"] * reset
        + [str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], _tree_pss(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    err = process.stderr.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    done.set()
    sampler.join()
    wall = time.monotonic() - began
    if status != 0:
        raise SystemExit(f"stats failed: {err}")
    return wall, usage.ru_utime + usage.ru_stime, max(peak[0], usage.ru_maxrss * 1024), err.strip().splitlines()[-1]


def _said(figures: str, summary: str) -> None:
    """A run's figures, and the CLI's summary line under them when there is one (the first run of a size)."""
    print(figures, flush=True)
    if summary:
        print(f"    {summary}", flush=True)


def speed() -> float:
    """Seconds of CPU for ten million steps of a Python loop: on a shared machine, how fast it is at the moment (the
    same code measured minutes apart differs by a third here)."""
    began = time.process_time()
    total = 0
    for step in range(10_000_000):
        total += step
    return time.process_time() - began


def bench(
    lines: int,
    folder: Path,
    keep: bool = False,
    compile_each_run: bool = False,
    runs: int = 1,
    episodes: int = EPISODES,
) -> None:
    show, files = make_show(folder / f"show-{lines}", episodes)
    log = folder / f"access-{lines}.log"
    began = time.monotonic()
    last = write_log(log, lines, files, time.mktime((2026, 1, 1, 0, 0, 0, 0, 0, 0)), seed=lines)
    made = time.monotonic() - began
    size = log.stat().st_size
    print(f"{lines:,} lines ({size / 1e9:.2f} GB, written in {made:.0f} s), a show of {episodes} episodes", flush=True)
    if not compile_each_run:
        subprocess.run(  # compiled before the runs, as pip compiles an install
            [sys.executable, "-m", "compileall", "-q", str(ROOT / "pipeline")],
            env=HOST_ENV,
            check=True,
        )
    more = lines // 100
    before = speed()
    fulls, tails = [], []
    for number in range(runs):  # each a full run from no state, then 1 % more lines, which are then taken off again
        wall, cpu, peak, summary = run(show, log, compile_each_run, reset=True)
        _said(
            f"  full run:        {wall:7.1f} s wall, {cpu:7.1f} s CPU, {lines / wall:10,.0f} lines/s (wall), "
            f"{lines / cpu:10,.0f} lines/s (CPU), peak memory {peak / 2**20:,.0f} MiB",
            summary if not number else "",
        )
        write_log(log, more, files, last, seed=lines + 1)
        wall2, cpu2, peak2, summary2 = run(show, log, compile_each_run)
        _said(
            f"  +1 % ({more:,} lines): {wall2:7.2f} s wall, {cpu2:7.2f} s CPU = {100 * wall2 / wall:.1f} % of the full "
            f"run's wall time ({100 * cpu2 / cpu:.1f} % of its CPU time), peak memory {peak2 / 2**20:,.0f} MiB",
            summary2 if not number else "",
        )
        if number + 1 < runs:
            os.truncate(log, size)
        fulls.append((wall, cpu))
        tails.append((wall2, cpu2))
    if runs > 1:
        wall, cpu = (statistics.median(values) for values in zip(*fulls))
        wall2, cpu2 = (statistics.median(values) for values in zip(*tails))
        print(
            f"  median of {runs}: full run {wall:.2f} s wall ({lines / wall:,.0f} lines/s), {cpu:.2f} s CPU; +1 % run "
            f"{wall2:.3f} s wall ({100 * wall2 / wall:.1f} %), {cpu2:.3f} s CPU ({100 * cpu2 / cpu:.1f} %)",
            flush=True,
        )
    print(
        f"  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; the machine's speed: ten million Python "
        f"loop steps in {before:.2f} s of CPU before the runs, {speed():.2f} s after",
        flush=True,
    )
    if keep:
        print(f"  kept: {show} and {log}", flush=True)
    else:
        log.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, action="append", help="lines of log (repeatable; default 1 M and 10 M)")
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="write the shows and logs into DIR (new or empty) and keep them"
    )
    parser.add_argument(
        "--compile-each-run",
        action="store_true",
        help="run the CLI with the environment as it is (PYTHONDONTWRITEBYTECODE=1 compiles panelpress on every run)",
    )
    parser.add_argument(
        "--runs", type=int, default=1, help="full and +1 %% runs per size, and their medians (default 1)"
    )
    parser.add_argument(
        "--episodes", type=int, default=EPISODES, help=f"episodes the listeners choose from (default {EPISODES})"
    )
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            if any(args.keep.iterdir()):
                raise SystemExit(f"{args.keep}: not empty (give a new or empty folder)")
            folder = str(args.keep)
        else:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="panelpress-stats-bench-"))
        for lines in args.lines or [1_000_000, 10_000_000]:
            bench(lines, Path(folder), bool(args.keep), args.compile_each_run, args.runs, args.episodes)


if __name__ == "__main__":
    main()
