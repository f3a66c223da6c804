"""Mastering: a recording → the show's audio file in the cache, streamed through ffmpeg: analysed once, levelled,
encoded once and its decoded output verified; and other editions (clean, Opus) encoded from its decisions."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import queue
import threading
import time
import wave
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from .. import artefacts
from ..config import AudioSettings
from ..errors import AudioError
from ..files import file_sha256
from ..progress import Progress, Task, no_task
from ..records import AudioInfo, LoudnessReport, Mastered, PassTime
from . import cleanup
from .edit import Edit, tone_level, write_mask
from .ffmpeg import configure_pydub, ffmpeg_version, file_arg, filter_path, run_ffmpeg, stream_pcm
from .loudness import (
    SILENT,
    KWeighting,
    Loudness,
    Meter,
    decibels,
    ebur128,
    energy_range,
    gated_loudness,
    loudest,
    lufs,
    read_metering,
)

# A recording whose decoded length falls this far short of what its header says is truncated.
TRUNCATION_TOLERANCE = 1.0
MIN_DURATION = 1.0


def cache_key(recording_sha: str, settings: AudioSettings, channels: int, jingles: tuple[str, ...] = ()) -> str:
    """Key of a mastered file: the recording's content and every setting that changes the sound."""
    # intro/outro: their content counts, not their names; the Opus edition is made after mastering, from its result
    sound = {k: v for k, v in asdict(settings).items() if k not in ("intro", "outro", "opus", "opus_bitrate")}
    parts = {
        "recording": recording_sha,
        "settings": sound,
        "jingles": jingles,
        "channels": channels,
        "ffmpeg": ffmpeg_version(),
        "decoder": decoder_version(),  # the analysis may decode the recording in-process: its decoders count too
        "method": METHOD,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def decoder_version() -> str:
    """PyAV's version and its FFmpeg libraries' (the in-process decoder of the analysis and the verification)."""
    import av

    return f"{av.__version__} libavcodec {'.'.join(map(str, av.library_versions['libavcodec']))}"


def output_channels(info: AudioInfo) -> int:
    """Mono stays mono; everything else becomes stereo."""
    return 1 if info.channels == 1 else 2


# --- loudness -------------------------------------------------------------------------------------------------------

METHOD = "gain-curve-v6"
# Decoding what an encoder wrote reads this much quieter (LU) than what went in (measured on speech and shaped noise, 128 kbps).
ENCODER_LOSS = {"mp3": 0.42, "m4a": 0.1}
# The limiter works on sample peaks; MP3 decoding overshoots them by up to ~1.6 dB (measured).
TRUE_PEAK_MARGIN = 2.0
# Peaks this far under the limiter's ceiling after levelling and gain leave compressor and limiter idle (resampling moves
# sample peaks a little), so the program is not compressed.
IDLE_LIMITER_MARGIN = 1.0
LIMITER = "alimiter=limit={linear:.5f}:attack=5:release=50:level=0:latency=1"  # the Opus edition's (no make-up gain)
# The dynamics are a gain curve computed from the analysis, CONTROL_RATE points a second (a 5 ms peak envelope):
# a gentle speech compressor, so that the limiter is only a safety net: 2.5:1 with a wide (6 dB) knee above a threshold
# this far (dB) above the loudness target, on peaks, released over 50 ms; then a peak limiter that keeps every 5 ms
# block's highest sample under the ceiling, released over 50 ms. Both look ahead: the gain is down before the peak it
# is for (5 ms of attack), as only an offline curve can be. Measured on the 20-minute realistic panel (bench/panel.py):
# a threshold 6 dB above the target took 11.6 dB off the loudest 1 % (the speech squashed: 8 dB more gain needed to
# land), 10 dB above took 6.9 dB and left the limiter 1.6 dB at its 99th percentile.
CONTROL_RATE = 200  # Hz
COMPRESS_ABOVE, RATIO, KNEE = 10.0, 2.5, 6.0
COMPRESSOR_TIMES = (0.005, 0.050)  # s: attack, release
LIMITER_TIMES = (0.005, 0.050)
# Levelling, from the speech's loudness every 100 ms (400 ms windows): the speech level around each block (±0.7 s, a
# turn rather than a syllable) is pulled towards the program's; blocks this far (LU) under the program's loudness are
# pauses and are never boosted (the gain glides across them); the gain curve is smoothed (σ 0.3 s).
BLOCK, SPEECH_GATE, LEVEL_WINDOW, LEVEL_SMOOTH, MAX_LEVEL_GAIN = 0.1, -18.0, 7, 3, 12.0
PER_STEP = round(BLOCK * CONTROL_RATE)  # control blocks in a 100 ms loudness block
TOLERANCE = 0.3  # LU
MAX_ENCODES = 3
# What counts as silence to trim (a stretch of 5 ms blocks whose peaks stay under it), and how much of it to keep.
TRIM_NOISE_DB, TRIM_MIN_SECONDS, TRIM_KEEP_SECONDS = -50, 1.0, 0.3
JINGLE_FADE_MS = {"intro": (0, 1500), "outro": (1000, 2500)}  # (fade in, fade out)
PCM_FORMAT = "flt"  # the graph's samples: float, so no gain stage clips before the curve
# samples: the frames in which the encode's graph multiplies the program by the gain curve (16,384: 0.7 CPU s an hour
# less than 4,096, the same samples)
MULTIPLY_FRAME = 16384
CHUNK_SECONDS = 4  # audio analysed and metered a few seconds at a time: memory stays that, whatever the length
WAV_PACKET = 1 << 18  # bytes: the largest packet read from a WAV recording (in this process and by ffmpeg)
# recordings longer than this are decoded, K-weighted and reduced to their envelope in threads of their own
AHEAD_SECONDS = 3 * CHUNK_SECONDS


@dataclass(frozen=True)
class _Plan:
    """What the mastering graph does to one recording, in the order it does it."""

    source: Path
    settings: AudioSettings
    channels: int
    jingles: tuple[Path | None, Path | None] = (None, None)
    trim: tuple[float, float | None] = (0.0, None)
    curve: Path | None = None  # the gain (linear), CONTROL_RATE values a second on the program's timeline
    source_rate: int = 44100  # the recording's: the analysis needs no resampling
    source_format: str = ""  # the recording's container, as probed ("WAV", "FLAC", …)

    def layout(self) -> str:
        return "mono" if self.channels == 1 else "stereo"

    def speech(self, label: str, resample: bool) -> str:
        """Filter graph text turning the recording into the speech (trimmed, filtered), ending in [label]."""
        rate = self.settings.sample_rate if resample else self.source_rate
        steps = []
        start, end = self.trim
        if start or end is not None:
            steps.append(
                f"atrim=start={start:.3f}" + (f":end={end:.3f}" if end is not None else "") + ",asetpts=PTS-STARTPTS"
            )
        if self.settings.highpass:
            steps.append(f"highpass=f={self.settings.highpass}")
        steps += cleanup.chain(self.settings)  # [audio] denoise, dehum, deess: on the voice, before any gain
        steps.append(f"aformat=sample_fmts={PCM_FORMAT}:sample_rates={rate}:channel_layouts={self.layout()}")
        return f"[0:a]{','.join(steps)}[{label}]"

    def program(self, label: str) -> str:
        """Filter graph text turning the inputs into the program at the output rate, times the gain curve, ending
        in [label]."""
        parts = [self.speech("speech", resample=True)]
        fmt = (
            f"aformat=sample_fmts={PCM_FORMAT}:sample_rates={self.settings.sample_rate}:channel_layouts={self.layout()}"
        )
        index = 1
        for name, jingle in zip(("j0", "j1"), self.jingles):
            if jingle is not None:
                parts.append(f"[{index}:a]{fmt}[{name}]")
                index += 1
        pieces = (["[j0]"] if self.jingles[0] else []) + ["[speech]"] + (["[j1]"] if self.jingles[1] else [])
        joined = "[speech]anull" if len(pieces) == 1 else f"{''.join(pieces)}concat=n={len(pieces)}:v=0:a=1"
        if self.curve is None:
            return ";".join([*parts, f"{joined}[{label}]"])
        spread = "pan=mono|c0=c0" if self.channels == 1 else "pan=stereo|c0=c0|c1=c0"  # not aformat: its upmix is -3 dB
        # the shortest interpolator that passes a constant curve flat (filter_size 2 ripples by 8 dB, 4 by 0.5 dB at
        # this ratio, 8 by none): the curve is smooth already, and a longer one rings at the limiter's ramps. Read by
        # the graph itself (amovie), not as an input of its own: ffmpeg runs no demuxer and decoder threads for it
        # (2 CPU s an hour of their hand-overs)
        # both sides in frames of one size: amultiply then takes each pair as it comes, where frames of unequal sizes
        # (the curve's a few seconds long, the program's as the decoder and resampler give them) were cut and copied
        # for every pair it made (0.5 CPU s an hour; the same samples out)
        frames = f"asetnsamples=n={MULTIPLY_FRAME}:p=0"
        curve = (
            f"amovie={filter_path(self.curve)}:f=f32le:format_opts=sample_rate={CONTROL_RATE},"
            f"aresample={self.settings.sample_rate}:filter_size=8,aformat=sample_fmts={PCM_FORMAT},{spread},{frames}"
        )
        return ";".join([*parts, f"{joined},{frames}[prog]", f"{curve}[gain]", f"[prog][gain]amultiply[{label}]"])

    def source_input(self) -> list[str]:
        """ffmpeg's input arguments for the recording: a WAV read in packets of WAV_PACKET bytes, not 4,096 samples
        (ffmpeg's decoding of 48 kHz 24-bit stereo to the graph: 1.2 CPU s for 20 minutes, 0.6 in big packets; the
        same samples). The option is the WAV demuxer's own, so the demuxer is named: ffmpeg refuses an option no
        demuxer of the input knows."""
        wav = ["-f", "wav", "-max_size", str(WAV_PACKET)] if self.source_format == "WAV" else []
        return [*wav, "-i", file_arg(self.source)]

    def inputs(self) -> list[str]:
        """ffmpeg's input arguments: the recording, the prepared jingles (the graph reads the gain curve itself)."""
        args = self.source_input()
        for jingle in self.jingles:
            if jingle is not None:
                args += ["-i", file_arg(jingle)]
        return args


# --- the analysis: a 5 ms envelope of the signal, streamed ------------------------------------------------------------


class _Envelope:
    """Per 5 ms block of a signal fed in chunks (float32, channels × samples): its K-weighted energy (sum of squares
    over channels), its highest sample and its length. Block i starts at sample floor(i · rate / CONTROL_RATE), so
    blocks keep time at any rate."""

    def __init__(self, rate: int, channels: int) -> None:
        self.rate = rate
        self._filter = KWeighting(rate, channels)
        self._rest = np.zeros(0, dtype=np.float32)  # the samples of the block not yet whole: squares, and peaks
        self._rest_peak = self._rest
        self._done = 0  # samples in whole blocks so far
        self._blocks = 0
        self._energy: list[np.ndarray] = []
        self._peak: list[np.ndarray] = []

    def _start(self, block: np.ndarray | int) -> np.ndarray | int:
        return block * self.rate // CONTROL_RATE

    def feed(self, chunk: np.ndarray) -> None:
        self.add(chunk, self.weigh(chunk))

    def weigh(self, chunk: np.ndarray) -> np.ndarray:
        """The next chunk's K-weighted squares, summed over channels (`add` takes them with the chunk): the filter's
        state runs on from the chunk before, so chunks are weighed in order, in one thread (maybe not `add`'s)."""
        return self._filter.squares(chunk)

    def add(self, chunk: np.ndarray, squares: np.ndarray) -> None:
        """Take the next chunk into the envelope, with its K-weighted squares (`weigh`)."""
        # across channels first, then by blocks
        self._cut(np.concatenate([self._rest, squares]), np.concatenate([self._rest_peak, loudest(chunk)]), last=False)

    def _cut(self, squares: np.ndarray, loudest: np.ndarray, last: bool) -> None:
        end = self._done + len(squares)
        whole = end * CONTROL_RATE // self.rate
        while self._start(whole + 1) <= end:
            whole += 1
        if last and self._start(whole) < end:
            whole += 1  # the last, shorter block
        if whole > self._blocks:
            starts = self._start(np.arange(self._blocks, whole + 1)) - self._done
            starts[-1] = min(starts[-1], len(squares))
            stop = starts[-1]
            self._energy.append(np.add.reduceat(squares[:stop], starts[:-1], dtype=np.float64))
            self._peak.append(np.maximum.reduceat(loudest[:stop], starts[:-1]))
            self._done += stop
            self._blocks = whole
            squares, loudest = squares[stop:], loudest[stop:]
        self._rest, self._rest_peak = squares, loudest

    def finish(self) -> _Blocks:
        """The envelope of everything fed."""
        if len(self._rest):
            self._cut(self._rest, self._rest_peak, last=True)
        starts = self._start(np.arange(self._blocks + 1))
        starts[-1] = min(starts[-1], self._done)
        # float32: three hours are 2.2 million blocks; the sums over them are taken in float64
        return _Blocks(
            energy=np.concatenate(self._energy).astype(np.float32) if self._energy else np.zeros(0, np.float32),
            peak=np.concatenate(self._peak).astype(np.float32) if self._peak else np.zeros(0, np.float32),
            samples=np.diff(starts).astype(np.float32),
            rate=self.rate,
        )


@dataclass(frozen=True)
class _Blocks:
    """A signal's 5 ms envelope: K-weighted energy (sum of squares over channels), highest sample, length in samples."""

    energy: np.ndarray
    peak: np.ndarray
    samples: np.ndarray
    rate: int

    def __getitem__(self, span: slice) -> _Blocks:
        return _Blocks(self.energy[span], self.peak[span], self.samples[span], self.rate)

    @property
    def seconds(self) -> np.ndarray:
        return self.samples.astype(np.float64) / self.rate  # float64: summed over hours, they keep time to the sample

    @functools.cached_property
    def peak_db(self) -> np.ndarray:
        """Each block's highest sample in dBFS (float32; silence at -200)."""
        return (20 * np.log10(np.maximum(self.peak, 1e-10))).astype(np.float32)

    def steps(self, gain_db: np.ndarray | float = 0.0) -> np.ndarray:
        """K-weighted mean-square energy of every 100 ms (PER_STEP blocks), after a gain (dB) per block."""
        energy = self.energy * 10 ** (np.asarray(gain_db, dtype=np.float32) / 10) if np.any(gain_db) else self.energy
        count = -(-len(energy) // PER_STEP)
        pad = count * PER_STEP - len(energy)
        total = np.pad(energy, (0, pad)).reshape(count, PER_STEP).sum(axis=1, dtype=np.float64)
        samples = np.pad(self.samples, (0, pad)).reshape(count, PER_STEP).sum(axis=1, dtype=np.float64)
        return np.divide(total, samples, out=np.zeros(count), where=samples > 0)


def _concat(parts: list[_Blocks]) -> _Blocks:
    return _Blocks(
        # per second, not per sample: the parts' rates may differ
        energy=np.concatenate([p.energy / np.float32(p.rate) for p in parts]),
        peak=np.concatenate([p.peak for p in parts]),
        samples=np.concatenate([p.seconds for p in parts]),
        rate=1,
    )


def _analyse(
    info: AudioInfo, plan: _Plan, progress: Progress | None, stop: threading.Event | None = None
) -> tuple[_Blocks, float]:
    """Pass 1: decode the recording once (filtered as the encode will filter it) and take its 5 ms envelope; return
    it and the CPU seconds it took outside this thread (the ffmpeg it ran, or the decoding and filtering threads). A
    recording the encode only resamples (no high-pass, no clean-up, its channels kept) is decoded in this process
    (PyAV): the decoding, the K-weighting and the envelope each in a thread of its own, a chunk or two apart, so the
    pass takes both cores (the same figures as one thread, bit for bit: the filter still sees the chunks in order).
    `stop`: once it is set, the pass stops (`_Stopped`) at the next chunk."""
    envelope = _Envelope(plan.source_rate, plan.channels)
    plain = not plan.settings.highpass and not cleanup.chain(plan.settings) and plan.trim == (0.0, None)

    def check() -> None:
        if stop is not None and stop.is_set():
            raise _Stopped()

    if plain and info.channels == plan.channels and info.sample_rate == plan.source_rate:
        try:
            rate, _, chunks = _decoded(info.path)
        except AudioError:  # PyAV cannot open what ffmpeg may: ffmpeg says what is wrong, if anything is
            rate = 0
        if rate == plan.source_rate:
            done = 0.0
            # threads pay where there are chunks to overlap; a clip of a chunk or two is analysed in this one
            decoded = _Ahead(chunks) if info.duration > AHEAD_SECONDS else None
            pairs = ((chunk, envelope.weigh(chunk)) for chunk in decoded or chunks)
            weighed = _Ahead(pairs) if decoded else None
            try:
                for chunk, squares in weighed or pairs:
                    check()
                    envelope.add(chunk, squares)
                    done += chunk.shape[1] / rate
                    if progress:
                        progress(min(info.duration, done))
            finally:
                threads = [ahead for ahead in (weighed, decoded) if ahead]
                for ahead in threads:
                    ahead.close()
            return envelope.finish(), sum(ahead.cpu for ahead in threads)

    def feed(chunk: np.ndarray) -> None:
        check()  # raised inside the pipe's reader: ffmpeg is stopped
        envelope.feed(chunk)

    graph = plan.speech("speech", resample=False)
    args = [*plan.source_input(), "-filter_complex", graph, "-map", "[speech]"]
    run = stream_pcm(info.path, args, plan.channels, feed, plan.source_rate, info.duration, progress, CHUNK_SECONDS)
    return envelope.finish(), run.cpu


class _Stopped(Exception):
    """The analysis was stopped: its result is not needed (the master was found in the cache meanwhile)."""


_DONE = object()


class _Ahead:
    """The chunks of an iterator made in a thread of their own, a few ahead of their use: decoding a chunk (PyAV and
    numpy, which let go of the GIL) runs on one core while the chunk before is analysed on the other. `cpu`: the CPU
    seconds that thread spent, once the chunks are all used."""

    def __init__(self, chunks: Iterator[np.ndarray], depth: int = 2) -> None:
        self._chunks = chunks
        self._ready: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self.cpu = 0.0
        self._worker = threading.Thread(target=self._make, daemon=True)
        self._worker.start()

    def _make(self) -> None:
        started = time.thread_time()
        try:
            for chunk in self._chunks:
                if self._stop.is_set():
                    return
                self._ready.put(chunk)
            self._ready.put(_DONE)
        except BaseException as err:  # raised where the chunks are used
            self._ready.put(err)
        finally:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()  # a generator left early closes its file now, not when collected
            self.cpu = time.thread_time() - started

    def __iter__(self) -> Iterator:
        try:
            while (item := self._ready.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.close()

    def close(self) -> None:
        """Stop making chunks, and wait for the thread (its `cpu` is known after this)."""
        self._stop.set()
        while self._worker.is_alive():  # it may wait to hand over one more chunk: take it
            with contextlib.suppress(queue.Empty):
                self._ready.get_nowait()
            self._worker.join(0.01)


def _jingle_blocks(path: Path, channels: int) -> _Blocks:
    """A prepared jingle's envelope (a short WAV, read whole)."""
    with wave.open(str(path)) as clip:
        rate, width, frames = clip.getframerate(), clip.getsampwidth(), clip.readframes(clip.getnframes())
    kind = {1: np.uint8, 2: np.int16, 4: np.int32}[width]
    envelope = _Envelope(rate, channels)
    envelope.feed(_interleave([np.frombuffer(frames, dtype=kind)], channels))
    return envelope.finish()


# --- levelling: a slow gain per 100 ms that brings the speakers' levels together ---------------------------------


def _level(speech: np.ndarray, jingles: np.ndarray, settings: AudioSettings) -> tuple[np.ndarray, float]:
    """The levelling gain (dB) of every 100 ms of the speech (its K-weighted energies): none when its loudness range is
    within the show's, else as gentle a one as brings it there (all the way with level_voices); and the program's
    integrated loudness after it (jingles' energies too)."""
    reference = gated_loudness(speech)
    shape = _level_shape(speech, reference) if settings.normalize or settings.level_voices else np.zeros(len(speech))

    def curve(strength: float) -> np.ndarray:
        return np.clip(-strength * shape, -MAX_LEVEL_GAIN, MAX_LEVEL_GAIN)

    def lra(gain: np.ndarray) -> float:
        return energy_range(speech * 10 ** (gain / 10))

    strength = 0.0
    if settings.level_voices:
        strength = 1.0
    elif settings.normalize and lra(np.zeros(len(speech))) > settings.lra:
        low, high = 0.0, 1.0
        if lra(curve(high)) > settings.lra:
            low = high
        for _ in range(12):  # bisect: the gentlest levelling that brings the range within the target
            if high - low < 0.01:
                break
            middle = (low + high) / 2
            low, high = (middle, high) if lra(curve(middle)) > settings.lra else (low, middle)
        strength = high
    gain = curve(strength)
    return gain, gated_loudness(_join(speech * 10 ** (gain / 10), jingles))


def _join(speech: np.ndarray, jingles: np.ndarray) -> np.ndarray:
    return np.concatenate([speech, jingles]) if len(jingles) else speech


def _level_shape(energy: np.ndarray, reference: float) -> np.ndarray:
    """How far (dB) the speech around each 100 ms is from `reference`: smoothed, and carried across pauses."""
    momentary = np.concatenate([energy[:3], np.convolve(energy, np.ones(4) / 4, mode="valid")])
    active = lufs(momentary) > reference + SPEECH_GATE
    power = np.concatenate([[0.0], np.cumsum(np.where(active, momentary, 0.0))])
    count = np.concatenate([[0], np.cumsum(active)])
    n = len(energy)
    k = np.arange(n)
    a, b = np.maximum(0, k - LEVEL_WINDOW), np.minimum(n, k + LEVEL_WINDOW + 1)
    known = active & (count[b] - count[a] >= 3)
    if not known.any():
        return np.zeros(n)
    level = lufs((power[b] - power[a])[known] / (count[b] - count[a])[known]) - reference
    shape = np.interp(k, k[known], level)  # across a pause the gain glides from one speaker's to the next's
    weights = np.exp(-0.5 * (np.arange(-3 * LEVEL_SMOOTH, 3 * LEVEL_SMOOTH + 1) / LEVEL_SMOOTH) ** 2)
    padded = np.pad(shape, 3 * LEVEL_SMOOTH, mode="edge")
    return np.convolve(padded, weights / weights.sum(), mode="valid")


# --- dynamics: compressor and limiter as a gain computer on the 5 ms envelope ---------------------------------------


HOLD_SEGMENT = 1 << 16  # points held at a time: the working arrays stay small whatever the program's length


def _hold(need: np.ndarray, seconds: float) -> np.ndarray:
    """Each value, or any earlier one decayed exponentially (dB) over `seconds` since, whichever is larger: a release
    that never gives back less than is needed (a running maximum in the log domain, segment by segment, each
    starting from the last one's end)."""
    held = need.astype(np.float32)  # a copy: dB to a hundredth of a dB is plenty
    if not need.any():
        return held
    per = 1 / (seconds * CONTROL_RATE)
    carry = 0.0
    for start in range(0, len(need), HOLD_SEGMENT):
        part = need[start : start + HOLD_SEGMENT].astype(np.float64)
        ramp = np.arange(len(part)) * per
        with np.errstate(divide="ignore"):
            logs = np.log(part)
            if carry > 0:  # the previous segment's last value, one point on
                logs[0] = max(logs[0], math.log(carry) - per)
            logs += ramp
            np.maximum.accumulate(logs, out=logs)
            logs -= ramp
        np.maximum(part, np.exp(logs), out=part)  # (exp of log rounds a little)
        held[start : start + len(part)] = part
        carry = float(part[-1])
    return held


def _smooth_gr(need: np.ndarray, times: tuple[float, float]) -> np.ndarray:
    """Gain reduction (dB) at every point: the need, approached over the attack (ahead) and left over the release."""
    held = _hold(need, times[1])
    np.maximum(held, _hold(need[::-1], times[0])[::-1], out=held)
    return held


def _at_points(per_block: np.ndarray) -> np.ndarray:
    """A block value at the points between blocks (and the two ends): the larger of the two blocks beside each."""
    padded = np.concatenate([per_block[:1], per_block, per_block[-1:]])
    return np.maximum(padded[:-1], padded[1:])


@dataclass(frozen=True)
class _Dynamics:
    """What compressor and limiter do to a program at one static gain: their gain reduction (dB) at every point."""

    compressor: np.ndarray
    limiter: np.ndarray

    def total(self) -> np.ndarray:
        return self.compressor + self.limiter


def _dynamics(
    program: _Blocks, level: np.ndarray, gain: float, ceiling: float, settings: AudioSettings, compress: bool
) -> _Dynamics:
    """The compressor's and the limiter's gain reduction at every point of the program, for a static `gain` (dB) on top
    of the levelling `level` (dB per block). Each block's highest sample ends under `ceiling` whatever way the gain
    goes between the block's two points, as long as it goes monotonically (it is interpolated)."""
    peak = program.peak_db + level
    peak += gain
    compressor = limiter = np.zeros(len(peak) + 1, dtype=np.float32)
    if compress:
        # 2.5:1 above the threshold, a quadratic knee across it: slope × (u² / 2K + max(0, over - K/2)), u the part
        # of the knee passed
        over = peak - (settings.loudness + COMPRESS_ABOVE)
        static = np.clip(over + KNEE / 2, 0.0, KNEE)
        np.square(static, out=static)
        static /= 2 * KNEE
        over -= KNEE / 2
        np.maximum(over, 0.0, out=over)
        static += over
        static *= 1 - 1 / RATIO
        del over
        compressor = _smooth_gr(_at_points(static), COMPRESSOR_TIMES)
        del static
        peak -= np.minimum(compressor[:-1], compressor[1:])
    peak -= ceiling
    np.maximum(peak, 0.0, out=peak)  # what the limiter must take from each block
    if peak.any():
        limiter = _smooth_gr(_at_points(peak), LIMITER_TIMES)
    return _Dynamics(compressor=compressor, limiter=limiter)


def _predict(program: _Blocks, level: np.ndarray, gain: float, dynamics: _Dynamics) -> float:
    """The program's integrated loudness after levelling, gain, compressor and limiter."""
    taken = dynamics.total()
    return gated_loudness(program.steps(level + gain - (taken[:-1] + taken[1:]) / 2))


def _solve(
    program: _Blocks,
    level: np.ndarray,
    start: float,
    wanted: float,
    ceiling: float,
    settings: AudioSettings,
    compress: bool,
) -> tuple[float, _Dynamics]:
    """The static gain whose output (levelled, compressed, limited) is `wanted` LUFS, and its dynamics: compressor
    and limiter only take loudness away, so the gain lies at or above `start` (the gain without them); the loudness
    rises with the gain, so a bracket narrows on it (regula falsi, Illinois variant)."""

    def off(gain: float) -> tuple[float, _Dynamics]:
        dynamics = _dynamics(program, level, gain, ceiling, settings, compress)
        return _predict(program, level, gain, dynamics) - wanted, dynamics

    low, (f_low, dynamics) = start, off(start)
    if f_low >= -0.005:
        return low, dynamics
    high, f_high = low, f_low
    step = -f_low + 1.0
    while f_high < 0 and high < start + 4 * MAX_LEVEL_GAIN:  # widen until the loudness is passed
        low, f_low = high, f_high
        high = high + step
        f_high, dynamics = off(high)
        step *= 2
    if f_high < 0:
        return high, dynamics
    best = high
    side = 0
    for _ in range(30):
        gain = (low * f_high - high * f_low) / (f_high - f_low)
        f_gain, dynamics = off(gain)
        best = gain
        if abs(f_gain) < 0.005 or high - low < 0.001:
            break
        if f_gain < 0:
            low, f_low = gain, f_gain
            if side == -1:
                f_high /= 2
            side = -1
        else:
            high, f_high = gain, f_gain
            if side == 1:
                f_low /= 2
            side = 1
    return best, dynamics


def _spread(values: np.ndarray) -> tuple[float, float]:
    """Maximum and 99th percentile of gain reductions (dB)."""
    if not len(values):
        return 0.0, 0.0
    return float(values.max()), float(np.percentile(values, 99))


def _write_curve(times: np.ndarray, gain_db: np.ndarray, seconds: float, path: Path) -> Path:
    """The gain at its points (program seconds) on a regular grid, CONTROL_RATE linear factors a second (f32)."""
    grid = (
        np.arange(int(seconds * CONTROL_RATE) + 2 * CONTROL_RATE) / CONTROL_RATE
    )  # longer: amultiply stops at the shorter
    np.interp(grid, times, 10 ** (gain_db / 20)).astype("<f4").tofile(path)
    return path


def _silences(blocks: _Blocks) -> list[tuple[float, float]]:
    """Stretches (seconds) at least TRIM_MIN_SECONDS long whose 5 ms blocks all peak under TRIM_NOISE_DB."""
    quiet = blocks.peak < 10 ** (TRIM_NOISE_DB / 20)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]])))
    times = np.concatenate([[0.0], np.cumsum(blocks.seconds)])
    spans = [(times[a], times[b]) for a, b in zip(edges[::2], edges[1::2])]
    return [(a, b) for a, b in spans if b - a >= TRIM_MIN_SECONDS]


def _trim_range(spans: list[tuple[float, float]], duration: float) -> tuple[float, float | None]:
    """Where the kept audio starts and ends, leaving a little of each silence."""
    start, end = 0.0, None
    if spans and spans[0][0] <= 0.05:
        start = max(0.0, spans[0][1] - TRIM_KEEP_SECONDS)
    if spans and spans[-1][1] >= duration - 0.05 and spans[-1][0] > start:
        end = spans[-1][0] + TRIM_KEEP_SECONDS
    return start, end


# --- the stage --------------------------------------------------------------------------------------------------------


def master(
    info: AudioInfo,
    settings: AudioSettings,
    cache_dir: Path,
    task: Task | None = None,
    root: Path | None = None,
    *,
    source_sha: str | Callable[[], str] = "",
    fresh: bool = False,
) -> Mastered:
    """Master one recording into the cache (or reuse the cached result); raise AudioError on failure.
    `source_sha`: the recording's checksum, when the caller has it already; or what reads it (else it is read here).
    `fresh`: master it again, even when cached.

    A checksum still to be read is read in a thread beside the analysis, which starts before the cache is looked up
    (a recording whose checksum is not known is most likely new): the hash of an hour (0.9 CPU s) and the analysis
    share the two cores. A master found in the cache stops the analysis at its next chunk."""
    if info.duration < MIN_DURATION:
        raise AudioError(
            info.path, f"is only {info.duration:.1f} s long", f"a recording must be at least {MIN_DURATION:.0f} s"
        )
    channels = output_channels(info)
    sources = _jingle_sources(settings, root)
    shelf = _shelf(cache_dir, settings.format)
    task = task or no_task

    def look_up() -> tuple[str, Mastered | None]:
        sha = source_sha() if callable(source_sha) else source_sha or file_sha256(info.path)
        key = cache_key(sha, settings, channels, tuple(file_sha256(p) if p else "" for p in sources))
        return key, None if fresh else from_record(shelf, key, shelf.get(key))

    plan = _Plan(
        source=info.path,
        settings=settings,
        channels=channels,
        source_rate=info.sample_rate or settings.sample_rate,
        source_format=info.format,
    )
    analysis = None
    if source_sha and not callable(source_sha):
        key, cached = look_up()
    else:
        lookup = _Beside(look_up, found=lambda result: result[1] is not None)
        opened: list[Progress] = []

        def progress(done: float) -> None:
            # the measure's bar opens once the cache is known to lack the master: none for work found needless
            if not opened and lookup.missed():
                opened.append(task("measure", info.duration))
            if opened:
                opened[0](done)

        try:
            analysis = _measure(info, plan, progress, lookup.found)
        except _Stopped:
            pass
        finally:
            key, cached = lookup.result()  # its error, if any, first: the recording could not be read
        if cached is None and not opened:  # the analysis was done before the cache was looked up
            task("measure", info.duration)(info.duration)
    if cached is not None:
        return cached
    with shelf.make(key) as job:
        jingles = tuple(
            _prepare_jingle(p, kind, settings, channels, job.work) if p else None
            for p, kind in zip(sources, ("intro", "outro"))
        )
        mastered, decisions = _master(info, replace(plan, jingles=jingles), job.partial, job.work, task, analysis)
        # The decisions (gain, chain, trim, levelling curve) are kept so that another edition of the same program (the
        # clean edition) is encoded exactly as this one was, without measuring or simulating again.
        if decisions.curve is not None:
            job.companions.append((decisions.curve, f"{key}.curve.f32"))
        kept = {**asdict(decisions), "curve": decisions.curve is not None}
        job.record = {
            "duration": mastered.duration,
            "offset": mastered.offset,
            "report": mastered.report and asdict(mastered.report),
            "decisions": kept,
        }
    return replace(mastered, path=shelf.file(key), key=key)


class _Beside:
    """A function run in a thread of its own while the caller goes on; `found` is set once its result is one that
    makes the caller's work needless (`found(result)` true)."""

    def __init__(self, work: Callable[[], object], found: Callable[[object], bool]) -> None:
        self.found = threading.Event()
        self._result: object = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._result = work()
                if found(self._result):
                    self.found.set()
            except BaseException as err:  # raised in the caller's thread, by `result`
                self._error = err

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def missed(self) -> bool:
        """Whether the function is done, and its result is not one that makes the caller's work needless."""
        return not self._thread.is_alive() and self._error is None and not self.found.is_set()

    def result(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result


@dataclass(frozen=True)
class _Measured:
    """The analysis of a recording (pass 1) and what it cost."""

    blocks: _Blocks
    time: PassTime


def _measure(info: AudioInfo, plan: _Plan, progress: Progress | None, stop: threading.Event | None = None) -> _Measured:
    """Pass 1 (`_analyse`), timed: wall and CPU seconds, of this thread and of those it ran."""
    started, cpu = time.perf_counter(), time.thread_time()
    blocks, other_cpu = _analyse(info, plan, progress, stop)
    return _Measured(blocks, PassTime("measure", time.perf_counter() - started, other_cpu + time.thread_time() - cpu))


def _shelf(cache_dir: Path, fmt: str) -> artefacts.Shelf:
    return artefacts.Shelf(cache_dir / "master", f".{fmt}")


def from_record(shelf: artefacts.Shelf, key: str, data: dict | None, offset: float | None = None) -> Mastered | None:
    """A mastered file of `shelf` as its record describes it (None: no record, or a damaged one: made again);
    `offset`: the timeline's, when the record does not keep it (an edition of a master has the master's)."""
    if data is None:
        return None
    try:
        fields = data.get("report")
        report = (
            LoudnessReport(**{**fields, "timings": tuple(PassTime(**t) for t in fields.get("timings", ()))})
            if fields
            else None
        )
        return Mastered(
            path=shelf.file(key),
            key=key,
            duration=data["duration"],
            report=report,
            cached=True,
            offset=data.get("offset", 0.0) if offset is None else offset,
        )
    except (ValueError, TypeError, KeyError):
        return None


def _jingle_sources(settings: AudioSettings, root: Path | None) -> tuple[Path | None, Path | None]:
    base = root or Path.cwd()
    found = []
    for name in (settings.intro, settings.outro):
        path = base / name if name else None
        if path is not None and not path.is_file():
            raise AudioError(
                path,
                "the intro/outro file named in panelpress.toml does not exist",
                "put it in the show folder or fix [audio] intro/outro",
            )
        found.append(path)
    return found[0], found[1]


def _prepare_jingle(path: Path, kind: str, settings: AudioSettings, channels: int, work: Path) -> Path:
    """A short jingle with its fades, as WAV at the output format (pydub: jingles are small)."""
    decoded = work / f"{kind}.decoded.wav"
    # ffmpeg decodes (pydub would need ffprobe, which the imageio-ffmpeg wheel does not ship).
    args = [
        "-i",
        file_arg(path),
        "-map",
        "0:a:0",
        "-ar",
        str(settings.sample_rate),
        "-ac",
        str(channels),
        "-c:a",
        "pcm_s16le",
        "-t",
        "120",
        "-y",
        file_arg(decoded),
    ]
    run_ffmpeg(path, args, float("inf"))
    configure_pydub()
    from pydub import AudioSegment

    clip = AudioSegment.from_wav(decoded)
    if len(clip) < 100:
        raise AudioError(path, f"the {kind} music holds no audio", "export it again as WAV or MP3")
    fade_in, fade_out = JINGLE_FADE_MS[kind]
    if fade_in:
        clip = clip.fade_in(min(fade_in, len(clip) // 2))
    if fade_out:
        clip = clip.fade_out(min(fade_out, len(clip) // 2))
    out = work / f"{kind}.wav"
    clip.export(out, format="wav")
    return out


@dataclass(frozen=True)
class _Decisions:
    """What mastering decided for one program, so another edition of it can be encoded the same way."""

    gain: float
    ceiling: float
    compress: bool
    trim: tuple[float, float | None]
    curve: Path | None  # the gain curve file


def _master(
    info: AudioInfo, plan: _Plan, out: Path, work: Path, task: Task, analysis: _Measured | None = None
) -> tuple[Mastered, _Decisions]:
    """Analyse once (unless `analysis` is done already), compute the gain curve (levelling, gain, compressor, limiter), encode
    once with it, and meter the decoded output; correct if it missed."""
    settings = plan.settings
    timings: list[PassTime] = []
    analysis = analysis or _measure(info, plan, task("measure", info.duration))
    started, cpu = time.perf_counter(), time.thread_time()  # the gain curve's solving counts as the measure's
    speech = analysis.blocks
    steps = speech.steps()
    measured = Loudness(
        integrated=gated_loudness(steps),
        true_peak=float("nan"),
        lra=energy_range(steps),
        sample_peak=decibels(float(speech.peak.max(initial=0.0))),
    )
    decoded = float(speech.seconds.sum())
    if decoded < info.duration - TRUNCATION_TOLERANCE:
        raise AudioError(
            info.path,
            f"is truncated: its header promises {info.duration:.1f} s but only {decoded:.1f} s of audio decode",
            "export or copy the recording again",
        )
    if measured.integrated <= SILENT:
        raise AudioError(
            info.path, "is silent (no loudness to measure)", "check that the right microphone track was exported"
        )
    trim = (0.0, None)
    if settings.trim_silence:
        trim = _trim_range(_silences(speech), decoded)
    # whole blocks: the trim falls on a block's edge, so the curve's points stay on the blocks' edges
    edges = np.concatenate([[0.0], np.cumsum(speech.seconds)])
    first = int(np.searchsorted(edges, trim[0], side="right") - 1)
    last = len(speech.energy) if trim[1] is None else int(np.searchsorted(edges, trim[1]))
    if trim != (0.0, None):
        trim = (float(edges[first]), None if trim[1] is None else float(edges[last]))
    plan = replace(plan, trim=trim)
    kept = speech[first:last]
    jingles = [_jingle_blocks(j, plan.channels) for j in plan.jingles if j is not None]
    program = _concat(([jingles[0]] if plan.jingles[0] else []) + [kept] + ([jingles[-1]] if plan.jingles[1] else []))
    intro = len(jingles[0].energy) if plan.jingles[0] else 0
    jingle_steps = np.concatenate([j.steps() for j in jingles]) if jingles else np.zeros(0)
    step_gain, levelled = _level(kept.steps(), jingle_steps, settings)
    # the levelling gain per 5 ms block: the 100 ms steps' gains, interpolated between their middles
    level = np.zeros(len(program.energy), dtype=np.float32)
    if step_gain.any():
        centres = (np.arange(len(step_gain)) + 0.5) * PER_STEP
        level[intro : intro + len(kept.energy)] = np.interp(np.arange(len(kept.energy)) + 0.5, centres, step_gain)
    ceiling = settings.true_peak - TRUE_PEAK_MARGIN
    compress = False
    if settings.normalize:
        wanted = settings.loudness + ENCODER_LOSS[settings.format]
        start = wanted - levelled
        # The loudest peak, wherever it is, given the most the levelling adds: under the limiter, nothing needs taming.
        compress = (
            float(np.max(20 * np.log10(np.maximum(program.peak, 1e-10)) + level)) + start
            > ceiling - IDLE_LIMITER_MARGIN
        )
        gain, dynamics = _solve(program, level, start, wanted, ceiling, settings, compress)
    else:
        wanted, gain, ceiling = 0.0, 0.0, 0.0  # no loudness target: only keep the encoder from clipping
        dynamics = _dynamics(program, level, gain, ceiling, settings, compress)
    times = np.concatenate([[0.0], np.cumsum(program.seconds)])
    program_seconds = float(times[-1])
    jingle_seconds = program_seconds - float(kept.seconds.sum())
    curve = work / "curve.f32"

    def gains(dynamics: _Dynamics) -> np.ndarray:
        points = np.concatenate([level[:1], (level[:-1] + level[1:]) / 2, level[-1:]])
        return points + gain - dynamics.total()

    plan = replace(plan, curve=_write_curve(times, gains(dynamics), program_seconds, curve))
    timings.append(
        PassTime(
            "measure",
            round(analysis.time.wall + time.perf_counter() - started, 2),
            round(analysis.time.cpu + time.thread_time() - cpu, 2),
        )
    )
    encodes = 0
    while True:
        encodes += 1
        name = "encode" if encodes == 1 else f"correct {encodes - 1}"
        result = _encode(plan, out, task(name, program_seconds))
        timings += [replace(result.time, name=name), result.check]
        off = abs(result.loudness.integrated - settings.loudness) > TOLERANCE
        hot = result.loudness.true_peak > settings.true_peak
        if not settings.normalize or not (off or hot) or encodes == MAX_ENCODES:
            break
        if hot:
            ceiling -= result.loudness.true_peak - settings.true_peak + 0.5
        wanted += settings.loudness - result.loudness.integrated
        # solved afresh from the gain without dynamics (which only take loudness away): the answer may lie under the
        # last gain when the last encode came out loud, and a search that starts there could not go down
        gain, dynamics = _solve(program, level, wanted - levelled, wanted, ceiling, settings, True)
        plan = replace(plan, curve=_write_curve(times, gains(dynamics), program_seconds, curve))
    seconds = result.seconds
    if seconds < program_seconds - TRUNCATION_TOLERANCE:
        raise AudioError(
            info.path,
            f"is truncated: its header promises {info.duration:.1f} s but only {seconds - jingle_seconds:.1f} s of audio decode",
            "export or copy the recording again",
        )
    loudness = result.loudness
    if settings.normalize and (off or hot):
        raise AudioError(
            info.path,
            f"mastering missed the target after {encodes} passes: {loudness.integrated:.1f} LUFS, true peak {loudness.true_peak:.1f} dBTP",
            f"check [audio] loudness = {settings.loudness} and true_peak = {settings.true_peak}; a very dynamic recording may need a lower loudness",
        )
    compressor, limiter = _spread(dynamics.compressor), _spread(dynamics.limiter)
    report = LoudnessReport(
        input_i=round(measured.integrated, 2),
        input_peak=round(measured.sample_peak, 2),
        input_lra=round(measured.lra, 2),
        output_i=round(loudness.integrated, 2),
        output_tp=round(loudness.true_peak, 2),
        output_lra=round(loudness.lra, 2),
        gain=round(gain, 2),
        method=METHOD if settings.normalize else "encode only",
        passes=len(timings),
        compressor_max=round(compressor[0], 2),
        compressor_p99=round(compressor[1], 2),
        limiter_max=round(limiter[0], 2),
        limiter_p99=round(limiter[1], 2),
        timings=tuple(timings),
    )
    offset = (_wav_seconds(plan.jingles[0]) if plan.jingles[0] else 0.0) - plan.trim[0]
    decisions = _Decisions(gain=gain, ceiling=ceiling, compress=compress, trim=plan.trim, curve=plan.curve)
    return Mastered(path=out, key="", duration=seconds, report=report, offset=round(offset, 3)), decisions


@dataclass(frozen=True)
class _Encoded:
    loudness: Loudness  # of the decoded output
    seconds: float  # of audio written
    time: PassTime  # the encode's
    check: PassTime  # the decoded output's metering


def _encode(plan: _Plan, out: Path, progress: Progress | None, edit: Edit | None = None) -> _Encoded:
    """Pass 2: the program times its gain curve, encoded; then the encoded file decoded and metered (`verify`):
    what listeners will hear, not the encoder's input."""
    settings = plan.settings
    codec = [
        "-c:a",
        "libmp3lame",
        "-b:a",
        f"{settings.bitrate}k",
        "-id3v2_version",
        "0",
        "-write_id3v1",
        "0",
        "-f",
        "mp3",
    ]
    if settings.format == "m4a":
        codec = ["-c:a", "aac", "-b:a", f"{settings.bitrate}k", "-movflags", "+faststart", "-f", "ipod"]
    graph = plan.program("enc")
    inputs = plan.inputs()
    if edit is not None:  # after the gain curve: the rest of the program is sample for sample the main edition's
        graph = (
            graph[: graph.rindex("[enc]")]
            + f"[ed];{edit.graph('ed', 'enc', inputs.count('-i'), settings.sample_rate, plan.channels)}"
        )
        inputs += edit.inputs()
    args = [
        *inputs,
        "-filter_complex",
        graph,
        "-map",
        "[enc]",
        "-map_metadata",
        "-1",
        "-map_chapters",
        "-1",
        "-ar",
        str(settings.sample_rate),
        "-ac",
        str(plan.channels),
        *codec,
        "-y",
        file_arg(out),
    ]
    # An MP3 is metered as ffmpeg writes it, on the other core; an M4A is finished last (its index moves to the front)
    follower = _Follower(out, settings.sample_rate, plan.channels) if settings.format == "mp3" else None
    out.unlink(missing_ok=True)  # the follower must never read an earlier attempt's file
    try:
        run = run_ffmpeg(plan.source, args, float("inf"), progress, tick=follower)
        loudness = follower.finish() if follower else None
    finally:
        if follower:
            follower.close()
    started, cpu = time.perf_counter(), time.thread_time()
    if loudness is None:
        loudness = verify(out)
    wall, spent = time.perf_counter() - started, time.thread_time() - cpu
    if follower:
        wall, spent = wall + follower.wall, spent + follower.cpu
    check = PassTime("verify", round(wall, 2), round(spent, 2))
    return _Encoded(loudness=loudness, seconds=run.seconds, time=PassTime("encode", run.wall, run.cpu), check=check)


_FULL_SCALE = {1: 128.0, 2: 32768.0, 4: 2147483648.0}
_DTYPES = {"flt": np.float32, "dbl": np.float64, "s16": np.int16, "s32": np.int32, "u8": np.uint8}


def _samples(frame, channels: int) -> np.ndarray | tuple[np.ndarray, ...]:
    """A decoded frame's samples, read from its planes without a copy: a packed frame's interleaved samples as they
    are, a planar one's channels."""
    dtype = _DTYPES[frame.format.name.rstrip("p")]
    if frame.format.is_planar:
        return tuple(np.frombuffer(plane, dtype=dtype, count=frame.samples) for plane in frame.planes[:channels])
    return np.frombuffer(frame.planes[0], dtype=dtype, count=frame.samples * channels)


def _interleave(frames: list, channels: int) -> np.ndarray:
    """Frames' samples (`_samples`) as one float32 array (channels × samples, C-contiguous), integers scaled to full
    scale ±1. Interleaved samples are joined as they are, then sorted into channels by the conversion itself (two
    passes over them, where four were)."""
    if all(isinstance(frame, np.ndarray) for frame in frames):
        data = np.concatenate(frames).reshape(-1, channels).T
    else:
        planes = [tuple(f.reshape(-1, channels).T) if isinstance(f, np.ndarray) else f for f in frames]
        data = np.stack([np.concatenate(channel) for channel in zip(*planes)])
    if data.dtype == np.float32 and data.flags.c_contiguous:
        return data
    out = np.empty(data.shape, dtype=np.float32)
    if data.dtype.kind == "i":  # integer samples (a PCM file): each made float32, then scaled in float32
        scale = np.float32(1.0 / _FULL_SCALE[data.dtype.itemsize])
        return np.multiply(data, scale, out=out, dtype=np.float32, casting="unsafe")
    out[...] = data
    if data.dtype == np.uint8:
        out -= 128.0
        out /= 128.0
    return out


def _decoded(path: Path) -> tuple[int, int, Iterator[np.ndarray]]:
    """A file's sample rate, channels, and its samples decoded in this process (PyAV) a few seconds at a time
    (float32, channels × samples); AudioError if it does not decode."""
    import av

    try:
        # a WAV's packets of a quarter megabyte, not 4,096 samples: Python handles a frame every second or so, not every
        # 85 ms (0.3 CPU s an hour of 48 kHz 24-bit stereo); other formats know no such option and ignore it
        container = av.open(str(path), options={"max_size": str(WAV_PACKET)})
        stream = container.streams.audio[0]
    except (av.error.FFmpegError, IndexError) as err:
        raise AudioError(path, f"it does not decode: {err}", "export it again as WAV or FLAC") from err
    channels, rate = stream.codec_context.channels, stream.codec_context.sample_rate

    def chunks() -> Iterator[np.ndarray]:
        pending: list[np.ndarray] = []
        count = 0
        with container:
            try:
                for frame in container.decode(stream):
                    pending.append(_samples(frame, channels))
                    count += frame.samples
                    if count >= CHUNK_SECONDS * rate:  # numpy works on long arrays, Python once every few seconds
                        yield _interleave(pending, channels)
                        pending, count = [], 0
            except av.error.FFmpegError as err:
                raise AudioError(path, f"it does not decode: {err}", "export it again as WAV or FLAC") from err
            if count:
                yield _interleave(pending, channels)

    return rate, channels, chunks()


def verify(path: Path) -> Loudness:
    """Integrated loudness, true peak and loudness range of an encoded file as a player decodes it: decoded once in
    this process and metered (`loudness.Meter`), a few seconds at a time."""
    rate, channels, chunks = _decoded(path)
    meter = Meter(rate, channels)
    for chunk in chunks:
        meter.feed(chunk)
    return meter.result()


# What a player skips of an MP3 (the LAME tag in its first frame gives the encoder's part): LAME's encoder delay and the
# MP3 decoder's own (its synthesis filter bank's); at the end it drops the tag's padding less the decoder's delay.
ENCODER_DELAY, DECODER_DELAY = 576, 529
HELD_SAMPLES = 4 * 1152  # decoded samples kept from the meter until the tag says where the audio ends (≥ any padding)


class _Follower:
    """The meter of an MP3 that ffmpeg is writing (`verify`, beside the encode rather than after it): each time it is
    called, what is new in the file is read, decoded in this process (PyAV's MP3 decoder, the one a demuxed file gets)
    and metered; `finish` reads the rest and the Xing/LAME tag that ffmpeg writes into the first frame last. The
    figure is of the bytes published: every audio frame is read from the file itself, its first samples skipped and
    its last ones dropped as a player does (the tag's delay and padding), and the tag's counts of frames and bytes
    must be what was read; `finish` returns None where the file is not what this expects (then decode it whole)."""

    def __init__(self, path: Path, rate: int, channels: int) -> None:
        import av

        self.path = path
        self._meter = Meter(rate, channels)
        self._decoder = av.CodecContext.create("mp3float", "r")
        self._channels = channels
        self._chunk = CHUNK_SECONDS * rate
        self._file = None
        self._header = 0  # bytes of the first frame: the tag, rewritten at the end
        self._frames = 0  # audio frames decoded
        self._bytes = 0  # bytes of audio frames decoded
        # the decoded samples not yet metered, one buffer per channel: a frame's plane is appended in C (the buffer
        # protocol), where an array per frame and plane cost Python 10 µs a frame (138,000 frames an hour)
        self._pending = [bytearray() for _ in range(channels)]
        self._count = 0  # samples pending
        self._skip = ENCODER_DELAY + DECODER_DELAY
        self.failed = False
        self.wall = self.cpu = 0.0

    def __call__(self) -> None:
        """Read, decode and meter what ffmpeg has written since the last call."""
        import av

        started, cpu = time.perf_counter(), time.thread_time()
        try:
            if not self.failed:
                self._follow()
        except (OSError, ValueError, av.error.FFmpegError):
            self.failed = True  # the whole file is decoded once ffmpeg is done: it says what is wrong, if anything
        self.wall += time.perf_counter() - started
        self.cpu += time.thread_time() - cpu

    def _follow(self) -> None:
        if self._file is None:
            if not self.path.exists():  # ffmpeg has not opened its output yet
                return
            self._file = self.path.open("rb")
        data = self._file.read()
        if data:
            self._decode(self._decoder.parse(data))

    def _decode(self, packets: list) -> None:
        for packet in packets:
            if not self._header:  # the tag's frame (a placeholder until ffmpeg is done): no audio
                self._header = packet.size
                continue
            self._frames += 1
            self._bytes += packet.size
            for frame in self._decoder.decode(packet):
                self._add(frame)

    def _add(self, frame) -> None:
        count = frame.samples
        if frame.format.name != "fltp":  # the float decoder's planes, one per channel
            raise ValueError(f"the MP3 decoder gave {frame.format.name} samples")
        size = 4 * count  # a plane may be longer than its samples (padding)
        for pending, plane in zip(self._pending, frame.planes):
            pending += memoryview(plane)[:size]
        self._count += count
        if self._count >= self._chunk + self._skip + HELD_SAMPLES:
            self._feed(keep=HELD_SAMPLES)

    def _feed(self, keep: int) -> None:
        """Meter the pending samples but the last `keep` (after the first `_skip` of all)."""
        total = self._count
        start, end = min(self._skip, total), total - keep
        self._skip -= start
        if end > start:
            chunk = np.empty((self._channels, end - start), dtype=np.float32)
            for channel, pending in enumerate(self._pending):
                chunk[channel] = np.frombuffer(pending, dtype=np.float32, count=end, offset=0)[start:]
            self._meter.feed(chunk)
            start = end
        for pending in self._pending:
            del pending[: 4 * start]  # what was metered or skipped; the rest (a few frames) moves to the front
        self._count = total - start

    def finish(self) -> Loudness | None:
        """The meter's figure once ffmpeg has finished the file; None when it cannot be told this way."""
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return self._finish()
        finally:
            self.close()
            self.wall += time.perf_counter() - started
            self.cpu += time.thread_time() - cpu

    def _finish(self) -> Loudness | None:
        import av

        if self.failed:
            return None
        try:
            self._follow()  # the rest
            if self._file is None:
                return None
            self._decode(self._decoder.parse(None))
            for frame in self._decoder.decode(None):
                self._add(frame)
            with self.path.open("rb") as handle:
                tag = _lame_tag(handle.read(self._header))
            size = self.path.stat().st_size
        except (OSError, ValueError, av.error.FFmpegError):
            return None
        if tag is None or tag != (self._frames, size, ENCODER_DELAY, tag[3]) or size != self._header + self._bytes:
            return None
        trim = max(0, tag[3] - DECODER_DELAY)  # the end padding a player drops
        if trim > HELD_SAMPLES:
            return None
        self._feed(keep=trim)
        return self._meter.result()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _lame_tag(frame: bytes) -> tuple[int, int, int, int] | None:
    """A Xing/Info frame's count of frames, count of bytes, and its LAME tag's encoder delay and padding (samples);
    None when the frame holds no such tag."""
    for side in (32, 17, 9):  # the side information's length: MPEG-1 stereo, MPEG-1 mono or MPEG-2 stereo, MPEG-2 mono
        at = 4 + side
        if frame[at : at + 4] in (b"Xing", b"Info"):
            break
    else:
        return None
    flags = int.from_bytes(frame[at + 4 : at + 8], "big")
    if flags & 3 != 3:
        return None
    frames, size = int.from_bytes(frame[at + 8 : at + 12], "big"), int.from_bytes(frame[at + 12 : at + 16], "big")
    lame = at + 16 + (100 if flags & 4 else 0) + (4 if flags & 8 else 0)
    if len(frame) < lame + 24:
        return None
    delay_padding = int.from_bytes(frame[lame + 21 : lame + 24], "big")  # after the encoder's name and 12 bytes
    return frames, size, delay_padding >> 12, delay_padding & 0xFFF


# --- another edition of a mastered program (the clean edition) -------------------------------------------------------


@dataclass(frozen=True)
class Edition:
    """An edition encoded from the main master's decisions: what its decoded output measured, and its cost."""

    loudness: Loudness
    seconds: float
    time: PassTime


def decisions(mastered: Mastered) -> tuple[tuple[float, float | None], Path] | None:
    """The main master's decisions (trim, gain curve), or None when its record has none (mastered by an older
    panelpress, or its curve is gone)."""
    shelf = artefacts.Shelf(mastered.path.parent, mastered.path.suffix)
    try:
        data = (shelf.get(mastered.key) or {})["decisions"]
        curve = shelf.folder / f"{mastered.key}.curve.f32"
        if not data["curve"] or not curve.is_file():
            return None
        trim = (float(data["trim"][0]), None if data["trim"][1] is None else float(data["trim"][1]))
        return trim, curve
    except (OSError, ValueError, TypeError, KeyError, IndexError):
        return None


def forget(mastered: Mastered) -> None:
    """Drop a cached master's record, so the next `master` makes it again (with its decisions)."""
    artefacts.Shelf(mastered.path.parent, mastered.path.suffix).forget(mastered.key)


def encode_edition(
    info: AudioInfo,
    settings: AudioSettings,
    mastered: Mastered,
    windows: list[tuple[float, float]],
    bleep: bool,
    out: Path,
    work: Path,
    root: Path | None = None,
    progress: Progress | None = None,
) -> Edition:
    """Another edition of a mastered program: the same plan and gain curve as `mastered` (nothing analysed again: one
    encode), each window (program seconds) silenced or bleeped after the gain, and its decoded output metered. AudioError when the master's decisions are not known (`decisions`)."""
    found = decisions(mastered)
    if found is None:
        raise AudioError(
            info.path, "its mastering decisions are not in the cache", "build again: the episode is mastered again"
        )
    trim, curve = found
    channels = output_channels(info)
    sources = _jingle_sources(settings, root)
    jingles = tuple(
        _prepare_jingle(p, kind, settings, channels, work) if p else None
        for p, kind in zip(sources, ("intro", "outro"))
    )
    plan = _Plan(
        source=info.path,
        settings=settings,
        channels=channels,
        jingles=jingles,
        trim=trim,
        curve=curve,
        source_rate=info.sample_rate or settings.sample_rate,
        source_format=info.format,
    )
    mask, tone_mask = write_mask(work, windows, mastered.duration, bleep)
    edit = Edit(mask=mask, tone_mask=tone_mask, tone=tone_level(settings, channels))
    result = _encode(plan, out, progress, edit)
    spent = PassTime(
        "encode", round(result.time.wall + result.check.wall, 2), round(result.time.cpu + result.check.cpu, 2)
    )
    return Edition(loudness=result.loudness, seconds=result.seconds, time=spent)


def encode_opus(
    source: Path,
    out: Path,
    bitrate: int,
    channels: int,
    gain: float,
    ceiling: float,
    work: Path,
    progress: Progress | None = None,
) -> tuple[Loudness, float]:
    """An Opus edition of a mastered file (Ogg Opus, 48 kHz): gain and the mastering limiter (decoding the source
    overshoots its peaks), the encoder, and in the same ffmpeg run a loopback decoder metering what listeners hear.
    Returns that loudness and the seconds written. Bit-exact muxing: the same input gives the same bytes."""
    metering = work / "opus-verify.txt"
    args = [
        "-i",
        file_arg(source),
        "-map",
        "0:a",
        "-map_metadata",
        "-1",
        "-map_chapters",
        "-1",
        "-af",
        f"aformat=sample_fmts=dbl,volume={gain:.3f}dB,{LIMITER.format(linear=10 ** (ceiling / 20))}",
        "-ac",
        str(channels),
        "-ar",
        "48000",
        "-c:a",
        "libopus",
        "-b:a",
        f"{bitrate}k",
        "-vbr",
        "on",
        "-fflags",
        "+bitexact",
        "-flags:a",
        "+bitexact",
        "-f",
        "ogg",
        "-y",
        file_arg(out),
        "-dec",
        "0:0",
        "-filter_complex",
        f"[dec:0]{ebur128(metering, True)}[v]",
        "-map",
        "[v]",
        "-f",
        "null",
        "-",
    ]
    run = run_ffmpeg(source, args, float("inf"), progress)
    return read_metering(metering), run.seconds


def _wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as clip:
        return clip.getnframes() / clip.getframerate()
