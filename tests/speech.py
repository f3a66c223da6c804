"""Real speech for the tests: espeak-ng phrases joined into one recording, so the time of every piece is known."""

from __future__ import annotations

import array
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import pytest

ESPEAK = shutil.which("espeak-ng")
needs_espeak = pytest.mark.skipif(
    ESPEAK is None, reason="espeak-ng is not installed: apt-get install espeak-ng (.ci/run does)"
)
RATE = 22050  # espeak-ng's own rate
THRESHOLD = 300  # of 32768: where a piece's sound starts and ends


@dataclass(frozen=True)
class Piece:
    """A phrase of the recording and where its sound is (seconds)."""

    text: str
    start: float
    end: float


def synthesise(text: str, voice: str = "en-us", speed: int = 160) -> array.array:
    """One phrase as 16-bit samples at RATE, its leading and trailing silence cut."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "say.wav"
        subprocess.run([ESPEAK, "-v", voice, "-s", str(speed), "-w", str(out), text], check=True, capture_output=True)
        with wave.open(str(out)) as clip:
            assert clip.getframerate() == RATE and clip.getsampwidth() == 2
            samples = array.array("h", clip.readframes(clip.getnframes()))
    loud = [i for i, v in enumerate(samples) if abs(v) > THRESHOLD]
    return samples[loud[0] : loud[-1] + 1] if loud else samples


def say(path: Path, phrases: list[str | float], voice: str = "en-us") -> list[Piece]:
    """Write a WAV of the phrases (a number is a pause, in seconds) and return where each phrase's sound is."""
    samples, pieces = array.array("h"), []
    for phrase in phrases:
        if isinstance(phrase, (int, float)):
            samples.extend(array.array("h", bytes(2 * int(phrase * RATE))))
            continue
        said = synthesise(phrase, voice)
        pieces.append(Piece(phrase, len(samples) / RATE, (len(samples) + len(said)) / RATE))
        samples.extend(said)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())
    return pieces


def levels(path: Path, windows: list[tuple[float, float]], ffmpeg: str) -> list[float]:
    """dBFS (mean square) of each window of a file as ffmpeg decodes it (an independent look at what was published)."""
    import math

    raw = subprocess.run(
        [ffmpeg, "-nostdin", "-loglevel", "error", "-i", str(path), "-ac", "1", "-ar", "44100", "-f", "f32le", "-"],
        check=True,
        capture_output=True,
    ).stdout
    values = array.array("f", raw)
    found = []
    for start, end in windows:
        part = values[int(start * 44100) : int(end * 44100)]
        power = sum(v * v for v in part) / max(1, len(part))
        found.append(10 * math.log10(power) if power > 0 else -200.0)
    return found
