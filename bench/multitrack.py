"""Benchmark: a panel recorded one track per speaker, mixed by panelpress, against the plain sum of its tracks
(ffmpeg amix), both mastered by panelpress with the real CLI.

The panel (tests/panel.py): three espeak-ng voices 4-8 dB apart, each on its own track with the others' voices
bled in 15-20 dB down and 2-6 ms late, pink noise on every track, and a room track that hears the panel 6-10 dB
down and an audience question every four minutes. Generated once into bench/out/ (git-ignored).

Figures (issue 13): speaker level spread in the mix ≤ 1 LU (the plain sum keeps the input spread); bleed: while
one panelist speaks alone, the other tracks' contribution ≥ 15 dB lower than in the plain sum; noise floor between
phrases ≥ 10 dB lower than the plain sum; speaker turns ≥ 95% of the speech time attributed right; the mix stage
for 4 tracks × 60 min ≤ 60 s on 2 cores; peak memory ≤ 300 MB for 4 tracks × 180 min.

    .venv/bin/python bench/multitrack.py                        # 10 and 60 minutes; speed at 60; memory at 180
    .venv/bin/python bench/multitrack.py --minutes 10 --memory-minutes 0   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.audio import mix
from pipeline.audio.ffmpeg import ffmpeg
from pipeline.config import AudioSettings, MixSettings
from pipeline.episode import probe
from pipeline.records import Track
from tests.panel import Panel, espeak, make_panel

OUT = ROOT / "bench" / "out"
FF = ffmpeg()
SHOW = """\
[show]
title = "Bench Panel"
description = "Benchmark show."
author = "Bench"
owner_email = "bench@example.com"
site_url = "https://bench.example.com/"
[build]
cache = "{cache}"
"""
NOTES = "---\ntitle: Panel\ndate: 2026-01-01\npanelists: [{names}]\n---\n"

# Run the mix stage alone in a fresh process: its wall time, CPU seconds (itself and every ffmpeg) and peak memory.
MIX_RUN = """
import json, os, resource, sys, threading, time
from pathlib import Path
sys.path.insert(0, {root!r})
from pipeline import mix, probe
from pipeline.config import AudioSettings, MixSettings
from pipeline.files import file_sha256
from pipeline.records import Track
files = json.loads({files!r})
peak, done = [0], threading.Event()

def watch():  # each ffmpeg child's own peak (VmHWM after exec; getrusage would count the Python it was forked from)
    while not done.wait(0.2):
        for pid in os.listdir("/proc"):
            try:
                status = open(f"/proc/{{pid}}/status").read()
            except OSError:
                continue
            if f"PPid:\\t{{os.getpid()}}\\n" in status and "VmHWM" in status:
                peak[0] = max(peak[0], int(status.split("VmHWM:")[1].split()[0]))

threading.Thread(target=watch, daemon=True).start()
start = time.perf_counter()
tracks = [Track(path=Path(f), channel=0, who=who, info=probe.probe(Path(f)), sha256=file_sha256(Path(f))) for who, f in files]
made = mix.mix(tracks, MixSettings(), AudioSettings(), Path({cache!r}))
wall = time.perf_counter() - start
done.set()
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({{"wall": wall, "cpu": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime, "python_cpu": me.ru_utime + me.ru_stime, "python_mb": me.ru_maxrss / 1024, "ffmpeg_mb": peak[0] / 1024, "path": str(made.path)}}))
"""


def run_mix(panel: Panel, cache: Path) -> dict:
    """The mix stage on the panel's tracks, timed in a process of its own."""
    files = json.dumps([("room" if who == "room" else who, str(path)) for who, path in panel.tracks.items()])
    out = subprocess.run(
        [sys.executable, "-c", MIX_RUN.format(root=str(ROOT), files=files, cache=str(cache))],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"the mix failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def build(show: Path, cache: Path, episode: dict[str, Path] | Path, names: list[str]) -> Path:
    """`panelpress build` of a show holding one episode (a folder of tracks, or one recording); its published MP3."""
    if show.exists():
        shutil.rmtree(show)
    (show / "episodes").mkdir(parents=True)
    (show / "show_notes").mkdir()
    (show / "panelpress.toml").write_text(SHOW.format(cache=cache))
    if isinstance(episode, dict):
        (show / "episodes" / "panel").mkdir()
        for path in episode.values():
            os.symlink(path, show / "episodes" / "panel" / path.name)
    else:
        os.symlink(episode, show / "episodes" / f"panel{episode.suffix}")
    (show / "show_notes" / "panel.md").write_text(NOTES.format(names=", ".join(names)))
    out = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "build", "--show", str(show)], capture_output=True, text=True, cwd=ROOT
    )
    if out.returncode:
        raise SystemExit(f"the build failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return show / "public" / "media" / "panel.mp3"


def weighted_frames(path: Path, hop: float = 0.1) -> np.ndarray:
    """Mean square per `hop` seconds of a file, K-weighted roughly as BS.1770 weighs (dB differences are LU)."""
    rate = 16000
    size = int(rate * hop)
    proc = subprocess.Popen(
        [
            FF,
            "-v",
            "error",
            "-i",
            str(path),
            "-af",
            f"aresample={rate},highpass=f=60,highshelf=f=1500:g=4",
            "-ac",
            "1",
            "-f",
            "f32le",
            "-",
        ],
        stdout=subprocess.PIPE,
    )
    frames = []
    while data := proc.stdout.read(size * 4 * 500):
        samples = np.frombuffer(data[: len(data) // (size * 4) * size * 4], dtype="<f4")
        frames.append(np.mean(np.square(samples.reshape(-1, size), dtype=np.float64), axis=1))
    proc.wait()
    return np.concatenate(frames)


def inside(spans: list[tuple[float, float]], count: int, hop: float) -> np.ndarray:
    """Which frames lie wholly inside the spans."""
    mask = np.zeros(count, bool)
    for start, end in spans:
        a, b = int(np.ceil(start / hop)), int(np.floor(end / hop))
        mask[a : max(a, b)] = True
    return mask


def db(power: float) -> float:
    return 10 * np.log10(max(power, 1e-20))


def levels(frames: np.ndarray, panel: Panel, names: list[str]) -> tuple[dict[str, float], float]:
    """Each panelist's loudness where they speak alone, and the noise floor between phrases (both relative to the
    whole program)."""
    program = mix.loudness(frames, 0.1)
    each = {who: mix.loudness(frames[inside(panel.alone(who), len(frames), 0.1)], 0.1) - program for who in names}
    return each, db(float(np.mean(frames[inside(panel.quiet(), len(frames), 0.1)]))) - program


def bleed(panel: Panel, names: list[str], work: Path) -> tuple[dict[str, float], dict[str, float]]:
    """While each panelist speaks alone: the other tracks' contribution (dB, against the panelist's own track's) in
    the plain sum and in panelpress's mix (the mix stage's own decisions, rendered a track at a time)."""
    tracks = [Track(path=path, channel=0, who=who, info=probe.probe(path)) for who, path in panel.tracks.items()]
    settings, audio = MixSettings(), AudioSettings()
    starts, _, duration, plan = mix.analyse(tracks, settings, audio, work, lambda name, total: lambda done: None)
    ones = np.ones_like(plan.gains)
    hop, rate = 0.1, mix.mix_rate(tracks)
    spans = {who: inside(panel.alone(who), int(duration / hop) + 1, hop) for who in names}
    found = {}
    for label, gains in (("plain", ones), ("mixed", plan.gains)):
        own = dict.fromkeys(names, 0.0)
        rest = dict.fromkeys(names, 0.0)
        done = 0
        for block, gain in mix.blocks(tracks, starts, duration, gains, audio, settings, work):
            parts = block * gain
            total = parts.sum(axis=1)
            frame = ((done + np.arange(len(block))) / rate / hop).astype(int)
            for i, who in enumerate(w for w in panel.tracks if w in names):
                pick = spans[who][np.minimum(frame, len(spans[who]) - 1)]
                own[who] += float(np.sum(np.square(parts[pick, i], dtype=np.float64)))
                rest[who] += float(np.sum(np.square(total[pick] - parts[pick, i], dtype=np.float64)))
            done += len(block)
        found[label] = {who: db(rest[who]) - db(own[who]) for who in names}
    return found["plain"], found["mixed"]


def turns_right(panel: Panel, cache: Path, names: list[str]) -> tuple[float, float]:
    """Share of the panelists' speech (where one speaks alone) the mix's turns attribute right; and of the audience's."""
    meta = next((cache / "mix").glob("*.json"))
    hop = 0.02
    turns = json.loads(meta.read_text())["turns"]
    count = int(panel.seconds / hop) + 1
    said = np.full(count, "", dtype=object)
    for start, end, who in turns:
        said[int(start / hop) : int(end / hop)] = "audience" if who == mix.AUDIENCE else who
    right = total = 0
    for who in names:
        mask = inside(panel.alone(who, margin=0.0), count, hop)
        right, total = right + int(np.sum(said[mask] == who)), total + int(mask.sum())
    audience = inside(panel.alone("audience", margin=0.0), count, hop)
    return right / total, float(np.mean(said[audience] == "audience")) if audience.any() else float("nan")


def bench(minutes: float, work: Path, speed: bool) -> None:
    panel = make_panel(OUT / f"panel-{minutes:g}min", minutes * 60, speakers=3, question_every=240)
    names = [who for who in panel.tracks if who != "room"]
    cache = work / f"cache-{minutes:g}"
    timed = run_mix(panel, cache)
    mixed = build(work / "show-mixed", cache, panel.tracks, names)
    plain_wav = work / "plain.wav"
    inputs = [arg for path in panel.tracks.values() for arg in ("-i", str(path))]
    subprocess.run(
        [
            FF,
            "-v",
            "error",
            *inputs,
            "-filter_complex",
            f"amix=inputs={len(panel.tracks)}:normalize=0",
            "-c:a",
            "pcm_s24le",
            "-y",
            str(plain_wav),
        ],
        check=True,
    )
    plain = build(work / "show-plain", cache, plain_wav, names)
    ours, theirs = weighted_frames(mixed), weighted_frames(plain)
    ours_levels, ours_noise = levels(ours, panel, names)
    plain_levels, plain_noise = levels(theirs, panel, names)
    plain_bleed, mixed_bleed = bleed(panel, names, work)
    right, audience = turns_right(panel, cache, names)
    spread = lambda found: max(found.values()) - min(found.values())  # noqa: E731
    recorded = {who: panel.levels[who] for who in names}
    print(
        f"\n{minutes:g} min, {len(panel.tracks)} tracks (3 voices recorded at {', '.join(f'{v:+.0f}' for v in recorded.values())} dB, and the room), 48 kHz 16-bit WAV"
    )
    print("| figure | plain sum (amix), mastered | panelpress mix, mastered | target | met |")
    print("|---|---|---|---|---|")
    print(
        f"| speaker level spread | {spread(plain_levels):.1f} LU | {spread(ours_levels):.2f} LU | ≤ 1 LU | {'yes' if spread(ours_levels) <= 1 else 'no'} |"
    )
    cut = {who: plain_bleed[who] - mixed_bleed[who] for who in names}
    print(
        f"| other tracks while one speaks | {', '.join(f'{plain_bleed[w]:.1f}' for w in names)} dB | {', '.join(f'{mixed_bleed[w]:.1f}' for w in names)} dB | ≥ 15 dB lower | {'yes' if min(cut.values()) >= 15 else 'no'} ({min(cut.values()):.1f} dB lower at least) |"
    )
    print(
        f"| noise floor between phrases | {plain_noise:.1f} dB | {ours_noise:.1f} dB | ≥ 10 dB lower | {'yes' if plain_noise - ours_noise >= 10 else 'no'} ({plain_noise - ours_noise:.1f} dB lower) |"
    )
    print(
        f"| speech attributed to the right panelist | – | {right:.1%} (audience {audience:.1%}) | ≥ 95% | {'yes' if right >= 0.95 else 'no'} |"
    )
    print(
        f"  each speaker's level (LU against the program): plain {', '.join(f'{plain_levels[w]:+.1f}' for w in names)}; mix {', '.join(f'{ours_levels[w]:+.2f}' for w in names)}"
    )
    print(
        f"  mix stage: {timed['wall']:.1f} s wall, {timed['cpu']:.1f} CPU s ({timed['python_cpu']:.1f} in Python, the rest in ffmpeg), peak memory Python {timed['python_mb']:.0f} MB, largest ffmpeg {timed['ffmpeg_mb']:.0f} MB"
        + (" (target ≤ 60 s)" if speed else "")
    )


def memory(minutes: float, work: Path) -> None:
    panel = make_panel(OUT / f"panel-{minutes:g}min", minutes * 60, speakers=3, question_every=240)
    timed = run_mix(panel, work / f"cache-{minutes:g}")
    print(
        f"\n{minutes:g} min, {len(panel.tracks)} tracks: mix stage {timed['wall']:.1f} s wall, {timed['cpu']:.1f} CPU s ({timed['python_cpu']:.1f} in Python); peak memory Python {timed['python_mb']:.0f} MB, largest ffmpeg {timed['ffmpeg_mb']:.0f} MB (target ≤ 300 MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, nargs="+", default=[10, 60], help="panel lengths (default 10 60)")
    parser.add_argument(
        "--memory-minutes", type=float, default=180, help="length of the memory run; 0 skips it (default 180)"
    )
    args = parser.parse_args()
    if espeak() is None:
        raise SystemExit("espeak-ng is not installed: apt-get install -y espeak-ng")
    print(f"{os.cpu_count()} cores; {FF.rsplit('/', 1)[-1]}; generated panels in {OUT.relative_to(ROOT)}/", flush=True)
    work = Path(tempfile.mkdtemp(prefix="panelpress-multitrack-"))
    try:
        for minutes in args.minutes:
            bench(minutes, work, speed=minutes == 60)
        if args.memory_minutes:
            memory(args.memory_minutes, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
