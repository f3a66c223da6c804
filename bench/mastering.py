"""Benchmark: panelpress mastering vs the plain encode (the floor) vs ffmpeg-normalize (by hand).

Generates a realistic panel recording (several voices at different levels with pauses: espeak-ng
voices when espeak-ng is installed, shaped noise otherwise), masters it with `panelpress build`
exactly as a host would, and prints one table: accuracy measured on the decoded output, wall time,
and peak memory (the Python process and the largest ffmpeg child, each by its own peak).

    make bench                      # 60-minute panel, 180-minute memory run, two-core run
    .venv/bin/python bench/mastering.py --minutes 10 --memory-minutes 0 --no-parallel   # quick look

Targets (issue 3): within ±0.5 LU of -16 LUFS and ≤ -1.0 dBTP on the decoded MP3; ≤ 1.5× the
plain encode; ≥ 3× faster than ffmpeg-normalize; ≤ 300 MB peak RSS at 180 minutes; two episodes
on two cores ≥ 1.7× faster than one after the other. For that last figure it also prints how many
cores one build keeps busy on its own (which bounds what a second worker can add) and the same
figure for two plain encodes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.audio import ffmpeg  # noqa: E402

FF = ffmpeg()
TARGET_I, TARGET_TP = -16.0, -1.0

SHOW = """\
[show]
title = "Bench Panel"
description = "Benchmark show."
author = "Bench"
owner_email = "bench@example.com"
site_url = "https://bench.example.com/"
[build]
workers = {workers}
[audio]
level_voices = {level}
"""

# Run a command and print its own peak RSS and its children's (ffmpeg's) largest peak, in KiB, and the CPU
# seconds of the whole build (Python and every ffmpeg, user and system).
RSS_WRAPPER = (
    "import resource, runpy, sys, json; sys.argv = sys.argv[1:]\n"
    "try:\n    runpy.run_module('pipeline.cli', run_name='__main__')\n"
    "except SystemExit as e:\n    code = e.code\n"
    "me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(json.dumps({'self': me.ru_maxrss, 'children': kids.ru_maxrss,"
    " 'cpu': me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime}), file=sys.stderr)\n"
)


def run(args: list[str], env: dict | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, env=env)
    if proc.returncode:
        raise SystemExit(f"failed: {' '.join(map(str, args))}\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start, proc.stderr


def loudness(path: Path) -> tuple[float, float]:
    """Integrated loudness and true peak of the decoded file, from ffmpeg's ebur128 summary."""
    _, log = run([FF, "-nostdin", "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128=peak=true:framelog=quiet", "-f", "null", "-"])
    summary = log[log.rindex("Summary:") :]
    i = float(re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary).group(1))
    tp = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return i, tp


def espeak_panel(folder: Path) -> Path | None:
    """Two minutes of a three-voice conversation spoken by espeak-ng, or None without espeak-ng."""
    espeak = shutil.which("espeak-ng")
    if not espeak:
        return None
    voices = [("en-us+m3", 40, 0.0), ("en-gb+f3", 70, -6.0), ("en-us+m7", 30, -12.0)]  # a loud, a middle and a quiet voice
    lines = [
        "Welcome back to the panel. Today we ask what separates managing from leading.",
        "I think management is about the work, the plans, the budgets, the deadlines.",
        "And leadership is about the people. You can hit every deadline and lead nobody.",
        "Let me push back on that. A good manager has to lead, or the plan falls apart.",
        "Sure, but the skills are different. One is a system, the other is trust.",
        "Trust takes years to build and one bad quarter to lose.",
    ]
    parts = []
    for n in range(12):
        voice, pitch, gain = voices[n % 3]
        wav = folder / f"line{n}.wav"
        subprocess.run([espeak, "-v", voice, "-p", str(pitch), "-s", "165", "-w", str(wav), lines[n % len(lines)]], check=True)
        parts.append((wav, gain, 0.4 + (n % 4) * 0.3))
    inputs, graph = [], []
    for k, (wav, gain, pause) in enumerate(parts):
        inputs += ["-i", str(wav)]
        graph.append(f"[{k}:a]aresample=48000,volume={gain}dB,apad=pad_dur={pause}[p{k}]")
    graph.append("".join(f"[p{k}]" for k in range(len(parts))) + f"concat=n={len(parts)}:v=0:a=1[out]")
    out = folder / "conversation.wav"
    subprocess.run([FF, "-nostdin", "-v", "error", *inputs, "-filter_complex", ";".join(graph), "-map", "[out]", "-ac", "2", "-y", str(out)], check=True)
    return out


def make_panel(path: Path, minutes: float, seed: int, folder: Path) -> str:
    """A 48 kHz 24-bit stereo WAV of a panel; returns what it is made of."""
    seconds = int(minutes * 60)
    conversation = espeak_panel(folder)
    if conversation is not None:
        args = ["-stream_loop", "-1", "-i", str(conversation), "-f", "lavfi", "-i", f"anoisesrc=c=pink:a=0.0005:r=48000:seed={seed}", "-filter_complex", "[0:a][1:a]amix=inputs=2:normalize=0:duration=first"]
        made = "espeak-ng voices (loud, -6 dB, -12 dB) with a room-noise floor"
    else:
        voice = "anoisesrc=c=pink:r=48000:a=0.5:seed={s},bandpass=f={f}:width_type=h:w=1800,volume='{gain}*if(between(mod(t,36),{a},{b})*lt(mod(t,3.1),2.3),1,0)':eval=frame"
        graph = ";".join(
            [
                voice.format(s=seed, f=600, gain=1.0, a=0, b=12) + "[a]",
                voice.format(s=seed + 1, f=900, gain=0.5, a=12.6, b=22) + "[b]",
                voice.format(s=seed + 2, f=500, gain=0.25, a=22.7, b=35.4) + "[c]",
                "[a][b][c]amix=inputs=3:normalize=0",
            ]
        )
        args = ["-f", "lavfi", "-i", graph]
        made = "shaped-noise voices (loud, -6 dB, -12 dB) with pauses (espeak-ng not installed)"
    subprocess.run([FF, "-nostdin", "-v", "error", *args, "-t", str(seconds), "-ac", "2", "-ar", "48000", "-c:a", "pcm_s24le", "-y", str(path)], check=True)
    return made


def panelpress(show: Path, recordings: list[Path], workers: int, level: bool) -> dict:
    """Build a show holding `recordings` with the real CLI; time it and read its peak memory."""
    if show.exists():
        shutil.rmtree(show)
    (show / "episodes").mkdir(parents=True)
    (show / "show_notes").mkdir()
    (show / "panelpress.toml").write_text(SHOW.format(workers=workers, level=str(level).lower()))
    for n, rec in enumerate(recordings):
        os.symlink(rec, show / "episodes" / rec.name)
        (show / "show_notes" / f"{rec.stem}.md").write_text(f"---\ntitle: Episode {n}\ndate: 2026-01-0{n + 1}\n---\n")
    seconds, log = run([sys.executable, "-c", RSS_WRAPPER, "panelpress", "build", "--show", str(show)])
    rss = json.loads(log.strip().splitlines()[-1])
    outputs = sorted((show / "public" / "media").glob("*.mp3"))
    return {"seconds": seconds, "cpu": rss["cpu"], "python_mb": rss["self"] / 1024, "ffmpeg_mb": rss["children"] / 1024, "outputs": outputs}


def plain_encode(source: Path, out: Path) -> list[str]:
    """The floor: the same recording as a plain 128 kbps MP3, nothing else."""
    return [FF, "-nostdin", "-v", "error", "-i", str(source), "-c:a", "libmp3lame", "-b:a", "128k", "-ar", "44100", "-y", str(out)]


def plain_encodes_together(sources: list[Path], work: Path) -> tuple[float, float]:
    """Seconds for the plain encodes of `sources` all at once, and one after the other."""
    commands = [plain_encode(source, work / f"plain{n}.mp3") for n, source in enumerate(sources)]
    alone = sum(run(command)[0] for command in commands)
    start = time.perf_counter()
    procs = [subprocess.Popen(command) for command in commands]
    if any(proc.wait() for proc in procs):
        raise SystemExit("a plain encode failed")
    return time.perf_counter() - start, alone


def row(name: str, seconds: float, path: Path | None, floor: float, memory: str = "") -> str:
    i, tp = loudness(path) if path else (float("nan"), float("nan"))
    ok = "yes" if path and abs(i - TARGET_I) <= 0.5 and tp <= TARGET_TP else "no"
    return f"| {name:<34} | {seconds:7.1f} | {seconds / floor:5.2f}× | {i:6.1f} | {tp:5.1f} | {ok:^9} | {memory:<24} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60, help="length of the panel (default 60)")
    parser.add_argument("--memory-minutes", type=float, default=180, help="length for the memory run; 0 skips it (default 180)")
    parser.add_argument("--no-normalize", action="store_true", help="skip ffmpeg-normalize")
    parser.add_argument("--no-parallel", action="store_true", help="skip the two-episode run")
    parser.add_argument("--level-voices", action="store_true", help="master with level_voices on")
    parser.add_argument("--workdir", type=Path, help="where to put the audio (default: a temporary folder)")
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="panelpress-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        panel = work / "panel.wav"
        made = make_panel(panel, args.minutes, seed=1, folder=work)
        print(f"input: {args.minutes:g} min, 48 kHz 24-bit stereo WAV, {made}; {os.cpu_count()} cores; {FF.rsplit('/', 1)[-1]}", flush=True)

        floor, _ = run(plain_encode(panel, work / "plain.mp3"))
        rows = [row("plain MP3 encode (the floor)", floor, work / "plain.mp3", floor)]

        one = panelpress(work / "show1", [panel], workers=1, level=args.level_voices)
        rows.append(row("panelpress build", one["seconds"], one["outputs"][0], floor, f"py {one['python_mb']:.0f} MB, ffmpeg {one['ffmpeg_mb']:.0f} MB"))

        if not args.no_normalize:
            normalize = shutil.which("ffmpeg-normalize", path=str(Path(sys.executable).parent)) or shutil.which("ffmpeg-normalize")
            if normalize:
                env = {**os.environ, "FFMPEG_PATH": FF}
                out = work / "normalized.mp3"
                seconds, _ = run([normalize, str(panel), "--preset", "podcast", "-c:a", "libmp3lame", "-b:a", "128k", "-ar", "44100", "-o", str(out), "-f", "-q"], env=env)
                rows.append(row("ffmpeg-normalize --preset podcast", seconds, out, floor))
                speedup = seconds / one["seconds"]
            else:
                rows.append("| ffmpeg-normalize: not installed (pip install ffmpeg-normalize) |")
                speedup = None
        header = f"| {'method':<34} | {'seconds':>7} | {'×floor':>6} | {'LUFS':>6} | {'dBTP':>5} | on target | {'peak RSS':<24} |"
        print(header)
        print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
        print("\n".join(rows), flush=True)
        if not args.no_normalize and speedup:
            print(f"panelpress is {speedup:.1f}× faster than ffmpeg-normalize (target ≥ 3×); {one['seconds'] / floor:.2f}× the plain encode (target ≤ 1.5×)")

        if not args.no_parallel:
            second = work / "panel2.wav"
            make_panel(second, args.minutes, seed=2, folder=work)
            sequential = panelpress(work / "seq", [panel, second], workers=1, level=args.level_voices)
            parallel = panelpress(work / "par", [panel, second], workers=2, level=args.level_voices)
            gain = sequential["seconds"] / parallel["seconds"]
            print(f"two episodes: one after the other {sequential['seconds']:.1f} s, on two cores {parallel['seconds']:.1f} s: {gain:.2f}× (target ≥ 1.7×)", flush=True)
            # Why: two workers can gain at most (wall time / CPU time) of the one-after-the-other build, times two.
            busy = sequential["cpu"] / sequential["seconds"]
            print(f"  one after the other, the build already keeps {busy:.2f} cores busy ({sequential['cpu']:.0f} CPU s in {sequential['seconds']:.0f} s): two workers can gain at most {2 / busy:.2f}×")
            print(f"  on two cores: {parallel['cpu']:.0f} CPU s in {parallel['seconds']:.1f} s, both cores {parallel['cpu'] / parallel['seconds'] / 2:.0%} busy")
            together, alone = plain_encodes_together([panel, second], work)
            print(f"  the plain encode alone: one after the other {alone:.1f} s, on two cores {together:.1f} s: {alone / together:.2f}×", flush=True)
            second.unlink()

        if args.memory_minutes:
            long = work / "long.wav"
            make_panel(long, args.memory_minutes, seed=3, folder=work)
            big = panelpress(work / "long", [long], workers=1, level=args.level_voices)
            i, tp = loudness(big["outputs"][0])
            print(
                f"{args.memory_minutes:g} min: {big['seconds']:.1f} s, peak RSS python {big['python_mb']:.0f} MB, largest ffmpeg {big['ffmpeg_mb']:.0f} MB "
                f"(target ≤ 300 MB each); output {i:.1f} LUFS, {tp:.1f} dBTP"
            )
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
