"""Benchmark: what a build costs as a show grows, and that a rebuild costs what changed.

For each size N it makes a show of N distinct short recordings (shaped noise with turns, each its own seed), each
with realistic notes (panelists, a summary, a Markdown body with links and a list, chapters) and a transcript, and
prints: the first build, a no-op rebuild, a rebuild after editing one title, after adding one episode, `check`,
the peak memory (Python and the largest ffmpeg, each by its own peak), the CPU time of the build's whole process
tree against ffmpeg's own, and the time to render the feed. Then a no-op rebuild of shows whose recordings total
several gigabytes (high-rate multichannel WAVs), which must not grow with the bytes.

    .venv/bin/python bench/scale.py                      # N = 100 and 1000, 1 GB and 10 GB
    .venv/bin/python bench/scale.py --sizes 100 --gb 1   # a shorter look

Targets (issue 9): at 1,000 episodes a no-op rebuild < 1 s (aim 0.3 s), editing one notes file < 1 s, adding one
episode = its own mastering + < 1 s, `check` < 1 s, peak memory < 150 MB, the feed rendered in < 0.3 s, the first
build at most ffmpeg's own CPU time + 20%; the no-op time the same for 1 GB and 10 GB of recordings. Issue 27:
editing one title ≤ 0.8 s at 200 and at 1,000 episodes.

The CLI runs as a host's install runs it, its modules' bytecode kept (here under bench/out/pycache); with
`--compile-each-run` it runs in this process's environment as it is (PYTHONDONTWRITEBYTECODE=1, when set, has
every run compile panelpress's source again: about 0.1-0.15 CPU s of each command on the 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.audio.ffmpeg import ffmpeg

FF = ffmpeg()
OUT = ROOT / "bench" / "out"

SHOW = """\
[show]
title = "Scale Panel"
description = "A show made by the scale benchmark."
author = "Bench Host"
owner_email = "bench@example.com"
site_url = "https://bench.example.com/podcast/"
category = "Business"
artwork = "artwork.jpg"
[build]
publish_new = true
[audio]
level_voices = false
"""

BODY = """\
Episode {n} of the panel: three people on management, leadership and the people in between.

## What we covered

- Why **delegation** fails when the goal is vague ({n} examples)
- The [two-pizza rule](https://example.com/two-pizza-{n}) and where it breaks
- Questions from readers, with a long answer about one-to-ones

> Management is doing things right; leadership is doing the right things.

Links: [the article](https://example.com/article/{n}), [the book](https://example.com/book/{n}).
"""

# A child's peak memory, read from /proc while it runs (ru_maxrss of a parent mixes in its own peak).
RUN = (
    "import resource, runpy, sys, json; sys.argv = sys.argv[1:]\n"
    "code = 0\n"
    "try:\n    runpy.run_module('pipeline.cli', run_name='__main__')\n"
    "except SystemExit as e:\n    code = e.code\n"
    "me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(json.dumps({'code': code, 'rss': me.ru_maxrss, 'cpu': me.ru_utime + me.ru_stime,"
    " 'children_cpu': kids.ru_utime + kids.ru_stime}), file=sys.stderr)\n"
)


class Peak(threading.Thread):
    """The largest VmHWM of any ffmpeg process below `pid`, polled while it runs."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kib, self.running = pid, 0, True

    def run(self) -> None:
        while self.running:
            for status in Path("/proc").glob("[0-9]*/status"):
                try:
                    text = status.read_text()
                except OSError:
                    continue
                if "\nName:\tffmpeg" in "\n" + text and f"\nPPid:\t{self.pid}\n" in text:
                    hwm = next((int(line.split()[1]) for line in text.splitlines() if line.startswith("VmHWM:")), 0)
                    self.peak_kib = max(self.peak_kib, hwm)
            time.sleep(0.05)


# A host's install has its modules compiled once (pip compiles them, or Python on their first import): the CLI is
# run so here too, its bytecode kept under bench/out/pycache, so that no figure counts compiling panelpress's source
# on every run (what PYTHONDONTWRITEBYTECODE=1 makes a process do). `--compile-each-run` measures that way instead.
HOST_ENV = {
    **{key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"},
    "PYTHONPYCACHEPREFIX": str(OUT / "pycache"),
}
ENV: dict | None = HOST_ENV  # the CLI's environment (None: this process's own); bench/all.py runs it so too


def panelpress(*args: str) -> dict:
    """Run the panelpress CLI as a host would; its wall time, CPU (own and children's) and peak memory."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN, "panelpress", *args],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = Peak(proc.pid)
    peak.start()
    out, err = proc.communicate()
    peak.running = False
    wall = time.perf_counter() - start
    figures = json.loads(err.strip().splitlines()[-1])
    if figures["code"] not in (0, None):
        raise SystemExit(f"panelpress {' '.join(args)} failed ({figures['code']}):\n{out[-3000:]}\n{err[-3000:]}")
    return {
        "wall": wall,
        "rss_mb": figures["rss"] / 1024,
        "cpu": figures["cpu"],
        "ffmpeg_cpu": figures["children_cpu"],
        "ffmpeg_mb": peak.peak_kib / 1024,
    }


def make_recordings(folder: Path, count: int, seconds: float = 2.0) -> list[Path]:
    """`count` distinct recordings of speech-like noise with turns, cut from one generated stream."""
    folder.mkdir(parents=True, exist_ok=True)
    source = (
        "anoisesrc=color=pink:seed=7:amplitude=0.4:sample_rate=44100,bandpass=f=700:width_type=h:w=1800,"
        "volume='if(lt(mod(t*1.7,3),2.1),1,0.05)':eval=frame"
    )
    pattern = folder / "episode-%04d.wav"
    subprocess.run(
        [
            FF,
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            source,
            "-t",
            str(count * seconds),
            "-ac",
            "2",
            "-f",
            "segment",
            "-segment_time",
            str(seconds),
            "-reset_timestamps",
            "1",
            "-y",
            str(pattern),
        ],
        check=True,
    )
    return sorted(folder.glob("episode-*.wav"))[:count]


def write_episode(show: Path, recording: Path, n: int) -> None:
    """Notes (front matter, chapters, body) and a transcript for one recording."""
    slug = recording.stem
    day = f"20{10 + n // 365:02d}-{1 + (n // 28) % 12:02d}-{1 + n % 28:02d}"
    front = (
        f"---\ntitle: 'Panel {n}: management and the people in between'\ndate: {day}\n"
        f"summary: Three panelists on delegation, one-to-ones and the two-pizza rule, part {n}.\n"
        "panelists:\n  - name: Dana Whitfield\n    role: host\n  - Sam Okafor\n  - Lee Marsh\n"
        "chapters:\n  - 00:00:00 Welcome\n  - 00:00:00.700 Delegation\n  - 00:00:01.400 Questions\n---\n\n"
    )
    (show / "show_notes" / f"{slug}.md").write_text(front + BODY.format(n=n), encoding="utf-8")
    cues = "".join(
        f"00:00:0{i // 5}.{(i % 5) * 200:03d} --> 00:00:0{(i + 1) // 5}.{((i + 1) % 5) * 200:03d}\n<v {'Dana Whitfield' if i % 2 else 'Sam Okafor'}>Line {i} of panel {n}.\n\n"
        for i in range(9)
    )
    (show / "episodes" / f"{slug}.vtt").write_text("WEBVTT\n\n" + cues, encoding="utf-8")


def new_show(folder: Path) -> Path:
    """An empty show folder: settings, artwork, episodes/ and show_notes/."""
    from PIL import Image

    if folder.exists():
        shutil.rmtree(folder)
    (folder / "episodes").mkdir(parents=True)
    (folder / "show_notes").mkdir()
    (folder / "panelpress.toml").write_text(SHOW, encoding="utf-8")
    Image.new("RGB", (1400, 1400), (30, 90, 160)).save(folder / "artwork.jpg", quality=85)
    return folder


def make_show(folder: Path, count: int) -> Path:
    new_show(folder)
    recordings = make_recordings(folder / "episodes", count + 1)
    spare = recordings.pop()  # the episode "added" later
    shutil.move(spare, folder / "spare.wav")
    for n, recording in enumerate(recordings):
        write_episode(folder, recording, n)
    return folder


def median_run(args: tuple[str, ...], runs: int = 3) -> dict:
    """The run with the median wall time of several (its CPU time: the process and its children)."""
    results = sorted((panelpress(*args) for _ in range(runs)), key=lambda r: r["wall"])
    return results[len(results) // 2]


def cpu(run: dict) -> float:
    return run["cpu"] + run["ffmpeg_cpu"]


def feed_render_seconds(show: Path) -> float:
    """Rendering the feed of every published episode from the cached records (median of 3)."""
    code = (
        "import sys, time, statistics; sys.path.insert(0, sys.argv[2])\n"
        "from datetime import datetime, timezone\n"
        "from pathlib import Path\n"
        "from pipeline import cache, config, layout\n"
        "from pipeline.show import feed, ledger\n"
        "cfg = config.load(Path(sys.argv[1])); book = ledger.load(cfg.ledger_path)\n"
        "store = cache.Store(cfg.cache_dir, book.podcast_guid); state = store.state()\n"
        "items = [store.result(key).item for key, _ in state.published.values()]\n"
        "times = []\n"
        "for _ in range(3):\n"
        "    t = time.perf_counter(); feed.render(cfg, items, datetime.now(timezone.utc), None, book.podcast_guid); times.append(time.perf_counter() - t)\n"
        "print(statistics.median(times))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(show), str(ROOT)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def scale(count: int, work: Path) -> dict:
    show = make_show(work / f"show-{count}", count)
    first = panelpress("build", "--show", str(show))
    noop = median_run(("build", "--show", str(show)))
    notes = show / "show_notes" / "episode-0000.md"
    edits = []
    for round_ in range(3):
        text = notes.read_text(encoding="utf-8")
        notes.write_text(
            text.replace("title: 'Panel 0", f"title: 'Panel 0 (take {round_})", 1).replace(f" (take {round_ - 1})", ""),
            encoding="utf-8",
        )
        edits.append(panelpress("build", "--show", str(show)))
    edit = sorted(edits, key=lambda r: r["wall"])[1]
    check_cold = panelpress("check", "--show", str(show))  # the first check after a change
    check_warm = median_run(("check", "--show", str(show)))
    spare = show / "episodes" / f"episode-{count:04d}.wav"
    shutil.move(show / "spare.wav", spare)
    write_episode(show, spare, count)
    added = panelpress("build", "--show", str(show))
    alone = panelpress("build", "--show", str(make_single(work, spare, count)))  # its own mastering, in a show of one
    return {
        "n": count,
        "first": first,
        "noop": noop,
        "edit": edit,
        "add": added,
        "add_alone": alone,
        "check_cold": check_cold,
        "check": check_warm,
        "feed": feed_render_seconds(show),
        "rss": max(r["rss_mb"] for r in (first, noop, edit, added, check_cold, check_warm)),
    }


def make_single(work: Path, recording: Path, n: int) -> Path:
    show = new_show(work / "single")
    shutil.copy(recording, show / "episodes" / recording.name)
    write_episode(show, show / "episodes" / recording.name, n)
    return show


def big_show(work: Path, gigabytes: float) -> dict:
    """A show whose recordings total `gigabytes`: 8-channel 192 kHz 32-bit float WAVs (as a multitrack recorder
    writes them), so the bytes are many and the audio to master is short."""
    show = new_show(work / f"show-{gigabytes:g}gb")
    per_file_gb = min(1.0, gigabytes)
    files = max(1, round(gigabytes / per_file_gb))
    seconds = per_file_gb * 1e9 / (192000 * 8 * 4)
    for n in range(files):
        path = show / "episodes" / f"big-{n:02d}.wav"
        source = f"anoisesrc=color=pink:seed={n}:amplitude=0.3:sample_rate=192000"
        subprocess.run(
            [
                FF,
                "-nostdin",
                "-hide_banner",
                "-loglevel",
                "error",
                "-f",
                "lavfi",
                "-i",
                source,
                "-t",
                f"{seconds:.3f}",
                "-ac",
                "8",
                "-c:a",
                "pcm_f32le",
                "-rf64",
                "auto",
                "-y",
                str(path),
            ],
            check=True,
        )
        write_episode(show, path, n)
    size = sum(p.stat().st_size for p in (show / "episodes").glob("*.wav"))
    first = panelpress("build", "--show", str(show))
    noop = median_run(("build", "--show", str(show)), runs=5)
    for path in (show / "episodes").glob("*.wav"):
        os.utime(path)  # new times, same bytes: a content hash each, nothing re-made
    after_touch = panelpress("build", "--show", str(show))
    shutil.rmtree(show)
    return {"gb": size / 1e9, "files": files, "first": first["wall"], "noop": noop, "touch": after_touch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", type=int, nargs="*", default=[100, 1000], help="numbers of episodes (default: 100 1000)"
    )
    parser.add_argument(
        "--gb",
        type=float,
        nargs="*",
        default=[1, 10],
        help="gigabytes of recordings for the no-op check (default: 1 10)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated shows in bench/out/scale")
    parser.add_argument(
        "--compile-each-run",
        action="store_true",
        help="run the CLI with the environment as it is (PYTHONDONTWRITEBYTECODE=1 compiles panelpress on every run)",
    )
    args = parser.parse_args()
    if args.compile_each_run:
        global ENV
        ENV = None
    work = OUT / "scale" if args.keep else Path(tempfile.mkdtemp(prefix="panelpress-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        rows = [scale(n, work) for n in args.sizes]
        print("\nwall time (CPU time of the process and its children, s)")
        print(
            f"{'N':>6} {'first build':>18} {'no-op':>14} {'edit one title':>15} {'add one':>14} {'its mastering':>14} {'check, 1st':>14} {'check':>14} {'feed':>7} {'peak MB':>8}"
        )
        for r in rows:
            cells = [
                f"{r[k]['wall']:.2f} ({cpu(r[k]):.2f})"
                for k in ("noop", "edit", "add", "add_alone", "check_cold", "check")
            ]
            first = f"{r['first']['wall']:.0f} ({cpu(r['first']):.0f})"
            print(
                f"{r['n']:>6} {first:>18} "
                + " ".join(f"{c:>14}" for c in cells)
                + f" {r['feed']:>6.2f} {r['rss']:>8.0f}"
            )
        for r in rows:
            first = r["first"]
            print(
                f"N = {r['n']}: first build CPU {cpu(first):.0f} s, of which ffmpeg {first['ffmpeg_cpu']:.0f} s ({cpu(first) / first['ffmpeg_cpu']:.2f}× ffmpeg's own);"
                f" peak memory: Python {first['rss_mb']:.0f} MB (any command: {r['rss']:.0f} MB), ffmpeg {first['ffmpeg_mb']:.0f} MB"
            )
        if args.gb:
            print(f"\n{'recordings':>12} {'files':>6} {'first build':>12} {'no-op':>16} {'after touch':>16}")
            for gigabytes in args.gb:
                r = big_show(work, gigabytes)
                print(
                    f"{r['gb']:>9.1f} GB {r['files']:>6} {r['first']:>10.1f} s {r['noop']['wall']:>6.2f} s ({cpu(r['noop']):.2f}) {r['touch']['wall']:>6.2f} s ({cpu(r['touch']):.2f})"
                )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
