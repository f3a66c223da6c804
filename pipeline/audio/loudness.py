"""Loudness: ITU-R BS.1770 and EBU Tech 3342 maths, and ffmpeg's ebur128 meter written to and read from a file."""

from __future__ import annotations

import functools
import math
import os
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from .ffmpeg import filter_path

R128 = re.compile(r"^lavfi\.r128\.(I|LRA|true_peak|sample_peak)=(\S+)$", re.M)
SILENT = -69.9  # ebur128 reports -70 LUFS (its absolute gate) for silence


@dataclass(frozen=True)
class Loudness:
    """An ebur128 measurement: integrated loudness (LUFS), true peak (dBTP), loudness range (LU)."""

    integrated: float
    true_peak: float
    lra: float
    sample_peak: float = float("-inf")  # dBFS


def ebur128(file: Path, peak: bool) -> str:
    """ebur128 writing its running values to a file (the last lines are the final measurement)."""
    return f"ebur128=framelog=quiet:metadata=1:peak={'true' if peak else 'sample'},ametadata=mode=print:file={filter_path(file)}"


def read_metering(file: Path) -> Loudness:
    """The final values of a metering file; -inf where the audio was silent."""
    with file.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - 8192))
        tail = handle.read().decode(errors="replace")
    values = {key: float(value) for key, value in R128.findall(tail)}
    return Loudness(
        integrated=values.get("I", float("-inf")),
        true_peak=decibels(values.get("true_peak", 0.0)),
        lra=values.get("LRA", 0.0),
        sample_peak=decibels(values.get("sample_peak", 0.0)),
    )


def read_blocks(file: Path) -> tuple[list[float], list[float]]:
    """The momentary (400 ms) and short-term (3 s) loudness every 100 ms of a metering file."""
    momentary, short = [], []
    with file.open() as handle:
        for line in handle:
            if line.startswith("lavfi.r128.M="):
                momentary.append(float(line[13:]))
            elif line.startswith("lavfi.r128.S="):
                short.append(float(line[13:]))
    return momentary, short


def decibels(linear: float) -> float:
    return 20 * math.log10(linear) if linear > 0 else float("-inf")


def power(lufs: float) -> float:
    return 10 ** (lufs / 10)


def integrated(blocks: list[float]) -> float:
    """Integrated loudness (ITU-R BS.1770-4 gating) of momentary-loudness blocks; -70 when all are silent."""
    loud = [b for b in blocks if b > -70]
    if not loud:
        return -70.0
    gate = 10 * math.log10(sum(map(power, loud)) / len(loud)) - 10
    kept = [power(b) for b in loud if b > gate]
    return 10 * math.log10(sum(kept) / len(kept))


def loudness_range(short: list[float]) -> float:
    """Loudness range (EBU Tech 3342) of short-term loudness values: 95th minus 10th percentile, gated."""
    loud = [s for s in short if s > -70]
    if len(loud) < 2:
        return 0.0
    gate = 10 * math.log10(sum(map(power, loud)) / len(loud)) - 20
    kept = sorted(s for s in loud if s > gate)
    return kept[round(0.95 * (len(kept) - 1))] - kept[round(0.10 * (len(kept) - 1))]


# --- a vectorised meter: ITU-R BS.1770-4 on streamed PCM ------------------------------------------------------------

# The K-weighting filters' analogue prototypes (a high shelf, then the RLB high-pass), as libebur128 and ffmpeg's
# ebur128 derive them at any sample rate.
_SHELF = (1681.974450955533, 3.999843853973347, 0.7071752369554196)  # f0 (Hz), gain (dB), Q
_HIGHPASS = (38.13547087602444, 0.5003270373238773)  # f0 (Hz), Q
STEP = 0.1  # s: gating blocks start every 100 ms (400 ms momentary blocks, 3 s short-term ones)
# True peak: 4× oversampling (BS.1770-4 Annex 2) by a windowed-sinc interpolator of this many taps per phase.
OVERSAMPLE, TAPS = 4, 32
_MIDDLE = TAPS // 2 - 1  # a window's interpolated values lie between its samples _MIDDLE and _MIDDLE + 1


def k_weighting(rate: int) -> np.ndarray:
    """The K-weighting filter at `rate` as second-order sections (shelf, high-pass)."""
    f0, gain, q = _SHELF
    k = math.tan(math.pi * f0 / rate)
    vh, vb = 10 ** (gain / 20), 10 ** (gain / 20 * 0.4996667741545416)
    a0 = 1 + k / q + k * k
    shelf = [(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0]
    shelf += [1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    f0, q = _HIGHPASS
    k = math.tan(math.pi * f0 / rate)
    a0 = 1 + k / q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    return np.array([shelf, highpass])


def lowpass(taps: int, cutoff: float, beta: float) -> np.ndarray:
    """A linear-phase low-pass of `taps` taps (odd) by the window method: the ideal filter's sinc, cut off at `cutoff`
    (a fraction of the Nyquist frequency), times a Kaiser window of `beta`, scaled to unity gain at 0 Hz (the design
    of scipy.signal.firwin with a Kaiser window)."""
    m = np.arange(taps) - (taps - 1) / 2
    h = cutoff * np.sinc(cutoff * m) * np.kaiser(taps, beta)
    return h / h.sum()


class KWeighting:
    """The K-weighting filter (`k_weighting`) on PCM fed in chunks (float32, channels × samples, C-contiguous), its
    state carried from one chunk to the next: ffmpeg's own biquad filter (libavfilter, through PyAV, in this process),
    the two sections in direct form I in single precision (its rounding 81 dB under the signal: each 400 ms block's
    energy within 0.0002 dB of a double-precision filter's, where a loudness figure is read to 0.1 dB; the
    state-variable form rounds 12 dB closer and costs a quarter more), one channel after the other (no thread of its
    own). No scipy: its import alone is 100 MB of resident memory."""

    def __init__(self, rate: int, channels: int) -> None:
        import av.filter

        self._graph = av.filter.Graph()
        self._graph.threads = 1  # its CPU time is the calling thread's: the passes' timings stay true
        self._layout = {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")
        self.rate = rate
        last = self._graph.add_abuffer(
            format="fltp", sample_rate=rate, layout=self._layout, time_base=Fraction(1, rate)
        )
        for section in k_weighting(rate):
            b, a = section[:3], section[3:]
            options = ":".join(f"{k}={float(v)!r}" for k, v in zip(("b0", "b1", "b2", "a0", "a1", "a2"), (*b, *a)))
            stage = self._graph.add("biquad", f"{options}:transform=di:precision=f32")
            last.link_to(stage)
            last = stage
        last.link_to(self._graph.add("abuffersink"))
        self._graph.configure()
        self._samples = 0

    def __call__(self, chunk: np.ndarray) -> list[np.ndarray]:
        """The next samples, K-weighted: one float32 array per channel (read from the filter's frames, not copied)."""
        import av

        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=self._layout)
        frame.sample_rate, frame.time_base, frame.pts = self.rate, Fraction(1, self.rate), self._samples
        self._samples += chunk.shape[1]
        self._graph.push(frame)
        frames = []
        while True:
            try:
                frames.append(self._graph.pull())
            except (BlockingIOError, av.error.EOFError):  # all that this chunk gave (the filter keeps none back)
                break
        planes = [[np.frombuffer(p, dtype=np.float32, count=f.samples) for p in f.planes[: len(chunk)]] for f in frames]
        return list(planes[0]) if len(planes) == 1 else [np.concatenate(channel) for channel in zip(*planes)]

    def squares(self, chunk: np.ndarray) -> np.ndarray:
        """The next samples' K-weighted squares summed over channels, sample by sample (float32): the energy BS.1770
        sums."""
        weighted = self(chunk)
        total = np.square(weighted[0])
        for channel in weighted[1:]:
            total += np.square(channel)
        return total


@functools.cache
def _interpolator() -> tuple[np.ndarray, float]:
    """The fractional phases (1/4, 2/4, 3/4) of the oversampling filter, as a (TAPS, 3) matrix applied to a window of
    TAPS samples (its values lie between the window's two middle samples), and the largest sum of a phase's absolute
    taps: no value interpolated in a window exceeds the window's largest sample times it."""
    # odd length, so that phase 0 falls on the samples themselves
    h = lowpass(OVERSAMPLE * TAPS + 1, 1 / OVERSAMPLE, beta=6.0) * OVERSAMPLE
    phases = np.stack([h[p::OVERSAMPLE][::-1] for p in range(1, OVERSAMPLE)], axis=1).astype(np.float32)
    return phases, float(np.abs(phases).sum(axis=0).max())


@functools.cache
def _block_interpolator() -> np.ndarray:
    """The interpolator for a whole block of TAPS windows at once: a (2 TAPS - 1, 3 TAPS) matrix taking the span of
    samples the block's windows cover to every value between its samples (one matrix product per block)."""
    phases, _ = _interpolator()
    span = np.zeros((2 * TAPS - 1, TAPS, OVERSAMPLE - 1), dtype=np.float32)
    for start in range(TAPS):
        span[start : start + TAPS, start] = phases
    return span.reshape(2 * TAPS - 1, -1)


@functools.cache
def _curvature_bound() -> tuple[float, float]:
    """Two gains that bound every value the interpolator makes from the signal's curvature: a value between samples
    a and b of a window is α a + β b + Σ c_j d_j exactly, d_j = x[j-1] - 2 x[j] + x[j+1] its second differences
    (the window's samples rewritten in terms of its two middle ones and its second differences: an invertible change of
    variables); so no value exceeds S · max(|a|, |b|) + C · max |d_j|, S the largest |α| + |β| of the three phases
    (about 1: the interpolator passes straight lines), C the largest Σ |c_j| (about 0.46). Speech is smooth at these
    rates (its second differences a few per cent of its level), so the bound sits a fraction of a dB over a window's
    middle samples, where the whole gain (`_interpolator`) is 7.9 dB over its largest."""
    phases, _ = _interpolator()
    middle = _MIDDLE
    change = np.zeros((TAPS, TAPS))  # rows: a, b, then d_1 … d_{TAPS-2}, as combinations of the window's samples
    change[0, middle] = change[1, middle + 1] = 1.0
    for j in range(1, TAPS - 1):
        change[1 + j, j - 1 : j + 2] = (1.0, -2.0, 1.0)
    coefficients = np.linalg.solve(change.T, phases.astype(np.float64))  # phases = change.T @ coefficients
    straight = np.abs(coefficients[:2]).sum(axis=0).max()
    curved = np.abs(coefficients[2:]).sum(axis=0).max()
    return float(straight) * (1 + 1e-6), float(curved) * (1 + 1e-6)  # rounded up: a bound, not an estimate


def _bound(spans: np.ndarray, loudest: np.ndarray) -> np.ndarray:
    """An upper bound of every value interpolated within each of some blocks (`_curvature_bound`, over all channels),
    from the spans of their windows (channels × blocks × 2 TAPS - 1 samples) and their largest samples."""
    straight, curved = _curvature_bound()
    middles = _across(np.abs(spans[..., _MIDDLE : _MIDDLE + TAPS + 1]).max(axis=2))  # every window's middle samples
    bends = spans[..., :-2] + spans[..., 2:]
    bends -= 2 * spans[..., 1:-1]
    curve = _across(np.abs(bends, out=bends).max(axis=2))
    # the float32 sums of the interpolation (TAPS products) and of the differences round by less than 1e-5 of the
    # largest sample: the margin keeps the bound over what the products compute, so a block it skips holds no higher
    # value than the peak found, as computed
    return straight * middles.astype(np.float64) + curved * curve.astype(np.float64) + 2e-5 * loudest


def _across(rows: np.ndarray) -> np.ndarray:
    """The largest of each column of a few rows (channels): row by row, as numpy reduces a short axis slowly."""
    out = rows[0].copy()
    for row in rows[1:]:
        np.maximum(out, row, out=out)
    return out


def loudest(samples: np.ndarray) -> np.ndarray:
    """The largest absolute sample of each instant over the channels (channels × samples): row by row, as numpy
    reduces a short axis slowly."""
    found = np.abs(samples[0])
    for channel in samples[1:]:
        np.maximum(found, np.abs(channel), out=found)
    return found


def _block_peaks(samples: np.ndarray) -> np.ndarray:
    """The largest absolute sample of every TAPS samples (channels × a multiple of TAPS), over all channels: the
    channels' absolute values joined first, then reduced by blocks (three times quicker than one reduction over
    both axes)."""
    peaks = loudest(samples)
    return np.maximum.reduceat(peaks, np.arange(0, len(peaks), TAPS))


class Meter:
    """BS.1770-4 integrated loudness, loudness range and true peak of PCM fed in chunks (float32, channels × samples):
    the K-weighted energy of every 100 ms, and the peaks of the 4× oversampled signal, computed where they can matter
    (a window whose largest sample, times the interpolator's largest gain, cannot reach the highest peak found so far
    holds no higher one: exact, at a fraction of the work)."""

    def __init__(self, rate: int, channels: int, true_peak: bool = True) -> None:
        self._filter = KWeighting(rate, channels)
        self.step = rate // 10
        self._rest = np.zeros(0, dtype=np.float32)  # K-weighted squares not yet a whole 100 ms
        self._energy: list[np.ndarray] = []
        self.true_peak = true_peak
        self._tail: np.ndarray | None = None  # samples whose windows are not yet oversampled
        self.peak = 0.0  # linear: the oversampled peak when true_peak, else the sample peak
        self.sample_peak = 0.0
        self.samples = 0

    def feed(self, chunk: np.ndarray) -> None:
        """Meter the next samples (float32, channels × samples, C-contiguous)."""
        if not chunk.shape[1]:
            return
        self.samples += chunk.shape[1]
        squares = self._filter.squares(chunk)
        whole = np.concatenate([self._rest, squares]) if len(self._rest) else squares
        blocks = len(whole) // self.step
        if blocks:
            self._energy.append(whole[: blocks * self.step].reshape(blocks, self.step).sum(axis=1, dtype=np.float64))
            self._energy[-1] /= self.step
        self._rest = whole[blocks * self.step :]
        if self.true_peak:
            self._oversample(chunk)  # the sample peak too, from the blocks' peaks it finds
        else:
            self.sample_peak = max(self.sample_peak, float(chunk.max()), -float(chunk.min()))
            self.peak = self.sample_peak

    def _oversample(self, chunk: np.ndarray) -> None:
        reach = _interpolator()[1]
        if self._tail is None:  # before the first sample, the first sample held (zeros would be a step: a false peak)
            self._tail = np.repeat(chunk[:, :1], TAPS, axis=1)
        joined = np.concatenate([self._tail, chunk], axis=1)
        blocks = joined.shape[1] // TAPS  # windows starting in block b lie within blocks b and b + 1
        if blocks < 2:
            self._tail = joined
            return
        self._tail = joined[:, (blocks - 1) * TAPS :]
        loud = _block_peaks(joined[:, : blocks * TAPS])
        # every sample lies in one block of one call (the held samples before and after repeat the first and last)
        self.sample_peak = max(self.sample_peak, float(loud.max()))
        self.peak = max(self.peak, self.sample_peak)
        loudest = np.maximum(loud[:-1], loud[1:])  # of the two blocks a block's windows lie in
        found = np.flatnonzero(loudest * reach > self.peak)
        if not len(found):
            return
        spans = np.lib.stride_tricks.sliding_window_view(joined, 2 * TAPS - 1, axis=1)[:, found * TAPS]
        # a second, tighter bound (the signal's curvature): most blocks stop here, a few of every thousand go on
        bound = _bound(spans, loudest[found])
        kept = np.flatnonzero(bound > self.peak)
        # the highest bounds first: the peak is found early, and the blocks after it are measured against it
        kept = kept[np.argsort(-bound[kept], kind="stable")]
        matrix = _block_interpolator()
        # small products: a large one sends OpenBLAS to its threads, which spin on a busy machine (5x the CPU time)
        for part in np.array_split(kept, 1 + len(kept) // 128):
            part = part[bound[part] > self.peak]
            if len(part):
                values = spans[:, part] @ matrix  # (channels, blocks, TAPS windows × 3 phases)
                self.peak = max(self.peak, float(np.abs(values).max()))

    def energy(self) -> np.ndarray:
        """The K-weighted mean-square energy (summed over channels) of every whole 100 ms fed."""
        return np.concatenate(self._energy) if self._energy else np.zeros(0)

    def result(self) -> Loudness:
        """Integrated loudness (LUFS), true peak (dBTP), loudness range (LU) and sample peak of all that was fed."""
        if self.true_peak and self._tail is not None:  # the last windows, the last sample held after the end
            self._oversample(np.repeat(self._tail[:, -1:], 2 * TAPS, axis=1))
        energy = self.energy()
        return Loudness(
            integrated=gated_loudness(energy),
            true_peak=decibels(self.peak),
            lra=energy_range(energy),
            sample_peak=decibels(self.sample_peak),
        )


def _windows(energy: np.ndarray, blocks: int) -> np.ndarray:
    """Mean energy of every window of `blocks` consecutive 100 ms blocks (one starting at each block)."""
    if len(energy) < blocks:
        return np.zeros(0)
    total = np.concatenate([[0.0], np.cumsum(energy)])
    return (total[blocks:] - total[:-blocks]) / blocks


def lufs(energy: np.ndarray | float) -> np.ndarray:
    """Loudness (LUFS) of K-weighted mean-square energy."""
    with np.errstate(divide="ignore"):
        return -0.691 + 10 * np.log10(energy)


def gated_loudness(energy: np.ndarray) -> float:
    """Integrated loudness (ITU-R BS.1770-4) of K-weighted 100 ms energies: 400 ms blocks, gated at -70 LUFS and
    10 LU under the mean of those; -70 when all are silent."""
    blocks = _windows(energy, 4)
    loud = blocks[lufs(blocks) > -70]
    if not len(loud):
        return -70.0
    kept = loud[lufs(loud) > lufs(loud.mean()) - 10]
    return float(lufs(kept.mean()))


def energy_range(energy: np.ndarray) -> float:
    """Loudness range (EBU Tech 3342) of K-weighted 100 ms energies: 3 s windows, gated at -70 LUFS and 20 LU under
    their mean; the 95th minus the 10th percentile."""
    windows = _windows(energy, 30)
    loud = windows[lufs(windows) > -70]
    if len(loud) < 2:
        return 0.0
    kept = np.sort(lufs(loud[lufs(loud) > lufs(loud.mean()) - 20]))
    return float(kept[round(0.95 * (len(kept) - 1))] - kept[round(0.10 * (len(kept) - 1))])
