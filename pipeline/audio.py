"""Master: a recording → the show's audio file in the cache, streamed through ffmpeg."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import threading
import warnings
import wave
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from . import cleanup
from .config import AudioSettings
from .errors import AudioError
from .files import file_sha256
from .records import AudioInfo, LoudnessReport, Mastered

Progress = Callable[[float], None]  # called with seconds of audio done

# A recording whose decoded length falls this far short of what its header says is truncated.
TRUNCATION_TOLERANCE = 1.0
MIN_DURATION = 1.0

MIME = {"mp3": "audio/mpeg", "m4a": "audio/mp4"}


# The encode pass decodes its own output in-process (`-dec`, a loopback decoder): ffmpeg 7.1 or newer.
MIN_FFMPEG = (7, 1)


@functools.cache
def ffmpeg() -> str:
    """The ffmpeg binary: the one on PATH if it is new enough, else the one shipped in the imageio-ffmpeg wheel."""
    found = shutil.which("ffmpeg")
    if found and _version(found) >= MIN_FFMPEG:
        return found
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _version(binary: str) -> tuple[int, int]:
    """(major, minor) of an ffmpeg binary; (0, 0) when it cannot be told (a git build, a broken binary)."""
    try:
        out = subprocess.run([binary, "-hide_banner", "-version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return (0, 0)
    match = re.match(r"ffmpeg version n?(\d+)\.(\d+)", out)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


@functools.cache
def ffmpeg_version() -> str:
    """ffmpeg's own version line (part of every cache key)."""
    out = subprocess.run([ffmpeg(), "-hide_banner", "-version"], capture_output=True, text=True, check=False)
    return out.stdout.splitlines()[0] if out.stdout else "unknown"


def configure_pydub() -> None:
    """Point pydub at the same ffmpeg binary panelpress uses."""
    with warnings.catch_warnings():  # pydub warns on import when ffmpeg is not on PATH; we tell it where it is
        warnings.simplefilter("ignore")
        from pydub import AudioSegment

    AudioSegment.converter = ffmpeg()


def cache_key(recording_sha: str, settings: AudioSettings, channels: int, jingles: tuple[str, ...] = ()) -> str:
    """Key of a mastered file: the recording's content and every setting that changes the sound."""
    sound = {k: v for k, v in asdict(settings).items() if k not in ("intro", "outro")}  # their content counts, not their names
    parts = {"recording": recording_sha, "settings": sound, "jingles": jingles, "channels": channels, "ffmpeg": ffmpeg_version(), "method": METHOD}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def output_channels(info: AudioInfo) -> int:
    """Mono stays mono; everything else becomes stereo."""
    return 1 if info.channels == 1 else 2


# --- loudness -------------------------------------------------------------------------------------------------------

METHOD = "ebur128-sim-limit-v1"
# Decoding what an encoder wrote reads this much quieter (LU) than what went in (measured on speech, 128 kbps).
ENCODER_LOSS = {"mp3": 0.45, "m4a": 0.1}
# The limiter works on sample peaks; MP3 decoding overshoots them by up to ~1.6 dB (measured).
TRUE_PEAK_MARGIN = 2.0
# Peaks this far under the limiter's ceiling after the gain leave it idle (resampling moves sample peaks a little),
# so the gain alone lands on target and the limiter simulation is skipped.
IDLE_LIMITER_MARGIN = 1.0
# A secant step this close (dB) to a simulated gain is trusted; a longer one is simulated too, up to this many times.
TRUSTED_STEP, MAX_SIMULATIONS = 3.0, 4
LIMITER = "alimiter=limit={linear:.5f}:attack=5:release=50:level=0"  # level=0: no make-up gain
LEVEL_VOICES = "dynaudnorm=f=250:g=11:p=0.95:m=20"  # 250 ms frames, ~2.75 s window: follows turns, not syllables
SILENT = -69.9  # ebur128 reports -70 LUFS (its absolute gate) for silence
TOLERANCE = 0.5  # LU
MAX_ENCODES = 3
# silencedetect: what counts as silence to trim, and how much of it to keep at each end.
TRIM_NOISE_DB, TRIM_MIN_SECONDS, TRIM_KEEP_SECONDS = -50, 1.0, 0.3
JINGLE_FADE_MS = {"intro": (0, 1500), "outro": (1000, 2500)}  # (fade in, fade out)

_NUM = r"([-+]?(?:\d+(?:\.\d*)?|inf|nan))"
_R128 = re.compile(r"^lavfi\.r128\.(I|LRA|true_peak|sample_peak)=(\S+)$", re.M)
# The limiter is simulated on 10 s of every 40 s of a long program: a fair sample of its peaks, a quarter of the work.
SAMPLE_OVER_SECONDS, SAMPLE_EVERY, SAMPLE_TAKE = 600, 40, 10
_SILENCE = re.compile(r"silence_(start|end): " + _NUM)


@dataclass(frozen=True)
class Loudness:
    """An ebur128 measurement: integrated loudness (LUFS), true peak (dBTP), loudness range (LU)."""

    integrated: float
    true_peak: float
    lra: float
    sample_peak: float = float("-inf")  # dBFS


@dataclass(frozen=True)
class _Plan:
    """What the mastering graph does to one recording, in the order it does it."""

    source: Path
    settings: AudioSettings
    channels: int
    jingles: tuple[Path | None, Path | None] = (None, None)
    trim: tuple[float, float | None] = (0.0, None)

    def program(self, label: str, resample: bool = True) -> str:
        """Filter graph text turning the inputs into the program (before gain), ending in [label].

        Measuring needs no resampling (loudness does not depend on the rate) unless jingles must be joined."""
        rate = f":sample_rates={self.settings.sample_rate}" if resample or any(self.jingles) else ""
        fmt = f"aformat=sample_fmts=dbl{rate}:channel_layouts={'mono' if self.channels == 1 else 'stereo'}"
        speech = []
        start, end = self.trim
        if start or end is not None:
            speech.append(f"atrim=start={start:.3f}" + (f":end={end:.3f}" if end is not None else "") + ",asetpts=PTS-STARTPTS")
        if self.settings.highpass:
            speech.append(f"highpass=f={self.settings.highpass}")
        speech += cleanup.chain(self.settings)  # [audio] denoise, dehum, deess: on the voice, before any gain
        # dbl before any gain stage: volume on integer samples would clip before the limiter sees them.
        speech.append("aformat=sample_fmts=dbl")
        if self.settings.level_voices:
            speech.append(LEVEL_VOICES)
        speech.append(fmt)
        parts = [f"[0:a]{','.join(speech)}[speech]"]
        order = []
        for index, jingle in enumerate(self.jingles):
            if jingle is not None:
                parts.append(f"[{len(order) + 1}:a]{fmt}[j{index}]")
            order.append(jingle)
        pieces = ([f"[j0]"] if self.jingles[0] else []) + ["[speech]"] + ([f"[j1]"] if self.jingles[1] else [])
        if len(pieces) == 1:
            parts.append(f"[speech]anull[{label}]")
        else:
            parts.append(f"{''.join(pieces)}concat=n={len(pieces)}:v=0:a=1[{label}]")
        return ";".join(parts)

    def inputs(self) -> list[str]:
        """ffmpeg's input arguments: the recording, then the prepared jingles."""
        args = ["-i", str(self.source)]
        for jingle in self.jingles:
            if jingle is not None:
                args += ["-i", str(jingle)]
        return args

    def chain(self, gain: float, ceiling: float) -> str:
        """Gain and a peak limiter after the program: identical in simulation and encode."""
        return f"volume={gain:.3f}dB,{LIMITER.format(linear=10 ** (ceiling / 20))}"


def _metering(file: Path, peak: bool) -> str:
    """ebur128 writing its running values to a file (the last lines are the final measurement)."""
    return f"ebur128=framelog=quiet:metadata=1:peak={'true' if peak else 'sample'},ametadata=mode=print:file={_filter_path(file)}"


def _filter_path(path: Path) -> str:
    # Filter-graph syntax: escape what ffmpeg's option parser treats as special.
    return str(path).replace("\\", "/").replace(":", "\\:").replace("'", "\\'").replace(",", "\\,")


def _read_metering(file: Path) -> Loudness:
    """The final values of a metering file; -inf where the audio was silent."""
    with file.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - 8192))
        tail = handle.read().decode(errors="replace")
    values = {key: float(value) for key, value in _R128.findall(tail)}
    return Loudness(
        integrated=values.get("I", float("-inf")),
        true_peak=_decibels(values.get("true_peak", 0.0)),
        lra=values.get("LRA", 0.0),
        sample_peak=_decibels(values.get("sample_peak", 0.0)),
    )


def _decibels(linear: float) -> float:
    return 20 * math.log10(linear) if linear > 0 else float("-inf")


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

Task = Callable[[str, float], Progress]  # opens a progress bar for one pass: (name, seconds of audio)


def master(info: AudioInfo, settings: AudioSettings, cache_dir: Path, task: Task | None = None, root: Path | None = None, *, source_sha: str = "") -> Mastered:
    """Master one recording into the cache (or reuse the cached result); raise AudioError on failure.
    `source_sha`: the recording's checksum, when the caller has it already."""
    if info.duration < MIN_DURATION:
        raise AudioError(info.path, f"is only {info.duration:.1f} s long", f"a recording must be at least {MIN_DURATION:.0f} s")
    channels = output_channels(info)
    sources = _jingle_sources(settings, root)
    key = cache_key(source_sha or file_sha256(info.path), settings, channels, tuple(file_sha256(p) if p else "" for p in sources))
    folder = cache_dir / "master"
    out = folder / f"{key}.{settings.format}"
    meta = folder / f"{key}.json"
    cached = _from_cache(out, key, meta)
    if cached is not None:
        return cached
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=folder))
    try:
        jingles = tuple(_prepare_jingle(p, kind, settings, channels, work) if p else None for p, kind in zip(sources, ("intro", "outro")))
        plan = _Plan(source=info.path, settings=settings, channels=channels, jingles=jingles)
        partial = work / f"master.{settings.format}"
        mastered = _master(info, plan, partial, work, task or (lambda name, total: None))
        record = work / "meta.json"
        record.write_text(json.dumps({"duration": mastered.duration, "offset": mastered.offset, "report": mastered.report and asdict(mastered.report)}, sort_keys=True))
        # Only a complete, verified file ever carries the key's name; the record last: without it, nothing is trusted.
        os.replace(partial, out)
        os.replace(record, meta)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return replace(mastered, path=out, key=key)


def _from_cache(out: Path, key: str, meta: Path) -> Mastered | None:
    """The cached master, or None when there is none (or its record is damaged: then it is made again)."""
    if not (out.is_file() and meta.is_file()):
        return None
    try:
        data = json.loads(meta.read_text())
        report = LoudnessReport(**data["report"]) if data.get("report") else None
        return Mastered(path=out, key=key, duration=data["duration"], report=report, cached=True, offset=data.get("offset", 0.0))
    except (ValueError, TypeError, KeyError):
        return None


def _jingle_sources(settings: AudioSettings, root: Path | None) -> tuple[Path | None, Path | None]:
    base = root or Path.cwd()
    found = []
    for name in (settings.intro, settings.outro):
        path = base / name if name else None
        if path is not None and not path.is_file():
            raise AudioError(path, "the intro/outro file named in panelpress.toml does not exist", "put it in the show folder or fix [audio] intro/outro")
        found.append(path)
    return found[0], found[1]


def _prepare_jingle(path: Path, kind: str, settings: AudioSettings, channels: int, work: Path) -> Path:
    """A short jingle with its fades, as WAV at the output format (pydub: jingles are small)."""
    decoded = work / f"{kind}.decoded.wav"
    # ffmpeg decodes (pydub would need ffprobe, which the imageio-ffmpeg wheel does not ship).
    args = ["-i", str(path), "-map", "0:a:0", "-ar", str(settings.sample_rate), "-ac", str(channels), "-c:a", "pcm_s16le", "-t", "120", "-y", str(decoded)]
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


def _master(info: AudioInfo, plan: _Plan, out: Path, work: Path, task: Task) -> Mastered:
    """Measure, simulate the limiter, encode with an in-process check of the decoded output; correct if needed."""
    settings = plan.settings
    first = _measure(info, plan, work, task("measure", info.duration))
    if first.loudness.integrated <= SILENT:
        raise AudioError(info.path, "is silent (no loudness to measure)", "check that the right microphone track was exported")
    plan = replace(plan, trim=first.trim) if settings.trim_silence else plan
    jingle_seconds = sum(_wav_seconds(j) for j in plan.jingles if j is not None)
    speech_seconds = (plan.trim[1] or info.duration) - plan.trim[0]
    program_seconds = speech_seconds + jingle_seconds
    ceiling = settings.true_peak - TRUE_PEAK_MARGIN
    simulations = 0
    if settings.normalize:
        wanted = settings.loudness + ENCODER_LOSS[settings.format]
        gain = wanted - first.loudness.integrated
        if first.loudness.sample_peak + gain > ceiling - IDLE_LIMITER_MARGIN:  # the limiter will work: find what that costs
            gain, simulations = _simulated_gain(plan, first.loudness.integrated, wanted, ceiling, work, program_seconds, task)
    else:
        gain, ceiling = 0.0, 0.0  # no loudness target: only keep the encoder from clipping
    encodes = 0
    while True:
        encodes += 1
        result, seconds = _encode(plan, gain, ceiling, out, work, task("encode" if encodes == 1 else f"correct {encodes - 1}", program_seconds))
        off = abs(result.integrated - settings.loudness) > TOLERANCE
        hot = result.true_peak > settings.true_peak
        if not settings.normalize or not (off or hot) or encodes == MAX_ENCODES:
            break
        if hot:
            ceiling -= result.true_peak - settings.true_peak + 0.5
        gain += settings.loudness - result.integrated
    if seconds < program_seconds - TRUNCATION_TOLERANCE:
        raise AudioError(info.path, f"is truncated: its header promises {info.duration:.1f} s but only {seconds - jingle_seconds:.1f} s of audio decode", "export or copy the recording again")
    if settings.normalize and (off or hot):
        raise AudioError(
            info.path,
            f"mastering missed the target after {encodes} passes: {result.integrated:.1f} LUFS, true peak {result.true_peak:.1f} dBTP",
            f"check [audio] loudness = {settings.loudness} and true_peak = {settings.true_peak}; a very dynamic recording may need a lower loudness",
        )
    report = LoudnessReport(
        input_i=round(first.loudness.integrated, 2),
        input_peak=round(first.loudness.sample_peak, 2),
        input_lra=round(first.loudness.lra, 2),
        output_i=round(result.integrated, 2),
        output_tp=round(result.true_peak, 2),
        output_lra=round(result.lra, 2),
        gain=round(gain, 2),
        method=METHOD if settings.normalize else "encode only",
        passes=1 + simulations + encodes,
    )
    offset = (_wav_seconds(plan.jingles[0]) if plan.jingles[0] else 0.0) - plan.trim[0]
    return Mastered(path=out, key="", duration=seconds, report=report, offset=round(offset, 3))


@dataclass(frozen=True)
class _FirstLook:
    loudness: Loudness
    trim: tuple[float, float | None]


def _measure(info: AudioInfo, plan: _Plan, work: Path, progress: Progress | None) -> _FirstLook:
    """Pass 1: the program's loudness, sample peak and loudness range (and the recording's silences, to trim)."""
    metering = work / "measure.txt"
    graph = f"{plan.program('prog', resample=False)};[prog]{_metering(metering, False)}[m]"
    maps = ["-map", "[m]"]
    if plan.settings.trim_silence:
        graph += f";[0:a]silencedetect=noise={TRIM_NOISE_DB}dB:duration={TRIM_MIN_SECONDS}[r]"
        maps += ["-map", "[r]"]
    run = run_ffmpeg(info.path, [*plan.inputs(), "-filter_complex", graph, *maps, "-f", "null", "-"], info.duration, progress)
    return _FirstLook(loudness=_read_metering(metering), trim=_trim_range(_silences(run.log, info.duration), info.duration))


def _simulated_gain(plan: _Plan, measured: float, wanted: float, ceiling: float, work: Path, seconds: float, task: Task) -> tuple[float, int]:
    """Pass 2: run the limiter at two gains (no encoding) and solve for the gain whose output lands on `wanted`;
    return it and the number of simulation passes.

    Limiting takes loudness away as gain rises. The loss is measured at two gains against the same audio
    unlimited, on a fair sample of a long program; a secant step then finds the gain for the whole program.
    A step that lands far from the gains tried (loud transients over quiet speech bend the curve) is tried too."""
    guess = wanted - measured + 0.5  # prior: limiting usually costs about half a LU
    gains = (guess - 0.5, guess + 0.5)
    outputs: dict[float, float] = {}
    for run in range(1, MAX_SIMULATIONS + 1):
        outputs.update(_simulate(plan, measured, gains, ceiling, work, seconds, task("level" if run == 1 else f"level {run}", seconds)))
        gain = _solve(outputs, wanted)
        if min(abs(gain - tried) for tried in outputs) <= TRUSTED_STEP:
            break
        gains = (gain - 0.5, gain + 0.5)
    return gain, run


def _simulate(plan: _Plan, measured: float, gains: tuple[float, float], ceiling: float, work: Path, seconds: float, progress: Progress) -> dict[float, float]:
    """The program's loudness after gain and limiter, for each of `gains` (one ffmpeg run, no encoding)."""
    sample = f",aselect='lt(mod(t\\,{SAMPLE_EVERY})\\,{SAMPLE_TAKE})',asetpts=N/SR/TB" if seconds > SAMPLE_OVER_SECONDS else ""
    files = [work / f"simulate{i}.txt" for i in range(3)]
    graph = f"{plan.program('prog', resample=False)};[prog]aformat=sample_fmts=dbl{sample},asplit=3[p0][p1][p2]"
    args = [*plan.inputs(), "-filter_complex", graph]
    for i, chain in enumerate([plan.chain(gain, ceiling) for gain in gains] + ["anull"]):  # a graph each: a thread each
        args += ["-filter_complex", f"[p{i}]{chain},{_metering(files[i], False)}[s{i}]"]
    args += ["-map", "[s0]", "-map", "[s1]", "-map", "[s2]", "-f", "null", "-"]
    run_ffmpeg(plan.source, args, float("inf"), progress)
    unlimited = _read_metering(files[2]).integrated
    # What the limiter took from the sample, taken from the whole program's measured loudness.
    return {gain: measured + gain + (_read_metering(file).integrated - unlimited - gain) for gain, file in zip(gains, files)}


def _solve(outputs: dict[float, float], wanted: float) -> float:
    """The gain whose output is `wanted`: interpolated between simulated gains around it, else a secant step
    from the nearest two (louder output always needs more gain)."""
    points = sorted(outputs.items())
    for (g0, o0), (g1, o1) in zip(points, points[1:]):
        if o0 <= wanted <= o1 and o1 > o0:
            return g0 + (wanted - o0) * (g1 - g0) / (o1 - o0)
    (g0, o0), (g1, o1) = points[:2] if wanted < points[0][1] else points[-2:]
    slope = min(1.0, max(0.2, (o1 - o0) / (g1 - g0)))  # 1: no limiting at all
    base, out = (g0, o0) if wanted < points[0][1] else (g1, o1)
    return max(-40.0, min(40.0, base + (wanted - out) / slope))


def _encode(plan: _Plan, gain: float, ceiling: float, out: Path, work: Path, progress: Progress | None) -> tuple[Loudness, float]:
    """Pass 3: encode, and decode the encoded packets again in the same ffmpeg (a loopback decoder) to measure
    what listeners will hear: the decoded file, not the filter's input."""
    settings = plan.settings
    codec = ["-c:a", "libmp3lame", "-b:a", f"{settings.bitrate}k", "-id3v2_version", "0", "-write_id3v1", "0", "-f", "mp3"]
    if settings.format == "m4a":
        codec = ["-c:a", "aac", "-b:a", f"{settings.bitrate}k", "-movflags", "+faststart", "-f", "ipod"]
    metering = work / "verify.txt"
    args = [
        *plan.inputs(),
        "-filter_complex", f"{plan.program('prog')};[prog]{plan.chain(gain, ceiling)}[e]",
        "-map", "[e]", "-map_metadata", "-1", "-map_chapters", "-1", "-ar", str(settings.sample_rate), "-ac", str(plan.channels),
        *codec, "-y", str(out),
        "-dec", "0:0", "-filter_complex", f"[dec:0]{_metering(metering, True)}[v]", "-map", "[v]", "-f", "null", "-",
    ]  # fmt: skip
    run = run_ffmpeg(plan.source, args, float("inf"), progress)
    return _read_metering(metering), run.seconds


def _wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as clip:
        return clip.getnframes() / clip.getframerate()


@dataclass(frozen=True)
class FfmpegRun:
    """What an ffmpeg run left: its log and how many seconds of audio it wrote."""

    log: str
    seconds: float


def run_ffmpeg(source: Path, args: list[str], duration: float, progress: Progress | None = None) -> FfmpegRun:
    """Run ffmpeg, report progress from its own `-progress` output; raise AudioError naming `source`."""
    command = [ffmpeg(), "-nostdin", "-hide_banner", "-nostats", "-progress", "pipe:1", *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
    log: list[str] = []
    reader = threading.Thread(target=lambda: log.extend(proc.stderr), daemon=True)
    reader.start()
    seconds = 0.0
    for line in proc.stdout:
        key, _, value = line.strip().partition("=")
        if key == "out_time_us" and value.lstrip("-").isdigit():
            seconds = max(seconds, int(value) / 1e6)
            if progress:
                progress(min(duration, seconds))
    code = proc.wait()
    reader.join()
    text = "".join(log)
    if code != 0:
        reason = _ffmpeg_reason(text)
        raise AudioError(source, f"ffmpeg could not process it: {reason}", "check that the file plays and the disk has room; if it does not play, export it again as WAV or FLAC")
    if progress:
        progress(duration if math.isfinite(duration) else seconds)
    return FfmpegRun(log=text, seconds=seconds)


def _ffmpeg_reason(log: str) -> str:
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in lines:
        if "does not contain any stream" in line or "matches no streams" in line:
            return "it has no audio stream"
    return lines[-1] if lines else "unknown error"
