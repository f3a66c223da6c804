"""Benchmark: what the Opus edition costs per hour of audio, and where its loudness lands.

It makes a speech-like program (shaped noise with turns, like the tests' recordings), masters it as a build does
(MP3, -16 LUFS, -1 dBTP), then makes its Opus edition as the build's `opus` stage does, from the mastered file, and
prints the edition's wall time, the CPU time of its ffmpeg (robust on a busy machine), the sizes, and the loudness
of the decoded edition: as the stage measured it, and as a separate ffmpeg EBU R128 pass reads it.

    .venv/bin/python bench/opus.py                  # 60 minutes, mono (48 kbps) and stereo (64 kbps)
    .venv/bin/python bench/opus.py --minutes 10     # a shorter look
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.audio import mastering
from pipeline.audio.ffmpeg import ffmpeg
from pipeline.config import AudioSettings
from pipeline.episode import edition, probe, tags

SPEECH = "anoisesrc=color=pink:seed={seed}:amplitude=0.5,bandpass=f=700:width_type=h:w=1800,volume='if(lt(mod(t,3),2.2),1,0)':eval=frame"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _ebur128(path: Path) -> tuple[float, float]:
    log = subprocess.run(
        [ffmpeg(), "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    summary = log[log.rindex("Summary:") :]
    return float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1)), float(
        re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1)
    )


def run(minutes: float, channels: int, folder: Path) -> None:
    recording = folder / f"panel-{channels}ch.wav"
    subprocess.run(
        [
            ffmpeg(),
            "-nostdin",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"{SPEECH.format(seed=channels)},aformat=sample_rates=48000",
            "-t",
            str(minutes * 60),
            "-ac",
            str(channels),
            "-y",
            str(recording),
        ],
        check=True,
    )
    settings = AudioSettings(opus=True)
    mastered = mastering.master(probe.probe(recording), settings, folder / "cache", root=folder)
    values = tags.TagSet(
        "Bench",
        "A; B",
        "Bench show",
        "Bench",
        "2026-01-01",
        "",
        "guid",
        "https://example.com/p",
        "https://example.com/feed.xml",
        0,
    )
    before, start = _children_cpu(), time.perf_counter()
    made = edition.opus(
        mastered,
        values,
        settings,
        channels,
        folder / "cache",
        f"media/bench-{channels}.opus",
        lambda name, total: lambda done: None,
    )
    wall, cpu = time.perf_counter() - start, _children_cpu() - before
    hours = made.duration / 3600
    integrated, peak = _ebur128(made.content)
    report = made.report
    print(
        f"{channels} ch, {made.title}: {made.duration / 60:.0f} min of audio; edition made in {wall:.1f} s wall, {cpu:.1f} s ffmpeg CPU "
        f"({wall / hours:.0f} s wall and {cpu / hours:.0f} s CPU per hour of audio); {report.passes} encode(s)\n"
        f"    MP3 {mastered.path.stat().st_size / 1e6:.1f} MB, Opus {made.length / 1e6:.1f} MB ({made.bitrate / 1000:.1f} kbps average)\n"
        f"    decoded Opus: {report.output_i:.2f} LUFS, true peak {report.output_tp:.2f} dBTP, LRA {report.output_lra:.1f} (the stage's loopback meter); "
        f"{integrated:.1f} LUFS, true peak {peak:.1f} dBTP (a separate ebur128 pass); the MP3 it came from: {mastered.report.output_i:.2f} LUFS, {mastered.report.output_tp:.2f} dBTP"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--channels", type=int, nargs="*", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="panelpress-opus-") as folder:
        for channels in args.channels:
            run(args.minutes, channels, Path(folder))


if __name__ == "__main__":
    main()
