"""Benchmark inputs: a realistic panel recording, made from a seed and cached.

Four espeak-ng voices whose levels lie up to 10 dB apart (and drift from turn to turn), taking turns
with pauses, overlapping in cross-talk and interjections, laughing together now and then, over a
room-noise floor with a little mains hum; plosives (a low-frequency pop at the start of a turn), table
knocks and one dropped microphone put true peaks well above the speech. Every turn's words are drawn
from the seed, so nothing repeats on a loop. Three profiles of the same panel:

    realistic   -28.5 LUFS, speech peaks near -12 dBFS, the dropped microphone near -2 dBTP
    hot         -12 LUFS, peaks at 0 dBFS (a recorder gained too high, saved by its own limiter)
    quiet       -40 LUFS (a recorder gained too low)

    .venv/bin/python bench/panel.py --minutes 60 --profile realistic    # prints the cached file

Files are 48 kHz 24-bit stereo WAV in bench/out/inputs/ (git-ignored), made once per seed, length and
profile. Needs espeak-ng (`apt-get install espeak-ng`) and numpy (the `bench` extra).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.audio.ffmpeg import ffmpeg

CACHE = ROOT / "bench" / "out" / "inputs"
VERSION = 1  # bump when the generator changes what it makes
RATE = 48000
CHUNK_SECONDS = 30
PROFILES = {"realistic": -28.5, "hot": -12.0, "quiet": -40.0}  # integrated loudness, LUFS


@dataclass(frozen=True)
class Voice:
    """One panelist: an espeak-ng voice, how it speaks, how loud its microphone is and where it sits."""

    name: str
    espeak: str
    pitch: int
    speed: int
    level_db: float
    pan: float  # -1 left … 1 right


VOICES = (
    Voice("host", "en-us+m3", 40, 165, 0.0, -0.15),
    Voice("guest1", "en-gb+f3", 62, 172, -3.0, 0.3),
    Voice("guest2", "en-us+m7", 28, 150, -6.0, -0.4),
    Voice("guest3", "en-gb-scotland+f4", 55, 178, -9.0, 0.2),
)

OPENERS = [
    "I think",
    "Honestly,",
    "Look,",
    "My sense is that",
    "To be fair,",
    "The thing is,",
    "What I keep seeing is that",
    "In my experience",
    "Right, and",
    "Well,",
    "",
    "",
    "",
]
SUBJECTS = [
    "management",
    "leadership",
    "a good manager",
    "the team",
    "every budget",
    "the roadmap",
    "a new hire",
    "the board",
    "most engineers",
    "a quarterly plan",
    "trust",
    "the process",
    "our customers",
    "a small company",
    "the old guard",
    "remote work",
    "a one-to-one",
]
VERBS = [
    "is about",
    "depends on",
    "falls apart without",
    "grows out of",
    "cannot survive",
    "comes down to",
    "gets confused with",
    "was never about",
    "runs on",
    "slowly turns into",
    "needs",
    "hides",
]
OBJECTS = [
    "the work",
    "the people",
    "clear deadlines",
    "a shared story",
    "honest feedback",
    "the numbers",
    "what nobody writes down",
    "a little patience",
    "years of trust",
    "one bad quarter",
    "the meeting after the meeting",
    "a plan everyone believes",
    "the hiring pipeline",
    "whoever shouts loudest",
    "a decent spreadsheet",
]
TAILS = [
    "",
    "",
    "",
    "and that is the whole point",
    "if you ask me",
    "in the end",
    "every single time",
    "more than we admit",
    "whatever the slides say",
    "at least on a good week",
    "and people notice",
    "which surprised me",
]
FOLLOW = [
    "Let me push back on that.",
    "That is fair.",
    "I am not sure I agree.",
    "Exactly.",
    "Can I add something?",
    "Here is an example.",
    "We tried that last year.",
    "It took us a while to learn it.",
    "Nobody teaches you this.",
    "So what would you do differently?",
]
INTERJECTIONS = ["yeah", "right", "mm hm", "exactly", "sure", "true", "oh wow", "no no", "okay"]


def sentence(rng: random.Random) -> str:
    if rng.random() < 0.18:
        return rng.choice(FOLLOW)
    words = " ".join(
        w
        for w in (rng.choice(OPENERS), rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(OBJECTS), rng.choice(TAILS))
        if w
    )
    return words[0].upper() + words[1:] + rng.choice([".", ".", ".", "?", "!"])


@dataclass(frozen=True)
class Clip:
    """Something on the timeline: speech (espeak text) or a synthetic event."""

    start: float
    voice: int
    text: str = ""
    kind: str = "speech"  # speech | laugh | plosive | knock | drop
    gain_db: float = 0.0
    seed: int = 0


def script(seconds: float, seed: int) -> list[Clip]:
    """The panel's timeline, from the seed: turns, pauses, overlaps, laughter and the noises of a room."""
    rng = random.Random(seed)
    clips: list[Clip] = []
    t, speaker = 1.0, 0
    dropped = False
    while t < seconds - 5:
        turn = " ".join(sentence(rng) for _ in range(rng.choice([1, 1, 2, 2, 3, 4])))
        drift = rng.uniform(-1.0, 1.0)  # leaning in, leaning back
        clips.append(Clip(t, speaker, turn, gain_db=drift))
        length = len(turn.split()) * 60 / VOICES[speaker].speed
        if rng.random() < 0.05 and speaker in (0, 2):  # a "p" straight into the microphone
            clips.append(
                Clip(t + 0.02, speaker, kind="plosive", gain_db=rng.uniform(8, 12), seed=rng.randrange(1 << 30))
            )
        if rng.random() < 0.25:  # a listener says something over the speaker
            other = rng.choice([v for v in range(len(VOICES)) if v != speaker])
            clips.append(
                Clip(t + rng.uniform(0.3, 0.8) * length, other, rng.choice(INTERJECTIONS), gain_db=rng.uniform(-2, 1))
            )
        if rng.random() < 0.06:  # the panel laughs together, louder than it speaks
            for v in rng.sample(range(len(VOICES)), rng.choice([2, 3])):
                clips.append(
                    Clip(
                        t + length + rng.uniform(-0.3, 0.4),
                        v,
                        "ha ha ha ha ha",
                        kind="laugh",
                        gain_db=rng.uniform(5, 8),
                    )
                )
        if rng.random() < 0.02:
            clips.append(
                Clip(
                    t + rng.uniform(0, length), 0, kind="knock", gain_db=rng.uniform(6, 10), seed=rng.randrange(1 << 30)
                )
            )
        if not dropped and t > seconds * 0.6:
            clips.append(Clip(t + length + 0.5, speaker, kind="drop", gain_db=11.0, seed=rng.randrange(1 << 30)))
            dropped = True
        gap = rng.choices(
            [rng.uniform(-0.9, -0.1), rng.uniform(0.15, 0.8), rng.uniform(0.8, 2.0), rng.uniform(2.0, 4.0)],
            weights=[2, 6, 2, 0.5],
        )[0]
        t += max(0.4, length + gap)  # gap < 0: the next one starts before this one ends (cross-talk)
        speaker = rng.choice([v for v in range(len(VOICES)) if v != speaker] + ([0] if speaker else []))
    return clips


def synthesize(clips: list[Clip], folder: Path) -> dict[tuple[int, str, str], Path]:
    """espeak-ng WAVs (22.05 kHz mono) of every distinct line, made in parallel."""
    espeak = shutil.which("espeak-ng")
    if not espeak:
        raise SystemExit("bench/panel.py needs espeak-ng: apt-get install espeak-ng")
    wanted = {(c.voice, c.text, c.kind) for c in clips if c.kind in ("speech", "laugh")}

    def one(item: tuple[int, str, str], n: int) -> tuple[tuple[int, str, str], Path]:
        voice, text, kind = item
        v = VOICES[voice]
        path = folder / f"{n}.wav"
        pitch, speed = (min(99, v.pitch + 25), v.speed + 60) if kind == "laugh" else (v.pitch, v.speed)
        subprocess.run([espeak, "-v", v.espeak, "-p", str(pitch), "-s", str(speed), "-w", str(path), text], check=True)
        return item, path

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(lambda pair: one(*pair), [(item, n) for n, item in enumerate(sorted(wanted))]))


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768
        rate = w.getframerate()
    n = len(data)
    m = int(round(n * RATE / rate))
    spectrum = np.fft.rfft(data)
    padded = np.zeros(m // 2 + 1, dtype=complex)
    padded[: len(spectrum)] = spectrum[: m // 2 + 1]
    return (np.fft.irfft(padded, m) * (m / n)).astype(np.float32)  # band-limited resampling to 48 kHz


def event(kind: str, seed: int) -> np.ndarray:
    """A synthetic noise of the room, peak 1.0: a plosive, a knock on the table, a dropped microphone."""
    rng = np.random.default_rng(seed)
    if kind == "plosive":  # a burst of air on the capsule: a low thump, a few tens of ms
        t = np.arange(int(0.08 * RATE)) / RATE
        wave_ = np.sin(2 * np.pi * rng.uniform(45, 90) * t) * np.exp(-t / 0.015) + 0.15 * rng.standard_normal(
            len(t)
        ) * np.exp(-t / 0.004)
    elif kind == "knock":
        t = np.arange(int(0.12 * RATE)) / RATE
        wave_ = rng.standard_normal(len(t)) * np.exp(-t / 0.006) + 0.6 * np.sin(
            2 * np.pi * rng.uniform(180, 260) * t
        ) * np.exp(-t / 0.03)
    else:  # drop: a click, the body's thud, then the rattle as it settles
        t = np.arange(int(0.9 * RATE)) / RATE
        wave_ = rng.standard_normal(len(t)) * np.exp(-t / 0.003) + 0.8 * np.sin(2 * np.pi * 70 * t) * np.exp(-t / 0.12)
        wave_ += 0.3 * rng.standard_normal(len(t)) * np.exp(-((t - 0.35) ** 2) / 0.01) * (np.sin(2 * np.pi * 9 * t) > 0)
    return (wave_ / np.max(np.abs(wave_))).astype(np.float32)


SPEECH_RMS = 10 ** (-30 / 20)  # the loudest voice, before the profile's gain
EVENT_PEAK = 10 ** (-18 / 20)  # about where that voice's syllables peak: events are set relative to it


def mix(clips: list[Clip], seconds: float, lines: dict, out) -> None:
    """Write the panel as 48 kHz stereo float32 to `out` (a pipe), a chunk at a time (memory stays flat)."""
    total = int(seconds * RATE)
    pending = sorted(clips, key=lambda c: c.start)
    active: list[tuple[int, np.ndarray, np.ndarray]] = []  # (start sample, left, right)
    loaded: dict[tuple[int, str, str], np.ndarray] = {}
    for start in range(0, total, CHUNK_SECONDS * RATE):
        end = min(total, start + CHUNK_SECONDS * RATE)
        while pending and int(pending[0].start * RATE) < end:
            clip = pending.pop(0)
            voice = VOICES[clip.voice]
            if clip.kind in ("speech", "laugh"):
                key = (clip.voice, clip.text, clip.kind)
                if key not in loaded:
                    line = read_wav(lines[key])
                    loaded[key] = line * (SPEECH_RMS / np.sqrt(np.mean(line**2)))  # each line as loud as its voice
                audio = loaded[key]
            else:
                audio = event(clip.kind, clip.seed) * EVENT_PEAK
            audio = audio * 10 ** ((voice.level_db + clip.gain_db) / 20)
            angle = (voice.pan + 1) * np.pi / 4  # constant-power pan
            active.append((int(clip.start * RATE), audio * np.cos(angle), audio * np.sin(angle)))
        buffer = np.zeros((end - start, 2), dtype=np.float32)
        for at, left, right in active:
            a, b = max(at, start), min(at + len(left), end)
            if a < b:
                buffer[a - start : b - start, 0] += left[a - at : b - at]
                buffer[a - start : b - start, 1] += right[a - at : b - at]
        active = [item for item in active if item[0] + len(item[1]) > end]
        out.write(buffer.tobytes())
        if len(loaded) > 200:  # bounded memory: a line that comes again is read again
            loaded.clear()


def measure(path: Path) -> dict[str, float]:
    """Integrated loudness, true peak, LRA and sample peak, from ffmpeg's ebur128 summary."""
    log = subprocess.run(
        [
            ffmpeg(),
            "-nostdin",
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-af",
            "ebur128=peak=true+sample:framelog=quiet",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    summary = log[log.rindex("Summary:") :]
    peaks = re.findall(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    return {
        "I": float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1)),
        "LRA": float(re.search(r"LRA:\s+(-?[\d.]+) LU", summary).group(1)),
        "sample_peak": float(peaks[0]),
        "true_peak": float(peaks[1]),
    }


def raw(minutes: float, seed: int) -> Path:
    """The panel before any profile: voices, events, the noise floor (cached)."""
    path = CACHE / f"panel-v{VERSION}-seed{seed}-{minutes:g}m-raw.wav"
    if path.is_file():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    seconds = minutes * 60
    clips = script(seconds, seed)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        lines = synthesize(clips, Path(tmp))
        floor = f"anoisesrc=c=pink:r={RATE}:a=0.0012:seed={seed},highpass=f=40[n];sine=f=50:r={RATE},volume=-78dB[h]"
        partial = path.with_suffix(".partial.wav")
        proc = subprocess.Popen(
            [
                ffmpeg(),
                "-nostdin",
                "-v",
                "error",
                "-f",
                "f32le",
                "-ar",
                str(RATE),
                "-ac",
                "2",
                "-i",
                "pipe:0",
                "-filter_complex",
                f"{floor};[n][h]amix=inputs=2:normalize=0,pan=stereo|c0=c0|c1=c0[f];[0:a][f]amix=inputs=2:normalize=0:duration=first",
                "-c:a",
                "pcm_f32le",
                "-y",
                str(partial),
            ],
            stdin=subprocess.PIPE,
        )
        mix(clips, seconds, lines, proc.stdin)
        proc.stdin.close()
        if proc.wait():
            raise SystemExit("ffmpeg could not write the panel")
    partial.replace(path)
    return path


def make(profile: str, minutes: float = 60, seed: int = 1) -> Path:
    """The cached input of one profile (made on first use); its measurement is beside it as JSON."""
    path = CACHE / f"panel-v{VERSION}-seed{seed}-{minutes:g}m-{profile}.wav"
    facts = path.with_suffix(".json")
    if path.is_file() and facts.is_file():
        return path
    source = raw(minutes, seed)
    target = PROFILES[profile]
    gain = target - measure(source)["I"]
    for _ in range(4):  # the hot profile's limiter takes loudness as the gain rises: home in
        chain = f"volume={gain:.3f}dB" + (
            ",alimiter=limit=1:attack=2:release=30:level=0,alimiter=limit=0.9999:attack=0.1:release=5:level=0"
            if profile == "hot"
            else ""
        )
        subprocess.run(
            [
                ffmpeg(),
                "-nostdin",
                "-v",
                "error",
                "-i",
                str(source),
                "-af",
                chain,
                "-c:a",
                "pcm_s24le",
                "-y",
                str(path),
            ],
            check=True,
        )
        measured = measure(path)
        if abs(measured["I"] - target) <= 0.1:
            break
        gain += target - measured["I"]
    facts.write_text(json.dumps({"profile": profile, "minutes": minutes, "seed": seed, **measured}, indent=1))
    return path


def facts(path: Path) -> dict:
    """What `make` measured of an input."""
    return json.loads(path.with_suffix(".json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="realistic")
    args = parser.parse_args()
    path = make(args.profile, args.minutes, args.seed)
    print(path, json.dumps(facts(path)))


if __name__ == "__main__":
    main()
