"""Master: a recording → the show's audio file in the cache, streamed through ffmpeg."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from .config import AudioSettings
from .errors import AudioError
from .records import AudioInfo, LoudnessReport, Mastered

Progress = Callable[[float], None]  # called with seconds of audio done

# A recording whose decoded length falls this far short of what its header says is truncated.
TRUNCATION_TOLERANCE = 1.0
MIN_DURATION = 1.0

MIME = {"mp3": "audio/mpeg", "m4a": "audio/mp4"}


@functools.cache
def ffmpeg() -> str:
    """The ffmpeg binary: the one on PATH, else the one shipped in the imageio-ffmpeg wheel."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@functools.cache
def ffmpeg_version() -> str:
    """ffmpeg's own version line (part of every cache key)."""
    out = subprocess.run([ffmpeg(), "-hide_banner", "-version"], capture_output=True, text=True, check=False)
    return out.stdout.splitlines()[0] if out.stdout else "unknown"


def configure_pydub() -> None:
    """Point pydub at the same ffmpeg binary panelpress uses."""
    from pydub import AudioSegment

    AudioSegment.converter = ffmpeg()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cache_key(recording_sha: str, settings: AudioSettings, channels: int) -> str:
    """Key of a mastered file: the recording's content and every setting that changes the sound."""
    parts = {"recording": recording_sha, "settings": asdict(settings), "channels": channels, "ffmpeg": ffmpeg_version(), "v": 1}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def output_channels(info: AudioInfo) -> int:
    """Mono stays mono; everything else becomes stereo."""
    return 1 if info.channels == 1 else 2


def master(info: AudioInfo, settings: AudioSettings, cache_dir: Path, progress: Progress | None = None) -> Mastered:
    """Master one recording into the cache (or reuse the cached result); raise AudioError on failure."""
    if info.duration < MIN_DURATION:
        raise AudioError(info.path, f"is only {info.duration:.1f} s long", f"a recording must be at least {MIN_DURATION:.0f} s")
    channels = output_channels(info)
    key = cache_key(file_sha256(info.path), settings, channels)
    folder = cache_dir / "master"
    out = folder / f"{key}.{settings.format}"
    meta = folder / f"{key}.json"
    if out.is_file() and meta.is_file():
        return _from_cache(out, key, meta)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{key}.partial.{settings.format}"
    try:
        duration = _encode(info, settings, channels, partial, progress)
        if duration < info.duration - TRUNCATION_TOLERANCE:
            raise AudioError(
                info.path,
                f"is truncated: its header promises {info.duration:.1f} s but only {duration:.1f} s of audio decode",
                "export or copy the recording again",
            )
        report = None
        meta.write_text(json.dumps({"duration": duration, "report": report and asdict(report)}, sort_keys=True))
        os.replace(partial, out)  # only a complete file ever carries the key's name
    finally:
        partial.unlink(missing_ok=True)
    return Mastered(path=out, key=key, duration=duration, report=report)


def _from_cache(out: Path, key: str, meta: Path) -> Mastered:
    data = json.loads(meta.read_text())
    report = LoudnessReport(**data["report"]) if data.get("report") else None
    return Mastered(path=out, key=key, duration=data["duration"], report=report, cached=True)


def _encode(info: AudioInfo, settings: AudioSettings, channels: int, out: Path, progress: Progress | None) -> float:
    codec = ["-c:a", "libmp3lame", "-b:a", f"{settings.bitrate}k", "-id3v2_version", "0", "-write_id3v1", "0", "-f", "mp3"]
    if settings.format == "m4a":
        codec = ["-c:a", "aac", "-b:a", f"{settings.bitrate}k", "-movflags", "+faststart", "-f", "ipod"]
    args = [
        "-i", str(info.path),
        "-map", "0:a:0", "-vn", "-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1",
        "-ar", str(settings.sample_rate), "-ac", str(channels),
        *codec, "-y", str(out),
    ]  # fmt: skip
    return run_ffmpeg(info.path, args, info.duration, progress).seconds


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
        raise AudioError(source, f"ffmpeg could not decode it: {reason}", "check that the file plays; export it again as WAV or FLAC")
    return FfmpegRun(log=text, seconds=seconds)


def _ffmpeg_reason(log: str) -> str:
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in lines:
        if "does not contain any stream" in line or "matches no streams" in line:
            return "it has no audio stream"
    return lines[-1] if lines else "unknown error"
