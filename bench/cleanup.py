"""Benchmark: what each `[audio]` clean-up option does to a voice, measured.

A 40-second espeak-ng voice with pauses (tests/panel.py), clean, then with pink noise (20 and 30 dB under the
voice), with 50 Hz mains hum and its harmonics, each run through the filters panelpress adds for an option
(cleanup.py). Measured with ffmpeg: the noise or hum left in the pauses (astats RMS,
K-weighted roughly as BS.1770 weighs), the voice's loudness (ebur128) and its sibilance band (above 4 kHz, astats RMS), against the same file without the option; and the
CPU seconds an hour of audio costs.

    .venv/bin/python bench/cleanup.py
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.audio import cleanup
from pipeline.audio.ffmpeg import ffmpeg
from pipeline.config import AudioSettings
from tests.panel import espeak, loudness, make_panel, rms

OUT = ROOT / "bench" / "out" / "cleanup"
FF = ffmpeg()


def made(source: Path, extra: str, out: Path) -> Path:
    """The voice with something added (a lavfi source mixed in), as a 48 kHz WAV."""
    if not extra:
        return source
    graph = "[0:a][1:a]amix=inputs=2:normalize=0:duration=first"
    subprocess.run(
        [
            FF,
            "-v",
            "error",
            "-i",
            str(source),
            "-f",
            "lavfi",
            "-i",
            extra,
            "-filter_complex",
            graph,
            "-c:a",
            "pcm_s24le",
            "-y",
            str(out),
        ],
        check=True,
    )
    return out


def processed(source: Path, settings: AudioSettings, out: Path) -> tuple[Path, float]:
    """The file through the option's filters; and the CPU seconds it took."""
    chain = ",".join(cleanup.chain(settings)) or "anull"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [FF, "-v", "error", "-i", str(source), "-af", chain, "-c:a", "pcm_f32le", "-y", str(out)], check=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return out, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def filtered(path: Path, spans, chain: str) -> float:
    """RMS level (dB) of the file through `chain`, inside the spans."""
    out = path.with_suffix(".filtered.wav")
    subprocess.run([FF, "-v", "error", "-i", str(path), "-af", chain, "-c:a", "pcm_f32le", "-y", str(out)], check=True)
    return rms(out, spans)


def sibilance(path: Path, spans) -> float:
    return filtered(path, spans, "highpass=f=4000:poles=2,highpass=f=4000:poles=2")


def noise(path: Path, spans) -> float:
    """The noise in the pauses, weighted roughly as BS.1770 weighs (K): rumble counts little, hiss counts."""
    return filtered(path, spans, "highpass=f=60,highshelf=f=1500:g=4")


def main() -> None:
    if espeak() is None:
        raise SystemExit("espeak-ng is not installed: apt-get install -y espeak-ng")
    OUT.mkdir(parents=True, exist_ok=True)
    voice = make_panel(OUT / "voice", 40, speakers=1, room=False, noise_db=-120.0, overlaps=False)
    clean = voice.tracks["Dana Whitfield"]
    speech, pauses = voice.alone("Dana Whitfield"), voice.quiet(margin=0.15)
    hum = "aevalsrc='0.03*sin(2*PI*50*t)+0.015*sin(2*PI*100*t)+0.008*sin(2*PI*150*t)+0.004*sin(2*PI*200*t)':s=48000:c=mono"
    inputs = {
        "clean voice (noise 45 dB under)": "anoisesrc=c=pink:r=48000:a=0.00056:seed=7",
        "voice, noise 30 dB under": "anoisesrc=c=pink:r=48000:a=0.0032:seed=7",
        "voice, noise 20 dB under": "anoisesrc=c=pink:r=48000:a=0.01:seed=7",
        "voice, 50 Hz hum and harmonics": hum,
    }
    options = {
        "denoise = light": AudioSettings(denoise="light"),
        "denoise = medium": AudioSettings(denoise="medium"),
        "denoise = strong": AudioSettings(denoise="strong"),
        "dehum = 50": AudioSettings(dehum=50),
        "deess = true": AudioSettings(deess=True),
    }
    print("| input | option | noise or hum in the pauses | voice loudness | voice above 4 kHz | CPU s per hour |")
    print("|---|---|---|---|---|---|")
    for name, extra in inputs.items():
        source = made(clean, extra, OUT / f"{abs(hash(name))}.wav")
        base, _ = processed(source, AudioSettings(), OUT / "base.wav")
        floor, level, high = noise(base, pauses), loudness(base, speech), sibilance(base, speech)
        for label, settings in options.items():
            out, cpu = processed(source, settings, OUT / "out.wav")
            print(
                f"| {name} | {label} | {noise(out, pauses) - floor:+.1f} dB ({floor:.0f} → {noise(out, pauses):.0f} dB) | "
                f"{loudness(out, speech) - level:+.1f} LU | {sibilance(out, speech) - high:+.1f} dB | {cpu * 3600 / voice.seconds:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
