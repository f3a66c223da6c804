"""Mastering: a recording → the show's audio file in the cache, streamed through ffmpeg: analysed once, levelled,
encoded once and its decoded output verified; and other editions (clean, Opus) encoded from its decisions."""

from __future__ import annotations

import array
import hashlib
import itertools
import json
import math
import re
import wave
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .. import artefacts
from ..config import AudioSettings
from ..errors import AudioError
from ..files import file_sha256
from ..progress import Progress, Task
from ..records import AudioInfo, LoudnessReport, Mastered, PassTime
from . import cleanup
from .edit import Edit, tone_level, write_mask
from .ffmpeg import FfmpegRun, configure_pydub, ffmpeg_version, file_arg, run_ffmpeg
from .loudness import SILENT, Loudness, ebur128, integrated, loudness_range, power, read_blocks, read_metering

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
        "method": METHOD,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def output_channels(info: AudioInfo) -> int:
    """Mono stays mono; everything else becomes stereo."""
    return 1 if info.channels == 1 else 2


# --- loudness -------------------------------------------------------------------------------------------------------

METHOD = "level-compress-limit-v3"
# Decoding what an encoder wrote reads this much quieter (LU) than what went in (measured on speech and shaped noise, 128 kbps).
ENCODER_LOSS = {"mp3": 0.42, "m4a": 0.1}
# The limiter works on sample peaks; MP3 decoding overshoots them by up to ~1.6 dB (measured).
TRUE_PEAK_MARGIN = 2.0
# Peaks this far under the limiter's ceiling after levelling and gain leave compressor and limiter idle (resampling moves
# sample peaks a little), so the gain alone lands on target and the simulation is skipped.
IDLE_LIMITER_MARGIN = 1.0
# A secant step this close (dB) to a simulated gain is trusted; a longer one is simulated too, up to this many times.
TRUSTED_STEP, MAX_SIMULATIONS = 3.0, 4
LIMITER = "alimiter=limit={linear:.5f}:attack=5:release=50:level=0:latency=1"  # no make-up gain; output not delayed
# A gentle speech compressor before the limiter, so that the limiter is only a safety net: 2.5:1 with a wide (6 dB) knee
# above a threshold this far (dB) above the loudness target, on peaks, released over 120 ms (syllables, not words).
# Measured against a slower RMS compressor (10 ms attack) on a 10-minute realistic panel, the limiter's 99th-percentile
# gain reduction fell from 3.1 to 2.0 dB with a 3 ms attack and to 1.1 dB with 1 ms; on the example show's recording
# (20 dB from loudness to peak) from 3.8 dB (3 ms) to 2.8 dB (1 ms).
COMPRESS_ABOVE = 6.0
COMPRESSOR = "acompressor=threshold={threshold:.2f}dB:ratio=2.5:attack=1:release=120:knee=6:detection=peak:link=maximum"
# Levelling, from the measure pass's momentary loudness (400 ms blocks, every 100 ms): the speech level around each block
# (±0.7 s, a turn rather than a syllable) is pulled towards the program's; blocks this far (LU) under the program's
# loudness are pauses and are never boosted (the gain glides across them); the gain curve is smoothed (σ 0.3 s).
BLOCK, SPEECH_GATE, LEVEL_WINDOW, LEVEL_SMOOTH, MAX_LEVEL_GAIN = 0.1, -18.0, 7, 3, 12.0
CURVE_RATE = 10  # Hz: the gain curve is written at the blocks' rate and upsampled by ffmpeg (smoothly) to the audio's
PROBE = 0.001  # a constant channel (-60 dBFS) through compressor and limiter: what comes out is their gain
GAIN_RATE = 100  # Hz: gain reduction is read every 10 ms
TOLERANCE = 0.3  # LU
MAX_ENCODES = 3
# silencedetect: what counts as silence to trim, and how much of it to keep at each end.
TRIM_NOISE_DB, TRIM_MIN_SECONDS, TRIM_KEEP_SECONDS = -50, 1.0, 0.3
JINGLE_FADE_MS = {"intro": (0, 1500), "outro": (1000, 2500)}  # (fade in, fade out)

_NUM = r"([-+]?(?:\d+(?:\.\d*)?|inf|nan))"

_TRUE_PEAK = re.compile(r"^\[astats@truepeak[^\]]*\] Peak level dB: (\S+)$", re.M)
# Compressor and limiter are simulated on 10 s of every 40 s of a long program: a fair sample of its peaks, a quarter
# of the work. (5 s of every 40 s landed a 60-minute panel 0.2 LU off.)
SAMPLE_OVER_SECONDS, SAMPLE_EVERY, SAMPLE_TAKE = 600, 40, 10
_SILENCE = re.compile(r"silence_(start|end): " + _NUM)


@dataclass(frozen=True)
class _Plan:
    """What the mastering graph does to one recording, in the order it does it."""

    source: Path
    settings: AudioSettings
    channels: int
    jingles: tuple[Path | None, Path | None] = (None, None)
    trim: tuple[float, float | None] = (0.0, None)
    curve: Path | None = None  # the levelling gain, CURVE_RATE values a second on the trimmed recording's timeline
    source_rate: int = 44100  # the recording's: measuring and simulating need no resampling

    def speech(self, label: str, resample: bool, sample: str = "") -> str:
        """Filter graph text turning the recording into the speech (trimmed, filtered, levelled), ending in [label];
        `sample` (filters) keeps only part of it, before the levelling's work."""
        rate = self.settings.sample_rate if resample else self.source_rate
        layout = "mono" if self.channels == 1 else "stereo"
        steps = []
        start, end = self.trim
        if start or end is not None:
            steps.append(
                f"atrim=start={start:.3f}" + (f":end={end:.3f}" if end is not None else "") + ",asetpts=PTS-STARTPTS"
            )
        if self.settings.highpass:
            steps.append(f"highpass=f={self.settings.highpass}")
        steps += cleanup.chain(self.settings)  # [audio] denoise, dehum, deess: on the voice, before any gain
        # dbl before any gain stage: volume on integer samples would clip before the limiter sees them.
        steps.append(f"aformat=sample_fmts=dbl:sample_rates={rate}:channel_layouts={layout}{sample}")
        if self.curve is None:
            return f"[0:a]{','.join(steps)}[{label}]"
        spread = "pan=mono|c0=c0" if self.channels == 1 else "pan=stereo|c0=c0|c1=c0"  # not aformat: its upmix is -3 dB
        index = 1 + sum(j is not None for j in self.jingles)
        return (
            f"[0:a]{','.join(steps)}[{label}s];[{index}:a]aresample={rate}:filter_size=16,aformat=sample_fmts=dbl{sample},{spread}[{label}c];"
            f"[{label}s][{label}c]amultiply[{label}]"
        )

    def program(self, label: str, resample: bool = True, sample: str = "") -> str:
        """Filter graph text turning the inputs into the program (before gain), ending in [label].

        Simulating needs no resampling (loudness does not depend on the rate) unless jingles must be joined."""
        resample = resample or any(self.jingles)
        parts = [self.speech("speech", resample, sample)]
        fmt = f"aformat=sample_fmts=dbl:sample_rates={self.settings.sample_rate}:channel_layouts={'mono' if self.channels == 1 else 'stereo'}"
        pieces, index = [], 1
        for name, jingle in zip(("j0", "j1"), self.jingles):
            if jingle is not None:
                parts.append(f"[{index}:a]{fmt}[{name}]")
                index += 1
        pieces = (["[j0]"] if self.jingles[0] else []) + ["[speech]"] + (["[j1]"] if self.jingles[1] else [])
        if len(pieces) == 1:
            parts.append(f"[speech]anull[{label}]")
        else:
            parts.append(f"{''.join(pieces)}concat=n={len(pieces)}:v=0:a=1[{label}]")
        return ";".join(parts)

    def inputs(self) -> list[str]:
        """ffmpeg's input arguments: the recording, the prepared jingles, the levelling curve."""
        args = ["-i", file_arg(self.source)]
        for jingle in self.jingles:
            if jingle is not None:
                args += ["-i", file_arg(jingle)]
        if self.curve is not None:
            args += ["-f", "f32le", "-ar", str(CURVE_RATE), "-ac", "1", "-i", file_arg(self.curve)]
        return args

    def chain(self, gain: float, ceiling: float, compress: bool) -> str:
        """Gain, the compressor (when the program needs it) and a peak limiter: identical in simulation and encode."""
        steps = [f"volume={gain:.3f}dB"]
        if compress:
            steps.append(COMPRESSOR.format(threshold=self.settings.loudness + COMPRESS_ABOVE))
        return ",".join([*steps, LIMITER.format(linear=10 ** (ceiling / 20))])


@dataclass(frozen=True)
class _Levelling:
    """The levelling gain (dB) at each measured block of the recording, and what it makes of the program."""

    gain: tuple[float, ...]
    integrated: float  # LUFS of the whole program (jingles too) after levelling, before the static gain
    lra: float  # of the recording after levelling (LU)


def _level(
    momentary: list[float],
    short: list[float],
    jingles: list[float],
    keep: tuple[float, float | None],
    settings: AudioSettings,
) -> _Levelling:
    """Find the levelling curve: none when the recording's loudness range is within the show's, else as gentle a one
    as brings it there (all the way with level_voices)."""
    first, last = round(keep[0] / BLOCK), len(momentary) if keep[1] is None else round(keep[1] / BLOCK) + 1
    kept = momentary[first:last]
    program = integrated(kept + jingles)
    target = settings.lra
    shape = (
        _level_shape(momentary, integrated(kept))
        if settings.normalize or settings.level_voices
        else [0.0] * len(momentary)
    )

    def curve(strength: float) -> list[float]:
        return [max(-MAX_LEVEL_GAIN, min(MAX_LEVEL_GAIN, -strength * d)) for d in shape]

    def lra(gain: list[float]) -> float:
        return loudness_range(_shift_short(momentary, short, gain)[first:last])

    strength = 0.0
    if settings.level_voices:
        strength = 1.0
    elif settings.normalize and loudness_range(short[first:last]) > target:
        low, high = 0.0, 1.0
        if lra(curve(high)) > target:
            low = high
        for _ in range(12):  # bisect: the gentlest levelling that brings the range within the target
            if high - low < 0.01:
                break
            middle = (low + high) / 2
            low, high = (middle, high) if lra(curve(middle)) > target else (low, middle)
        strength = high
    gain = curve(strength)
    levelled = [m + g for m, g in zip(kept, gain[first:last])]
    return _Levelling(
        gain=tuple(gain), integrated=integrated(levelled + jingles) if strength else program, lra=lra(gain)
    )


def _level_shape(momentary: list[float], reference: float) -> list[float]:
    """How far (dB) the speech around each block is from `reference`: smoothed, and carried across pauses."""
    active = [m > reference + SPEECH_GATE for m in momentary]
    energy = [0.0, *itertools.accumulate(power(m) if a else 0.0 for m, a in zip(momentary, active))]
    count = [0, *itertools.accumulate(active)]
    n = len(momentary)
    known: list[tuple[int, float]] = []
    for k in range(n):
        a, b = max(0, k - LEVEL_WINDOW), min(n, k + LEVEL_WINDOW + 1)
        if active[k] and count[b] - count[a] >= 3:
            known.append((k, 10 * math.log10((energy[b] - energy[a]) / (count[b] - count[a])) - reference))
    if not known:
        return [0.0] * n
    shape = [0.0] * n
    for (a, da), (b, db) in itertools.pairwise(
        known
    ):  # across a pause the gain glides from one speaker's to the next's
        for k in range(a, b):
            shape[k] = da + (db - da) * (k - a) / (b - a)
    shape[: known[0][0]] = [known[0][1]] * known[0][0]
    shape[known[-1][0] :] = [known[-1][1]] * (n - known[-1][0])
    return _smooth(shape, LEVEL_SMOOTH)


def _smooth(values: list[float], sigma: int) -> list[float]:
    """Gaussian smoothing (edges held)."""
    weights = [math.exp(-0.5 * (i / sigma) ** 2) for i in range(-3 * sigma, 3 * sigma + 1)]
    total = sum(weights)
    padded = [values[0]] * 3 * sigma + values + [values[-1]] * 3 * sigma
    return [sum(w * v for w, v in zip(weights, padded[k : k + len(weights)])) / total for k in range(len(values))]


def _shift_short(momentary: list[float], short: list[float], gain: list[float]) -> list[float]:
    """Short-term loudness after a slow gain: each 3 s window moves by its blocks' gain, weighted by their energy."""
    energy = [power(m) if m > -70 else 0.0 for m in momentary]
    weighted = [0.0, *itertools.accumulate(e * 10 ** (g / 10) for e, g in zip(energy, gain))]
    plain = [0.0, *itertools.accumulate(energy)]
    shifted = []
    for k, s in enumerate(short):
        a = max(0, k - 26)  # the 3 s window ending at block k spans the momentary blocks k-26 … k
        total = plain[k + 1] - plain[a]
        shifted.append(s + 10 * math.log10((weighted[k + 1] - weighted[a]) / total) if total > 0 else s)
    return shifted


def _write_curve(levelling: _Levelling, trim: tuple[float, float | None], seconds: float, path: Path) -> Path:
    """The levelling gain on the trimmed recording's timeline, as linear factors CURVE_RATE times a second (f32)."""
    gain = levelling.gain
    values = array.array("f")
    for n in range(
        int(seconds * CURVE_RATE) + 2 * CURVE_RATE
    ):  # a little longer than the speech: amultiply stops at the shorter
        # ebur128's block k ends at (k + 1) * BLOCK; its 400 ms window is centred 0.1 s before the block's start.
        at = (n / CURVE_RATE + trim[0]) / BLOCK + 1
        k = min(len(gain) - 1, max(0, int(at)))
        later = gain[min(len(gain) - 1, k + 1)]
        value = gain[k] + (later - gain[k]) * min(1.0, max(0.0, at - k))
        values.append(10 ** (value / 20))
    with path.open("wb") as handle:
        values.tofile(handle)
    return path


def _silences(log: str, duration: float) -> list[tuple[float, float]]:
    """Silent stretches found by silencedetect, as (start, end) pairs."""
    spans, start = [], None
    for kind, value in _SILENCE.findall(log):
        if kind == "start":
            start = float(value)
        elif start is not None:
            spans.append((start, float(value)))
            start = None
    if start is not None:  # silence running to the end of the file
        spans.append((start, duration))
    return spans


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
    source_sha: str = "",
    fresh: bool = False,
) -> Mastered:
    """Master one recording into the cache (or reuse the cached result); raise AudioError on failure.
    `source_sha`: the recording's checksum, when the caller has it already. `fresh`: master it again, even when cached."""
    if info.duration < MIN_DURATION:
        raise AudioError(
            info.path, f"is only {info.duration:.1f} s long", f"a recording must be at least {MIN_DURATION:.0f} s"
        )
    channels = output_channels(info)
    sources = _jingle_sources(settings, root)
    key = cache_key(
        source_sha or file_sha256(info.path), settings, channels, tuple(file_sha256(p) if p else "" for p in sources)
    )
    shelf = _shelf(cache_dir, settings.format)
    cached = None if fresh else from_record(shelf, key, shelf.get(key))
    if cached is not None:
        return cached
    with shelf.make(key) as job:
        jingles = tuple(
            _prepare_jingle(p, kind, settings, channels, job.work) if p else None
            for p, kind in zip(sources, ("intro", "outro"))
        )
        plan = _Plan(
            source=info.path,
            settings=settings,
            channels=channels,
            jingles=jingles,
            source_rate=info.sample_rate or settings.sample_rate,
        )
        mastered, decisions = _master(info, plan, job.partial, job.work, task or (lambda name, total: None))
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
    curve: Path | None  # the levelling curve file (None: no levelling)


def _master(info: AudioInfo, plan: _Plan, out: Path, work: Path, task: Task) -> tuple[Mastered, _Decisions]:
    """Measure, level, simulate compressor and limiter, encode with an in-process check of the decoded output;
    correct if needed."""
    settings = plan.settings
    timings: list[PassTime] = []
    first = _measure(info, plan, work, task("measure", info.duration))
    timings.append(first.time)
    if first.loudness.integrated <= SILENT:
        raise AudioError(
            info.path, "is silent (no loudness to measure)", "check that the right microphone track was exported"
        )
    plan = replace(plan, trim=first.trim) if settings.trim_silence else plan
    jingle_seconds = sum(_wav_seconds(j) for j in plan.jingles if j is not None)
    speech_seconds = (plan.trim[1] or info.duration) - plan.trim[0]
    program_seconds = speech_seconds + jingle_seconds
    levelling = _level(first.momentary, first.short, first.jingles, plan.trim, settings)
    if any(levelling.gain):
        plan = replace(plan, curve=_write_curve(levelling, plan.trim, speech_seconds, work / "curve.f32"))
    ceiling = settings.true_peak - TRUE_PEAK_MARGIN
    compress = False
    if settings.normalize:
        wanted = settings.loudness + ENCODER_LOSS[settings.format]
        gain = wanted - levelling.integrated
        # The loudest peak, wherever it is, given the most the levelling adds: under the limiter, nothing needs taming.
        if first.peak + max(levelling.gain, default=0.0) + gain > ceiling - IDLE_LIMITER_MARGIN:
            compress = True
            gain, runs = _simulated_gain(plan, levelling.integrated, wanted, ceiling, work, program_seconds, task)
            timings += runs
    else:
        gain, ceiling = 0.0, 0.0  # no loudness target: only keep the encoder from clipping
    encodes = 0
    while True:
        encodes += 1
        name = "encode" if encodes == 1 else f"correct {encodes - 1}"
        result = _encode(plan, gain, ceiling, compress, out, work, task(name, program_seconds))
        timings.append(replace(result.time, name=name))
        off = abs(result.loudness.integrated - settings.loudness) > TOLERANCE
        hot = result.loudness.true_peak > settings.true_peak
        if not settings.normalize or not (off or hot) or encodes == MAX_ENCODES:
            break
        if hot:
            ceiling -= result.loudness.true_peak - settings.true_peak + 0.5
        gain += settings.loudness - result.loudness.integrated
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
    report = LoudnessReport(
        input_i=round(first.loudness.integrated, 2),
        input_peak=round(first.loudness.sample_peak, 2),
        input_lra=round(first.loudness.lra, 2),
        output_i=round(loudness.integrated, 2),
        output_tp=round(loudness.true_peak, 2),
        output_lra=round(loudness.lra, 2),
        gain=round(gain, 2),
        method=METHOD if settings.normalize else "encode only",
        passes=len(timings),
        compressor_max=round(result.compressor[0], 2),
        compressor_p99=round(result.compressor[1], 2),
        limiter_max=round(result.limiter[0], 2),
        limiter_p99=round(result.limiter[1], 2),
        timings=tuple(timings),
    )
    offset = (_wav_seconds(plan.jingles[0]) if plan.jingles[0] else 0.0) - plan.trim[0]
    decisions = _Decisions(gain=gain, ceiling=ceiling, compress=compress, trim=plan.trim, curve=plan.curve)
    return Mastered(path=out, key="", duration=seconds, report=report, offset=round(offset, 3)), decisions


@dataclass(frozen=True)
class _FirstLook:
    loudness: Loudness  # of the whole program
    peak: float  # the highest sample peak (dBFS) of recording and jingles
    momentary: list[float]  # the recording's momentary loudness every 100 ms
    short: list[float]  # and its short-term loudness
    jingles: list[float]  # the jingles' momentary loudness blocks
    trim: tuple[float, float | None]
    time: PassTime


def _measure(info: AudioInfo, plan: _Plan, work: Path, progress: Progress | None) -> _FirstLook:
    """Pass 1: the recording's loudness every 100 ms (and the jingles'), sample peaks, and its silences (to trim)."""
    files = [work / "measure.txt", work / "intro.txt", work / "outro.txt"]
    graph = [f"{plan.speech('speech', resample=False)};[speech]{ebur128(files[0], False)}[m0]"]
    maps = ["-map", "[m0]"]
    index = 1
    for n, jingle in enumerate(plan.jingles, start=1):
        if jingle is not None:
            graph.append(f"[{index}:a]aformat=sample_fmts=dbl,{ebur128(files[n], False)}[m{n}]")
            maps += ["-map", f"[m{n}]"]
            index += 1
    if plan.settings.trim_silence:
        graph.append(f"[0:a]silencedetect=noise={TRIM_NOISE_DB}dB:duration={TRIM_MIN_SECONDS}[r]")
        maps += ["-map", "[r]"]
    run = run_ffmpeg(
        info.path,
        [*plan.inputs(), "-filter_complex", ";".join(graph), *maps, "-f", "null", "-"],
        info.duration,
        progress,
    )
    momentary, short = read_blocks(files[0])
    jingles = [
        block
        for n, jingle in enumerate(plan.jingles, start=1)
        if jingle is not None
        for block in read_blocks(files[n])[0]
    ]
    speech = read_metering(files[0])
    peaks = [speech.sample_peak] + [
        read_metering(files[n]).sample_peak for n, jingle in enumerate(plan.jingles, start=1) if jingle is not None
    ]
    whole = replace(speech, integrated=integrated(momentary + jingles)) if jingles else speech
    return _FirstLook(
        loudness=whole,
        peak=max(peaks),
        momentary=momentary,
        short=short,
        jingles=jingles,
        trim=_trim_range(_silences(run.log, info.duration), info.duration),
        time=PassTime("measure", run.wall, run.cpu),
    )


def _simulated_gain(
    plan: _Plan, measured: float, wanted: float, ceiling: float, work: Path, seconds: float, task: Task
) -> tuple[float, list[PassTime]]:
    """Pass 2: run compressor and limiter at two gains (no encoding) and solve for the gain whose output lands on
    `wanted`; return it and the simulation passes' times.

    Compression and limiting take loudness away as gain rises. The loss is measured at two gains against the same
    audio untouched, on a fair sample of a long program; a secant step then finds the gain for the whole program.
    A step that lands far from the gains tried (loud transients over quiet speech bend the curve) is tried too."""
    guess = wanted - measured + 2.0  # prior: compressing and limiting speech usually cost one to three LU
    gains = (guess - 1.5, guess + 1.5)
    outputs: dict[float, float] = {}
    times = []
    for run in range(1, MAX_SIMULATIONS + 1):
        name = "level" if run == 1 else f"level {run}"
        found, time = _simulate(plan, measured, gains, ceiling, work, seconds, task(name, seconds))
        outputs.update(found)
        times.append(PassTime(name, time.wall, time.cpu))
        gain = _solve(outputs, wanted)
        if min(abs(gain - tried) for tried in outputs) <= TRUSTED_STEP:
            break
        gains = (gain - 1.0, gain + 1.0)
    return gain, times


def _simulate(
    plan: _Plan,
    measured: float,
    gains: tuple[float, float],
    ceiling: float,
    work: Path,
    seconds: float,
    progress: Progress,
) -> tuple[dict[float, float], FfmpegRun]:
    """The program's loudness after gain, compressor and limiter, for each of `gains` (one ffmpeg run, no encoding)."""
    sample = (
        f",aselect='lt(mod(t\\,{SAMPLE_EVERY})\\,{SAMPLE_TAKE})',asetpts=N/SR/TB"
        if seconds > SAMPLE_OVER_SECONDS
        else ""
    )
    files = [work / f"simulate{i}.txt" for i in range(3)]
    graph = f"{plan.program('prog', resample=False, sample=sample)};[prog]asplit=3[p0][p1][p2]"
    args = [*plan.inputs(), "-filter_complex", graph]
    for i, chain in enumerate(
        [plan.chain(gain, ceiling, compress=True) for gain in gains] + ["anull"]
    ):  # a graph each: a thread each
        args += ["-filter_complex", f"[p{i}]{chain},{ebur128(files[i], False)}[s{i}]"]
    args += ["-map", "[s0]", "-map", "[s1]", "-map", "[s2]", "-f", "null", "-"]
    run = run_ffmpeg(plan.source, args, float("inf"), progress)
    untouched = read_metering(files[2]).integrated
    # What compressor and limiter took from the sample, taken from the whole program's levelled loudness.
    return {
        gain: measured + gain + (read_metering(file).integrated - untouched - gain) for gain, file in zip(gains, files)
    }, run


def _solve(outputs: dict[float, float], wanted: float) -> float:
    """The gain whose output is `wanted`: interpolated between simulated gains around it, else a secant step
    from the nearest two (louder output always needs more gain)."""
    points = sorted(outputs.items())
    for (g0, o0), (g1, o1) in itertools.pairwise(points):
        if o0 <= wanted <= o1 and o1 > o0:
            return g0 + (wanted - o0) * (g1 - g0) / (o1 - o0)
    (g0, o0), (g1, o1) = points[:2] if wanted < points[0][1] else points[-2:]
    slope = min(1.0, max(0.2, (o1 - o0) / (g1 - g0)))  # 1: no limiting at all
    base, out = (g0, o0) if wanted < points[0][1] else (g1, o1)
    return max(-40.0, min(40.0, base + (wanted - out) / slope))


@dataclass(frozen=True)
class _Encoded:
    loudness: Loudness  # of the decoded output
    seconds: float  # of audio written
    compressor: tuple[float, float]  # gain reduction (dB): maximum and 99th percentile
    limiter: tuple[float, float]
    time: PassTime


def _encode(
    plan: _Plan,
    gain: float,
    ceiling: float,
    compress: bool,
    out: Path,
    work: Path,
    progress: Progress | None,
    edit: Edit | None = None,
) -> _Encoded:
    """Pass 3: encode, and decode the encoded packets again in the same ffmpeg (a loopback decoder) to measure
    what listeners will hear: the decoded file, not the filter's input. A constant probe channel rides through
    compressor and limiter: what comes out of it is their gain reduction, written every 10 ms."""
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
    metering, gains = work / "verify.txt", work / "gains.f32"
    n = plan.channels
    own = "pan=mono|c0=c0" if n == 1 else "pan=stereo|c0=c0|c1=c1"
    steps = plan.chain(gain, ceiling, compress).split(",")  # volume, [compressor,] limiter
    probe = f"pan=mono|c0=c{n},aresample={GAIN_RATE},aformat=sample_fmts=flt:channel_layouts=mono"
    graph = (
        f"{plan.program('prog')};[prog]{steps[0]},asplit[a][b];[b]pan=mono|c0=0*c0,dcshift={PROBE},aformat=channel_layouts=mono[p];"
        f"[a][p]amerge=inputs=2{''.join(',' + step for step in steps[1:-1])},asplit[c][d];[d]{probe}[dp];"
        f"[c]{steps[-1]},asplit[e][f];[f]{probe}[fp];[e]{own}[enc];[dp][fp]amerge=inputs=2[gr]"
    )
    inputs = plan.inputs()
    if edit is not None:  # after the limiter: the rest of the program is sample for sample the main edition's
        graph = graph.replace(
            f"[e]{own}[enc]", f"[e]{own}[ed];{edit.graph('ed', 'enc', inputs.count('-i'), settings.sample_rate, n)}"
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
        str(n),
        *codec,
        "-y",
        file_arg(out),
        "-map",
        "[gr]",
        "-f",
        "f32le",
        "-y",
        file_arg(gains),
        "-dec",
        "0:0",
        "-filter_complex",
        f"[dec:0]asplit[v0][v1];[v0]{ebur128(metering, False)}[v];"
        f"[v1]aresample={4 * settings.sample_rate}:filter_size=16,astats@truepeak=measure_perchannel=none:measure_overall=Peak_level,anullsink",
        "-map",
        "[v]",
        "-f",
        "null",
        "-",
    ]
    run = run_ffmpeg(plan.source, args, float("inf"), progress)
    # True peak: the decoded output oversampled four times (ITU-R BS.1770-4 Annex 2), as ebur128 does at more cost.
    found = _TRUE_PEAK.findall(run.log)
    loudness = replace(read_metering(metering), true_peak=float(found[-1]) if found else float("inf"))
    compressor, limiter = _gain_reduction(gains)
    return _Encoded(
        loudness=loudness,
        seconds=run.seconds,
        compressor=compressor,
        limiter=limiter,
        time=PassTime("encode", run.wall, run.cpu),
    )


def _gain_reduction(path: Path) -> tuple[tuple[float, float], tuple[float, float]]:
    """Maximum and 99th-percentile gain reduction (dB) of compressor and limiter, from the probe's two channels."""
    values = array.array("f")
    with path.open("rb") as handle:
        values.frombytes(handle.read())
    compressor, limiter = _Spread(), _Spread()
    edge = GAIN_RATE // 2  # the resampler's first and last half second ramp from and to silence
    for after_compressor, after_limiter in itertools.islice(
        zip(values[0::2], values[1::2]), edge, max(edge, len(values) // 2 - edge)
    ):
        if after_compressor > 0 and after_limiter > 0:
            compressor.add(20 * math.log10(PROBE / after_compressor))
            limiter.add(20 * math.log10(after_compressor / after_limiter))
    return compressor.extremes(), limiter.extremes()


class _Spread:
    """A histogram of gain reductions in 0.01 dB steps: its maximum and 99th percentile, in bounded memory."""

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.total = 0

    def add(self, decibels: float) -> None:
        step = max(0, round(decibels * 100))
        self.counts[step] = self.counts.get(step, 0) + 1
        self.total += 1

    def extremes(self) -> tuple[float, float]:
        if not self.total:
            return 0.0, 0.0
        seen, wanted = 0, 0.99 * self.total
        for step in sorted(self.counts):
            seen += self.counts[step]
            if seen >= wanted:
                return max(self.counts) / 100, step / 100
        return max(self.counts) / 100, max(self.counts) / 100


# --- another edition of a mastered program (the clean edition) -------------------------------------------------------


@dataclass(frozen=True)
class Edition:
    """An edition encoded from the main master's decisions: what its decoded output measured, and its cost."""

    loudness: Loudness
    seconds: float
    time: PassTime


def decisions(mastered: Mastered) -> tuple[float, float, bool, tuple[float, float | None], Path | None] | None:
    """The main master's decisions (gain, ceiling, compress, trim, levelling curve), or None when its record has none
    (mastered by an older panelpress, or its curve is gone)."""
    shelf = artefacts.Shelf(mastered.path.parent, mastered.path.suffix)
    try:
        data = (shelf.get(mastered.key) or {})["decisions"]
        curve = shelf.folder / f"{mastered.key}.curve.f32" if data["curve"] else None
        if curve is not None and not curve.is_file():
            return None
        trim = (float(data["trim"][0]), None if data["trim"][1] is None else float(data["trim"][1]))
        return float(data["gain"]), float(data["ceiling"]), bool(data["compress"]), trim, curve
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
    """Another edition of a mastered program: the same plan, gain and chain as `mastered` (nothing measured or
    simulated again: one encode), each window (program seconds) silenced or bleeped after the limiter, and its decoded
    output metered in the same run. AudioError when the master's decisions are not known (`decisions`)."""
    found = decisions(mastered)
    if found is None:
        raise AudioError(
            info.path, "its mastering decisions are not in the cache", "build again: the episode is mastered again"
        )
    gain, ceiling, compress, trim, curve = found
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
    )
    mask, tone_mask = write_mask(work, windows, mastered.duration, bleep)
    edit = Edit(mask=mask, tone_mask=tone_mask, tone=tone_level(settings, channels))
    result = _encode(plan, gain, ceiling, compress, out, work, progress, edit)
    return Edition(loudness=result.loudness, seconds=result.seconds, time=result.time)


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
