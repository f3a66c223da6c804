"""The vectorised meter (`loudness.Meter`, through `mastering.verify`) against ffmpeg's ebur128 with peak=true, on
generated signals encoded as mastering encodes them: integrated loudness within 0.1 LU, true peak within 0.1 dB."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipeline.audio import mastering
from pipeline.audio.ffmpeg import ffmpeg, file_arg, run_ffmpeg
from pipeline.audio.loudness import KWeighting, Meter, ebur128, k_weighting, lowpass, read_metering
from tests.conftest import SPEECH, lavfi

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
    lavfi(f"{graph},{spread}", "-t", str(seconds), "-ar", "44100", *codec, "-y", str(path))
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


def oversampled_peak(signal: np.ndarray) -> float:
    """The true peak by brute force: every value between every two samples (the same float32 products as the meter,
    block by block, none skipped), and every sample, the first and last samples held beyond the ends as the meter
    holds them."""
    from pipeline.audio.loudness import TAPS, _block_interpolator

    held = np.concatenate(
        [np.repeat(signal[:, :1], TAPS, axis=1), signal, np.repeat(signal[:, -1:], 3 * TAPS, axis=1)], axis=1
    )
    spans = np.lib.stride_tricks.sliding_window_view(held, 2 * TAPS - 1, axis=1)
    starts = np.arange(0, held.shape[1] - 2 * TAPS + 1, TAPS)
    peak = float(np.abs(signal).max())
    for part in np.array_split(starts, 1 + len(starts) // 128):
        peak = max(peak, float(np.abs(spans[:, part] @ _block_interpolator()).max()))
    return peak


def fs4(rate: int, seconds: float, level: float) -> np.ndarray:
    """A tone at a quarter of the sample rate, 45° off its samples: every sample is 3 dB under the peak between
    them (the worst case between two samples, short of clipping)."""
    n = np.arange(int(rate * seconds))
    return (level * np.sin(np.pi * n / 2 + np.pi / 4)).astype(np.float32)


@pytest.mark.parametrize(
    "name", ["speech-like", "hot noise", "clipped", "fs/4 at 45°", "fs/4 at 45°, late and quiet", "silence"]
)
def test_the_pruned_true_peak_is_the_brute_force_one_exactly(name):
    # The meter oversamples only blocks whose bounds (the interpolator's whole gain times the block's peak, then the
    # signal's curvature) can reach the peak found so far. The figure is the brute force's to the last bit, however
    # the chunks fall, on material that defeats a loose bound: full-scale noise, hard clipping (corners that overshoot
    # between samples), and a tone at fs/4 whose samples all sit 3 dB under its peak.
    rate = 44100
    rng = np.random.default_rng(11)
    quiet = (rng.standard_normal((2, rate * 6)) * 0.01).astype(np.float32)
    if name == "speech-like":
        t = np.arange(rate * 6) / rate
        voice = np.sin(2 * np.pi * 180 * t) + 0.5 * np.sin(2 * np.pi * 360 * t + 1) + 0.3 * np.sin(2 * np.pi * 900 * t)
        envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2
        signal = quiet + (0.3 * voice * envelope).astype(np.float32)
    elif name == "hot noise":
        signal = np.clip(rng.standard_normal((2, rate * 6)) * 0.5, -1, 1).astype(np.float32)
    elif name == "clipped":
        t = np.arange(rate * 6) / rate
        signal = quiet + np.clip(1.5 * np.sin(2 * np.pi * 997 * t), -0.9, 0.9).astype(np.float32)
    elif name == "fs/4 at 45°":
        signal = np.stack([fs4(rate, 6, 0.8), fs4(rate, 6, 0.5)])
    elif name == "fs/4 at 45°, late and quiet":
        signal = quiet * 20  # speech-loud noise, then a short tone whose samples stay under the noise's peak
        signal[1, rate * 5 : rate * 5 + 400] = fs4(rate, 400 / rate, float(np.abs(signal).max()) * 1.35)
    else:
        signal = np.zeros((2, rate * 2), dtype=np.float32)
    signal = np.ascontiguousarray(signal)
    expected = oversampled_peak(signal)
    for size in (signal.shape[1], 4 * rate, 997):
        meter = Meter(rate, 2)
        for start in range(0, signal.shape[1], size):
            meter.feed(np.ascontiguousarray(signal[:, start : start + size]))
        meter.result()
        assert meter.peak == expected, (name, size)
    if name.startswith("fs/4"):
        assert meter.peak > 1.3 * float(np.abs(signal).max())  # found between the samples, over every sample


@pytest.mark.parametrize("kind", ["white noise", "fs/4 at 45°", "Nyquist", "speech-like", "clipped"])
def test_the_curvature_bound_holds_for_every_window(kind):
    # Every value the interpolator makes lies under straight × (the larger of the window's two middle samples) +
    # curved × (its largest second difference): computed in float64 for every window of the signal.
    from pipeline.audio.loudness import TAPS, _curvature_bound

    straight, curved = _curvature_bound()
    rng = np.random.default_rng(4)
    n = np.arange(4000)
    signal = {
        "white noise": rng.standard_normal(4000),
        "fs/4 at 45°": np.sin(np.pi * n / 2 + np.pi / 4),
        "Nyquist": np.cos(np.pi * n) * (1 + 0.1 * np.sin(n / 50)),
        "speech-like": np.sin(2 * np.pi * 180 * n / 44100) + 0.4 * np.sin(2 * np.pi * 2300 * n / 44100),
        "clipped": np.clip(2 * np.sin(2 * np.pi * 997 * n / 44100), -1, 1),
    }[kind]
    phases, reach = mastering_phases()
    windows = np.lib.stride_tricks.sliding_window_view(signal, TAPS)
    values = np.abs(windows @ phases.astype(np.float64)).max(axis=1)
    middle = TAPS // 2 - 1
    bends = np.abs(windows[:, :-2] - 2 * windows[:, 1:-1] + windows[:, 2:]).max(axis=1)
    bound = straight * np.abs(windows[:, middle : middle + 2]).max(axis=1) + curved * bends
    assert np.all(values <= bound * (1 + 1e-12))
    if kind == "speech-like":  # smooth: the bound sits well under the interpolator's whole gain
        assert np.all(bound < 1.2 * np.abs(windows).max(axis=1)) and reach > 2


def mastering_phases():
    from pipeline.audio.loudness import _interpolator

    return _interpolator()


def test_the_interpolators_design_is_firwins():
    # scipy.signal.firwin(129, 0.25, window=("kaiser", 6.0)), printed once: the numpy design is the same filter
    taps = lowpass(129, 0.25, beta=6.0)
    expected = {1: -6.90444657e-05, 31: 3.13521214e-03, 63: 2.24965866e-01, 64: 2.50041291e-01, 127: -6.90444657e-05}
    for index, value in expected.items():
        assert taps[index] == pytest.approx(value, rel=1e-8)
    assert taps == pytest.approx(taps[::-1], abs=1e-18)  # linear phase
    phases, reach = mastering_phases()
    assert phases.sum(axis=0) == pytest.approx(np.ones(3), abs=2e-4)  # a constant interpolates to itself (0.001 dB)
    assert reach > 1  # the bound of the pruning: no interpolated value exceeds the window's peak times it


def reference_k_weighting(signal: np.ndarray, rate: int) -> np.ndarray:
    """The two sections in float64, sample by sample (direct form I): what the filter is, written out."""
    out = signal.astype(np.float64)
    for b0, b1, b2, _, a1, a2 in k_weighting(rate):
        x1 = x2 = y1 = y2 = 0.0
        result = np.empty_like(out)
        for n, x in enumerate(out):
            y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
            x2, x1, y2, y1 = x1, x, y1, y
            result[n] = y
        out = result
    return out


@pytest.mark.parametrize("rate", [44100, 48000])
def test_the_k_weighting_is_the_filter_written_out_and_keeps_its_state_across_chunks(rate):
    rng = np.random.default_rng(4)
    signal = (rng.standard_normal((2, 6000)) * 0.3).astype(np.float32)
    expected = np.stack([reference_k_weighting(channel, rate) for channel in signal])
    filtered = KWeighting(rate, 2)
    chunked = np.concatenate([np.stack(filtered(signal[:, a : a + 777].copy())) for a in range(0, 6000, 777)], 1)
    assert chunked.shape == signal.shape
    # single precision in direct form I: the high-pass's poles near 1 recirculate its rounding, which still stays
    # 70 dB under the signal (75 dB on this noise, 81 on speech); what a loudness figure reads is the energy, below
    error = chunked - expected
    assert 10 * np.log10(np.mean(error**2) / np.mean(expected**2)) < -70
    assert np.abs(error).max() < 5e-4
    energy = KWeighting(rate, 2).squares(signal)  # what the meters sum: the squares, over channels
    assert 10 * np.log10(energy.sum() / (expected**2).sum()) == pytest.approx(0, abs=1e-4)


@pytest.mark.parametrize(("frequency", "gain_db"), [(25, -10.39), (100, -1.13), (997, 0.69), (10000, 4.04)])
def test_the_k_weighting_has_the_response_bs1770_gives(frequency, gain_db):
    # A steady sine's gain through the filter: the BS.1770 curve (a 4 dB shelf above 1.5 kHz, the RLB high-pass under
    # 100 Hz; +0.69 dB at 1 kHz, which the -0.691 of the loudness formula takes back)
    rate = 48000
    t = np.arange(rate * 2) / rate
    sine = np.sin(2 * np.pi * frequency * t).astype(np.float32)[None, :]
    out = KWeighting(rate, 1)(sine)[0][rate:]  # after a second: the filter settled
    measured = 10 * np.log10(np.mean(out.astype(np.float64) ** 2) / 0.5)
    assert measured == pytest.approx(gain_db, abs=0.05)


def encode_followed(tmp: Path, rate: int, channels: int, *extra: str) -> tuple[Path, mastering._Follower, int]:
    """A generated panel encoded by ffmpeg as mastering encodes it, followed while it is written; the samples the
    follower had metered when ffmpeg exited."""
    out = tmp / "followed.mp3"
    follower = mastering._Follower(out, rate, channels)
    graph = f"{SPEECH.format(seed=11)},{'pan=mono|c0=c0' if channels == 1 else 'pan=stereo|c0=c0|c1=0.8*c0'}"
    args = ["-f", "lavfi", "-i", graph, "-t", "90", "-ar", str(rate), "-ac", str(channels), "-c:a", "libmp3lame"]
    args += ["-b:a", "128k", "-id3v2_version", "0", "-write_id3v1", "0", *extra, "-f", "mp3", "-y", file_arg(out)]
    run_ffmpeg(out, args, float("inf"), tick=follower)
    return out, follower, follower._meter.samples


@pytest.mark.parametrize(("rate", "channels"), [(44100, 2), (48000, 1), (22050, 2)])  # MPEG-1 and MPEG-2 frames
def test_the_followed_encode_is_metered_from_the_published_bytes(tmp_path, rate, channels):
    # The meter reads the file as ffmpeg writes it (each time ffmpeg reports its progress): metered before ffmpeg exits, and
    # the figure is exactly the one of the finished file decoded by its demuxer (delay and padding skipped by the
    # LAME tag's figures): the same samples, bit for bit.
    out, follower, metered_early = encode_followed(tmp_path, rate, channels)
    followed = follower.finish()
    assert followed is not None
    assert followed == mastering.verify(out)
    assert metered_early > 0
    assert follower._meter.samples == sum(len(frame) for frame in decoded_samples(out))


def decoded_samples(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        return [frame.to_ndarray()[0] for frame in container.decode(container.streams.audio[0])]


def test_a_file_without_the_lame_tag_is_decoded_whole_instead(tmp_path):
    # No Xing/LAME frame (where a player learns the delay and padding): the follower cannot tell which samples a
    # player plays, and says so; the encode then decodes the finished file.
    out, follower, _ = encode_followed(tmp_path, 44100, 2, "-write_xing", "0")
    assert follower.finish() is None
    assert mastering.verify(out).integrated > -70


@pytest.mark.parametrize(
    ("codec", "channels", "suffix"),
    [
        ("pcm_s24le", 2, ".wav"),  # decoded as packed 32-bit integers
        ("pcm_s16le", 1, ".wav"),
        ("pcm_u8", 2, ".wav"),
        ("pcm_f32le", 2, ".wav"),  # packed float
        ("flac", 2, ".flac"),
        ("libmp3lame", 2, ".mp3"),  # planar float
    ],
)
def test_a_recording_decodes_to_the_samples_ffmpeg_converts_it_to(tmp_path, codec, channels, suffix):
    # The in-process decode (interleaved samples sorted into channels and made float by one conversion) gives, sample
    # for sample, what ffmpeg's own conversion to float gives, in chunks that join into the whole file.
    path = encoded(tmp_path, SPEECH.format(seed=4), channels, ("-c:a", codec), suffix, seconds=9)
    reference = subprocess.run(
        [ffmpeg(), "-nostdin", "-v", "error", "-i", str(path), "-f", "f32le", "-c:a", "pcm_f32le", "-"],
        check=True,
        capture_output=True,
    ).stdout
    expected = np.frombuffer(reference, dtype="<f4").reshape(-1, channels).T
    rate, found_channels, chunks = mastering._decoded(path)
    parts = list(chunks)
    assert (rate, found_channels) == (44100, channels)
    assert len(parts) > 1 and all(part.dtype == np.float32 and part.flags.c_contiguous for part in parts)
    assert np.array_equal(np.concatenate(parts, axis=1), expected)


def test_the_sample_peak_is_the_largest_sample_however_the_chunks_fall():
    # With true peaks on, the sample peak is read from the blocks the oversampling looks at: every sample counts once,
    # the first and the last too.
    rng = np.random.default_rng(8)
    signal = (rng.standard_normal((2, 44100 * 3)) * 0.05).astype(np.float32)
    for at, value in ((0, -0.61), (-1, 0.7), (44100, 0.65)):
        signal[1, at] = value
        meter = Meter(44100, 2)
        for start in range(0, signal.shape[1], 1001):
            meter.feed(np.ascontiguousarray(signal[:, start : start + 1001]))
        assert meter.result().sample_peak == pytest.approx(20 * np.log10(np.abs(signal).max()), abs=1e-9)
