"""Benchmark: what a clip of a soundbite costs, and that an unchanged episode makes none again.

It writes a show of one episode: real speech (espeak-ng, two voices taking turns, sentences with pauses) of about
`--seconds` + 20 seconds, a transcript whose cues name their speakers, a 1400-pixel cover, and one soundbite of
`--seconds` seconds (30 by default) in the middle. It builds it once with clips off (the mastering, not measured), then
turns clips on (`--shapes`, vertical by default) and builds again through the real build: the wall time of that build
and the CPU time of the ffmpeg processes it ran (robust on a busy machine) are the clip's cost, with each ffmpeg pass
the clip's record in the cache names. Then a third build with nothing changed: clips made (0) and its wall time. The
clip is measured again here: its size, length and loudness (ffmpeg's ebur128 on the decoded sound). Needs espeak-ng.

    .venv/bin/python bench/clips.py                      # a 30-second vertical clip
    .venv/bin/python bench/clips.py --shapes square vertical --seconds 60
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import config as config_module
from pipeline.audio.ffmpeg import ffmpeg
from pipeline.build import build

SENTENCES = [
    "Panels work because every voice gets a turn, and nobody can hide behind a slide deck.",
    "The best question of the evening came from the back row, and it was about budgets.",
    "We spent the first hour on hiring, which is where most teams quietly lose a quarter.",
    "A good moderator keeps the time, and a great one keeps the tension.",
    "If you remember one thing, write the decision down before the meeting ends.",
    "That is harder than it sounds when five people think they already agreed.",
]
VOICES = (("Dana", "en-us"), ("Sam", "en-gb"))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _speech(folder: Path, seconds: float) -> tuple[Path, str]:
    """A recording of sentences in turns, and its transcript (WebVTT, one cue per sentence with its speaker)."""
    parts, cues, at, n = [], ["WEBVTT", ""], 0.0, 0
    while at < seconds:
        text = SENTENCES[n % len(SENTENCES)]
        name, voice = VOICES[n % len(VOICES)]
        wav = folder / f"s{n}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "165", "-w", str(wav), text], check=True)
        length = os.path.getsize(wav) / (22050 * 2)  # 16-bit mono at espeak-ng's rate, near enough for a cue
        cues += [f"{_vtt(at)} --> {_vtt(at + length)}", f"<v {name}>{text}", ""]
        parts.append(wav)
        at += length + 0.7
        n += 1
    recording = folder / "episodes" / "panel.wav"
    recording.parent.mkdir(parents=True)
    inputs = [arg for wav in parts for arg in ("-i", str(wav))]
    chain = "".join(f"[{i}:a]aresample=44100,apad=pad_dur=0.7[a{i}];" for i in range(len(parts)))
    chain += "".join(f"[a{i}]" for i in range(len(parts))) + f"concat=n={len(parts)}:v=0:a=1"
    subprocess.run(
        [ffmpeg(), "-nostdin", "-loglevel", "error", *inputs, "-filter_complex", chain, "-y", str(recording)],
        check=True,
    )
    return recording, "\n".join(cues)


def _vtt(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _show(folder: Path, seconds: float, shapes: list[str]) -> None:
    recording, vtt = _speech(folder, seconds + 20)
    recording.with_suffix(".vtt").write_text(vtt)
    subprocess.run(
        [
            ffmpeg(),
            "-nostdin",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "gradients=s=1400x1400:seed=7",
            "-frames:v",
            "1",
            "-y",
            str(folder / "cover.jpg"),
        ],
        check=True,
    )
    (folder / "show_notes").mkdir()
    (folder / "show_notes" / "panel.md").write_text(
        "---\ntitle: Why panels work, and what a moderator is for\ndate: 2026-03-01\npanelists: [Dana, Sam]\n"
        f"soundbites:\n  - {{start: 10, duration: {seconds}, title: Every voice gets a turn}}\n---\n\nA panel.\n"
    )
    (folder / config_module.CONFIG_NAME).write_text(
        '[show]\ntitle = "Lead the Panel"\ndescription = "Bench."\nauthor = "Bench"\nowner_email = "b@example.com"\n'
        'site_url = "https://pod.example.com/"\ncategory = "Business"\nartwork = "cover.jpg"\n'
        f"[build]\npublish_new = true\n[clips]\nmake = false\nshapes = {json.dumps(shapes)}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="the soundbite's length")
    parser.add_argument("--shapes", nargs="+", default=["vertical"], choices=["square", "vertical"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "show"
        folder.mkdir()
        _show(folder, args.seconds, args.shapes)
        first = build(config_module.load(folder))
        assert first.ok, first
        settings = folder / config_module.CONFIG_NAME
        settings.write_text(settings.read_text().replace("make = false", "make = true"))
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        cpu, started = _children_cpu(), time.perf_counter()
        made = build(config_module.load(folder))
        wall, cpu = time.perf_counter() - started, _children_cpu() - cpu
        assert made.ok and made.clips, made
        print(f"load average before: {load}, {os.cpu_count()} cores")
        print(
            f"{len(made.clips)} clip(s) of {args.seconds:g} s ({', '.join(args.shapes)}): build {wall:.1f} s wall, "
            f"{cpu:.1f} s CPU of ffmpeg ({cpu / args.seconds:.2f} CPU s per second of clip)"
        )
        for clip in made.clips:
            record = json.loads(clip.content.with_suffix(".json").read_text())
            log = subprocess.run(
                [
                    ffmpeg(),
                    "-hide_banner",
                    "-nostats",
                    "-i",
                    str(clip.content),
                    "-map",
                    "0:a:0",
                    "-af",
                    "ebur128=peak=true",
                    "-f",
                    "null",
                    "-",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stderr
            summary = log[log.rindex("Summary:") :]
            lufs = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
            print(
                f"  {clip.shape} {clip.width}x{clip.height}: {clip.length / 1e6:.1f} MB, render {record['wall']:.1f} s wall / "
                f"{record['cpu']:.1f} s CPU in ffmpeg, sound {record['encodes']} encode(s), {lufs:.1f} LUFS decoded, "
                f"captions {'yes' if clip.captions else 'no'}"
            )
        started = time.perf_counter()
        again = build(config_module.load(folder))
        print(
            f"unchanged episode, built again: {sum(c.made for c in again.clips)} clips made, "
            f"{time.perf_counter() - started:.2f} s wall; load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )


if __name__ == "__main__":
    main()
