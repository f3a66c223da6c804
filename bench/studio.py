"""Benchmark: what the studio's loudness curves cost, the first time (ffmpeg's meter through a file) and the next
(read back from the cache, then from memory), and how large they are.

It makes an hour of speech-like program (shaped noise with turns, like the tests' recordings) as a WAV recording and
as a 128 kbps MP3 (what a mastered file is), measures each as the studio does, then reads each back from the cache as
a second look at the page does, and draws the chart. It prints wall time, the CPU time of ffmpeg (steadier on a busy
machine), the cached curve's size, and the load average.

    .venv/bin/python bench/studio.py                  # 60 minutes
    .venv/bin/python bench/studio.py --minutes 10     # a shorter look
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import plots
from pipeline.audio.ffmpeg import ffmpeg
from pipeline.studio import curves

SPEECH = "anoisesrc=color=pink:seed=7:amplitude=0.5,bandpass=f=700:width_type=h:w=1800,volume='if(lt(mod(t,3),2.2),1,0)':eval=frame"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _make(path: Path, minutes: float, codec: list[str]) -> None:
    subprocess.run(
        [
            ffmpeg(),
            "-nostdin",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            SPEECH,
            "-t",
            str(minutes * 60),
            "-ac",
            "2",
            "-ar",
            "44100",
            *codec,
            "-y",
            str(path),
        ],
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    minutes = parser.parse_args().minutes
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        files = {"WAV recording": folder / "panel.wav", "MP3 128 kbps": folder / "panel.mp3"}
        _make(files["WAV recording"], minutes, ["-c:a", "pcm_s16le"])
        _make(files["MP3 128 kbps"], minutes, ["-c:a", "libmp3lame", "-b:a", "128k"])
        print(f"{minutes:g} minutes of stereo speech-like program; load average {os.getloadavg()[0]:.2f}")
        for name, path in files.items():
            cache = folder / f"cache-{path.suffix[1:]}"
            cpu, started = _children_cpu(), time.perf_counter()
            curve = curves.curve([path], cache)
            first, first_cpu = time.perf_counter() - started, _children_cpu() - cpu
            curves._read.clear()  # as a new `serve` finds it: in the cache folder, not in memory
            started = time.perf_counter()
            again = curves.curve([path], cache)
            second = time.perf_counter() - started
            started = time.perf_counter()
            curves.curve([path], cache)
            third = time.perf_counter() - started
            started = time.perf_counter()
            plots.line_chart("c", "t", "d", [plots.Series("after", again.points(), "plot-after")])
            drawn = time.perf_counter() - started
            (kept,) = (cache / curves.FOLDER).glob("*.json")
            print(
                f"{name}: first look {first:.1f} s wall, ffmpeg CPU {first_cpu:.1f} s; next look {second * 1000:.0f} ms from "
                f"the cache, {third * 1000:.2f} ms from memory (chart {drawn * 1000:.0f} ms); {len(curve.short)} values, "
                f"{kept.stat().st_size / 1e6:.2f} MB in the cache"
            )
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
