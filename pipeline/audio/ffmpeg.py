"""ffmpeg: the binary panelpress runs (found on PATH, else the imageio-ffmpeg wheel's) and the one way it is run."""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import AudioError, Interrupted
from ..progress import Progress

if TYPE_CHECKING:
    import numpy as np

# Signals that stop a program on purpose: Ctrl-C (the terminal sends it to ffmpeg too), a stop asked for, a closed
# terminal. ffmpeg stopped by one of them did not fail: the build was interrupted.
STOPS = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT})
# ffmpeg's own words on a signal, on a line of their own (a file name may hold any words)
_RECEIVED = re.compile(r"^(?:Exiting normally, received signal \d+|Received > ?\d+ system signals)", re.MULTILINE)
_running: set[int] = set()  # the pids of the ffmpeg passes running now (`stop_running`)
_lock = threading.Lock()


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


def file_arg(path: Path) -> str:
    """A file as ffmpeg's command line takes it, whatever its name: `file:` first, so that no name is read as an
    option (`-take two.wav`) or a protocol (`take:1.wav`, `Panel:Live/…`)."""
    return "file:" + os.fspath(path)


# A path inside a filter graph is read twice: as the value of one filter's option (av_get_token up to `:`), and before
# that as part of the graph (filters split at `,` and `;`, links in `[ ]`). Each level takes a backslash before any
# character as that character; unescaped leading and trailing white space is dropped at both.
_OPTION_SPECIAL = "\\':" + " \t\n\r"
_GRAPH_SPECIAL = "\\'[],;" + " \t\n\r"


def filter_path(path: Path) -> str:
    """A file as the value of a filter's option (`ametadata=file=…`, `amovie=…`), escaped for both levels of ffmpeg's
    filter-graph syntax: any name reaches the filter as it is."""
    return _escape(_escape(file_arg(path), _OPTION_SPECIAL), _GRAPH_SPECIAL)


def filter_file(path: Path) -> str:
    """A file a filter opens itself, not through ffmpeg's protocols (drawtext's `fontfile` and `textfile`), as the
    value of its option: escaped for both levels of the filter-graph syntax, with no `file:` before it."""
    return _escape(_escape(os.fspath(path), _OPTION_SPECIAL), _GRAPH_SPECIAL)


@functools.cache
def has_filter(name: str) -> bool:
    """Whether the ffmpeg in use was built with a filter (drawtext needs libfreetype, which some builds lack)."""
    out = subprocess.run([ffmpeg(), "-hide_banner", "-filters"], capture_output=True, text=True, check=False).stdout
    return any(line.split()[1:2] == [name] for line in out.splitlines() if len(line.split()) > 2)


def _escape(text: str, special: str) -> str:
    return "".join("\\" + ch if ch in special else ch for ch in text)


@dataclass(frozen=True)
class FfmpegRun:
    """What an ffmpeg run left: its log, how many seconds of audio it wrote, and what it cost."""

    log: str
    seconds: float
    wall: float = 0.0
    cpu: float = 0.0  # its own user + system seconds


def run_ffmpeg(
    source: Path,
    args: list[str],
    duration: float,
    progress: Progress | None = None,
    tick: Callable[[], None] | None = None,
) -> FfmpegRun:
    """Run ffmpeg, report progress from its own `-progress` output; raise AudioError naming `source`. `tick`: called
    each time ffmpeg reports its progress (twice a second), in this thread: work that follows what it writes."""
    command = [ffmpeg(), "-nostdin", "-hide_banner", "-nostats", "-progress", "pipe:1", *args]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
    with _lock:
        _running.add(proc.pid)
    log: list[str] = []
    reader = threading.Thread(target=lambda: log.extend(proc.stderr), daemon=True)
    reader.start()
    seconds = 0.0
    try:
        for line in proc.stdout:
            key, _, value = line.strip().partition("=")
            if key == "out_time_us" and value.lstrip("-").isdigit():
                seconds = max(seconds, int(value) / 1e6)
                if progress:
                    progress(min(duration, seconds))
            elif key == "progress" and tick is not None:
                tick()
    except BaseException:
        proc.kill()  # the follower failed (or the build was stopped): ffmpeg would wait on a full pipe forever
        with _lock:
            _running.discard(proc.pid)
        proc.wait()
        raise
    with _lock:  # before it is reaped: `stop_running` never signals a pid the system may give another process
        _running.discard(proc.pid)
    # wait4, not wait: the child's own CPU time (getrusage of all children mixes episodes mastered in parallel).
    _, status, usage = os.wait4(proc.pid, 0)
    code = proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    reader.join()
    text = "".join(log)
    halt_if_stopped(code, text, source)  # even with code 0: stopped while opening its input, ffmpeg exits 0
    if code != 0:
        reason = _ffmpeg_reason(text)
        raise AudioError(
            source,
            f"ffmpeg could not process it: {reason}",
            "check that the file plays and the disk has room; if it does not play, export it again as WAV or FLAC",
        )
    if progress:
        progress(duration if math.isfinite(duration) else seconds)
    return FfmpegRun(log=text, seconds=seconds, wall=round(wall, 2), cpu=round(usage.ru_utime + usage.ru_stime, 2))


def stop_running() -> None:
    """Stop every ffmpeg pass this process is running, as Ctrl-C does (the build was interrupted or stopped, and they
    may not have heard it: SIGTERM sent to panelpress alone)."""
    with _lock:
        for pid in _running:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGINT)


def stopped(code: int, log: str) -> bool:
    """Whether ffmpeg ended because it was told to stop (a signal: Ctrl-C reaches it with the build), whatever it
    made until then: killed by one of `STOPS`, or its own exit on one ("Exiting normally, received signal 2", code
    255, or 0 when the signal came while it opened its input). With `-loglevel error` only the code tells: ffmpeg
    exits 255 on a signal, or on EPERM, which it names."""
    if -code in STOPS or _RECEIVED.search(log) is not None:
        return True
    return code == 255 and "not permitted" not in log


def halt_if_stopped(code: int, log: str, source: Path) -> None:
    """Interrupted when ffmpeg was told to stop (`stopped`): the build stops, and nothing is said of the file."""
    if stopped(code, log):
        raise Interrupted(source, "was interrupted: ffmpeg was stopped (Ctrl-C)", "build again")


def _ffmpeg_reason(log: str) -> str:
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in lines:
        if "does not contain any stream" in line or "matches no streams" in line:
            return "it has no audio stream"
    return lines[-1] if lines else "unknown error"


def stream_pcm(
    source: Path,
    args: list[str],
    channels: int,
    consume: Callable[[np.ndarray], None],
    rate: int,
    duration: float,
    progress: Progress | None = None,
    seconds: float = 1.0,
) -> FfmpegRun:
    """Run ffmpeg writing float PCM of `channels` to its standard output (`args` end before the output) and hand it
    to `consume` `seconds` at a time, as a (channels, samples) float32 array: memory stays that much, whatever the
    length. Errors as `run_ffmpeg`."""
    import numpy as np  # by the passes that stream audio, not by every stage that names the binary (tags, transcripts)

    command = [ffmpeg(), "-nostdin", "-hide_banner", "-nostats", *args, "-f", "f32le", "-ac", str(channels), "pipe:1"]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with _lock:
        _running.add(proc.pid)
    log: list[bytes] = []
    reader = threading.Thread(target=lambda: log.extend(proc.stderr), daemon=True)
    reader.start()
    frame = 4 * channels
    buffer = bytearray(round(rate * seconds) * frame)
    view = memoryview(buffer)
    filled, samples = 0, 0
    try:
        while True:
            got = proc.stdout.readinto(view[filled:])
            filled += got or 0
            if filled == len(buffer) or (not got and filled):
                whole = filled - filled % frame
                consume(np.frombuffer(buffer, dtype=np.float32, count=whole // 4).reshape(-1, channels).T.copy())
                samples += whole // frame
                buffer[: filled - whole] = buffer[whole:filled]
                filled -= whole
                if progress:
                    progress(min(duration, samples / rate))
            if not got:
                break
    except BaseException:
        proc.kill()  # the consumer failed (or the build was stopped): ffmpeg would wait on a full pipe forever
        raise
    finally:
        with _lock:  # before it is reaped: `stop_running` never signals a pid the system may give another process
            _running.discard(proc.pid)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    reader.join()
    text = b"".join(log).decode(errors="replace")
    code = proc.returncode
    halt_if_stopped(code, text, source)
    if code != 0:
        raise AudioError(
            source,
            f"ffmpeg could not process it: {_ffmpeg_reason(text)}",
            "check that the file plays and the disk has room; if it does not play, export it again as WAV or FLAC",
        )
    return FfmpegRun(
        log=text, seconds=samples / rate, wall=round(wall, 2), cpu=round(usage.ru_utime + usage.ru_stime, 2)
    )
