"""The vectorised meter (`loudness.Meter`, through `mastering.verify`) against ffmpeg's ebur128 with peak=true, on
generated signals encoded as mastering encodes them: integrated loudness within 0.1 LU, true peak within 0.1 dB."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipeline.audio import mastering
from pipeline.audio.ffmpeg import ffmpeg
from pipeline.audio.loudness import Meter, ebur128, read_metering
from tests.conftest import SPEECH

SIGNALS = {
    # a tone: nothing between the samples but the sine itself (at -12 dBFS: at -30, ffmpeg's true peak reads 0.11 dB
    # under its own sample peak)
    "sine": "sine=frequency=997:sample_rate=44100,volume=6dB",
    # shaped noise, steady: the K-weighting's shelf and high-pass both matter
    "brown noise": "anoisesrc=color=brown:seed=5:amplitude=0.6:sample_rate=44100",
    # speech-like bursts with pauses: the gates matter (the pauses fall under the relative gate)
    "bursts": SPEECH.format(seed=9),
    # hot: pink noise driven into full scale, so the encoded file's true peak stands over 0 dBTP
    "hot": "anoisesrc=color=pink:seed=6:amplitude=1.0:sample_rate=44100,volume=6dB,alimiter=limit=1:level=0",
}


def encoded(tmp: Path, graph: str, channels: int, codec: tuple[str, ...], suffix: str, seconds: float = 20) -> Path:
    path = tmp / f"signal-{channels}{suffix}"
    spread = "pan=mono|c0=c0" if channels == 1 else "pan=stereo|c0=c0|c1=0.7*c0"
    subprocess.run(
        [
            ffmpeg(),
            "-nostdin",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"{graph},{spread}",
            "-t",
            str(seconds),
            "-ar",
            "44100",
            *codec,
            "-y",
            str(path),
        ],
        check=True,
    )
    return path


def ffmpeg_meter(path: Path, tmp: Path) -> dict[str, float]:
    """ffmpeg's own ebur128 (true peak by its 192 kHz resampling), its final values read to two decimals."""
    file = tmp / "ebur128.txt"
    subprocess.run(
        [
            ffmpeg(),
            "-nostdin",
            "-v",
            "error",
            "-i",
            str(path),
            "-af",
            ebur128(file, True),
            "-f",
            "null",
            "-",
        ],
        check=True,
    )
    found = read_metering(file)
    return {"I": found.integrated, "TP": found.true_peak, "LRA": found.lra}


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("name", sorted(SIGNALS))
@pytest.mark.parametrize(
    ("codec", "suffix"),
    [(("-c:a", "libmp3lame", "-b:a", "128k"), ".mp3"), (("-c:a", "pcm_s16le"), ".wav")],
    ids=["mp3", "wav"],
)
def test_the_meter_reads_what_ffmpegs_ebur128_reads(tmp_path, name, channels, codec, suffix):
    path = encoded(tmp_path, SIGNALS[name], channels, codec, suffix)
    ours = mastering.verify(path)
    theirs = ffmpeg_meter(path, tmp_path)
    assert ours.integrated == pytest.approx(theirs["I"], abs=0.1), (ours, theirs)
    assert ours.true_peak == pytest.approx(theirs["TP"], abs=0.1), (ours, theirs)
    assert ours.lra == pytest.approx(theirs["LRA"], abs=0.5), (ours, theirs)
    if name == "hot" and suffix == ".mp3":
        assert ours.true_peak > ours.sample_peak + 0.3  # the peaks between the samples are found


def test_skipping_a_window_never_misses_a_peak():
    # Quiet noise with one sample pattern whose peak between samples stands 6 dB over its samples, late in a long
    # stream: the windows skipped are only those that cannot hold a higher peak, so the full oversampling and the
    # pruned one agree exactly, whatever the chunking.
    rng = np.random.default_rng(3)
    rate = 44100
    signal = (rng.standard_normal((2, rate * 5)) * 0.05).astype(np.float32)
    at = rate * 4 + 123
    signal[0, at : at + 8] = [0.3, -0.3, 0.3, -0.3, -0.3, 0.3, -0.3, 0.3]  # Nyquist, then a phase flip
    whole = Meter(rate, 2)
    whole.feed(signal)
    chunked = Meter(rate, 2)
    for start in range(0, signal.shape[1], 997):
        chunked.feed(np.ascontiguousarray(signal[:, start : start + 997]))
    phases, _ = mastering_phases()
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(signal, ((0, 0), (32, 32))), 32, axis=1)
    brute = max(float(np.abs(windows @ phases).max()), float(np.abs(signal).max()))
    assert whole.result().true_peak == pytest.approx(20 * np.log10(brute), abs=1e-4)
    assert chunked.result().true_peak == pytest.approx(20 * np.log10(brute), abs=1e-4)
    assert whole.result().true_peak > 20 * np.log10(0.3) + 1  # the pattern's peak is between its samples


def mastering_phases():
    from pipeline.audio.loudness import _interpolator

    return _interpolator()
