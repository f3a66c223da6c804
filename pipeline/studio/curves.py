"""Loudness over time, for the studio: ffmpeg's ebur128 meter (audio/loudness.py) run once over a recording or a
mastered file, its short-term loudness and true peaks every 100 ms kept in the cache by the files' fingerprints, so a
second look at the studio starts no ffmpeg."""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
import threading
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..audio.ffmpeg import file_arg, run_ffmpeg
from ..audio.loudness import decibels, ebur128, read_metering
from ..errors import AudioError, PanelpressError, unexpected
from ..files import write_atomic
from ..plots import MAX_POINTS

STEP = 0.1  # seconds between two of the meter's values
FULL = 29  # the meter's first values before its 3 s short-term window is full: no loudness yet, left out
FORMAT = 1  # of the cached curves: a new one measures again
FOLDER = "studio"  # in the cache folder
READ = 64  # curves kept in memory once read (an hour's is 288 kB)
_read: dict[Path, Curve] = {}
_reading = threading.Lock()
_measuring = threading.Lock()  # two open studio pages never measure one file twice at once


@dataclass(frozen=True)
class Curve:
    """A file's loudness over time: short-term loudness (LUFS, 3 s windows) and true peak (dBTP) of each 100 ms,
    with its integrated loudness and true peak."""

    short: array  # float32: an hour is 36,000 values, 144 kB
    peaks: array
    integrated: float
    true_peak: float

    def points(self, offset: float = 0.0, limit: int = MAX_POINTS) -> tuple[tuple[float, float], ...]:
        """(seconds, short-term LUFS) from the first full 3 s window on, moved by `offset` seconds (the recording
        onto the published timeline): at most `limit` of them, each the loudest of its stretch (as plots.reduce)."""
        size = max(1, math.ceil((len(self.short) - FULL) / limit))
        return tuple(
            (round(offset + (n + 1) * STEP, 3), max(self.short[n : n + size]))
            for n in range(FULL, len(self.short), size)
        )

    def minutes(self) -> list[tuple[float, float]]:
        """The loudest short-term loudness and the highest true peak of each minute."""
        per = int(round(60 / STEP))
        return [
            (
                max(self.short[max(n, FULL) : n + per], default=float("-inf")),
                max(self.peaks[n : n + per], default=float("-inf")),
            )
            for n in range(0, len(self.peaks), per)
        ]


def fingerprint(paths: Sequence[Path]) -> str:
    """The files' cheap fingerprint (path, size, modification time), with the curves' format."""
    parts = [str(FORMAT)]
    for path in paths:
        stat = path.stat()
        parts.append(f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _kept(paths: Sequence[Path], cache_dir: Path) -> Path:
    try:
        key = fingerprint(paths)
    except OSError as err:
        raise AudioError(paths[0], f"cannot be read ({err.strerror or err})", "check that the file is there") from err
    return cache_dir / FOLDER / f"{key}.json"


def curve(paths: Sequence[Path], cache_dir: Path) -> Curve:
    """The loudness curve of a file (or of several played together: an episode's tracks), from the cache when its
    files are as they were; AudioError when ffmpeg cannot read them."""
    kept = _kept(paths, cache_dir)
    with _measuring:
        found = _load(kept)
        if found is None:
            found = measure(paths, cache_dir)
            kept.parent.mkdir(parents=True, exist_ok=True)
            data = {"format": FORMAT, "short": _plain(found.short), "peaks": _plain(found.peaks)}
            data |= {"integrated": found.integrated, "true_peak": found.true_peak}
            write_atomic(kept, json.dumps(data, separators=(",", ":")).encode())
    return found


class Meter:
    """Curves measured in the background, one file at a time, so the studio page answers at once: `ask` gives a
    curve the cache holds, or None and puts the files in line to be measured."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._waiting: dict[Path, tuple[tuple[Path, ...], Path]] = {}
        self._failed: dict[Path, PanelpressError] = {}
        self._running = False

    def ask(self, paths: Sequence[Path], cache_dir: Path) -> Curve | None:
        """The curve, if measured already; else None (it is measured next). PanelpressError when it cannot be."""
        kept = _kept(paths, cache_dir)
        found = _load(kept)
        if found is not None:
            return found
        with self._changed:
            if kept in self._failed:
                raise self._failed[kept]
            self._waiting.setdefault(kept, (tuple(paths), cache_dir))
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="panelpress-studio-meter", daemon=True).start()
        return None

    def idle(self, timeout: float) -> bool:
        """Wait until nothing is left to measure (at most `timeout` seconds); whether that is so."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._running, timeout)

    def _run(self) -> None:
        while True:
            with self._changed:
                if not self._waiting:
                    self._running = False
                    self._changed.notify_all()
                    return
                kept, (paths, cache_dir) = next(iter(self._waiting.items()))
            failed = None
            try:
                curve(paths, cache_dir)
            except PanelpressError as err:
                failed = err
            except Exception as err:  # a bug: one line on the page, its trace in the cache's log folder
                failed = unexpected(f"measuring {paths[0].name}", err, cache_dir / "logs")
            with self._changed:
                if failed is not None:
                    self._failed[kept] = failed
                del self._waiting[kept]


def _load(path: Path) -> Curve | None:
    """A kept curve (read once, then from memory: its name is its files' fingerprint, so it never changes)."""
    with _reading:
        found = _read.get(path)
    if found is not None:
        return found
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        found = Curve(array("f", data["short"]), array("f", data["peaks"]), data["integrated"], data["true_peak"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # not measured yet, or damaged: measured again
    with _reading:
        while len(_read) >= READ:
            _read.pop(next(iter(_read)))  # the oldest read
        _read[path] = found
    return found


def measure(paths: Sequence[Path], cache_dir: Path) -> Curve:
    """Run the meter over the files (mixed together when there are several): one decode, nothing written but the
    meter's log, which is read and removed."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix="studio-") as work:
        log = Path(work) / "meter.txt"
        args = [arg for path in paths for arg in ("-i", file_arg(path))]
        mix = f"amix=inputs={len(paths)}:normalize=0," if len(paths) > 1 else ""  # tracks: as they sound together
        graph = f"{''.join(f'[{n}:a:0]' for n in range(len(paths)))}{mix}{ebur128(log, True)}[m]"
        run_ffmpeg(paths[0], [*args, "-filter_complex", graph, "-map", "[m]", "-f", "null", "-"], float("inf"))
        short, peaks = read_curve(log)
        total = read_metering(log)
    return Curve(array("f", short), array("f", peaks), round(total.integrated, 2), round(total.true_peak, 2))


def _plain(values: array) -> list[float]:
    return [round(value, 2) for value in values]  # as measured (float32 holds them to about 1e-6)


def read_curve(path: Path) -> tuple[list[float], list[float]]:
    """The short-term loudness (LUFS) and the true peak of its own 100 ms (dBTP, the loudest channel) of each of the
    meter's frames, rounded to hundredths; silence is -120 LUFS at most."""
    short: list[float] = []
    peaks: list[float] = []
    frame = float("-inf")
    with path.open() as handle:
        for line in handle:
            if line.startswith("lavfi.r128.S="):
                short.append(max(-120.0, round(float(line[13:]), 2)))
            elif line.startswith("lavfi.r128.true_peaks_ch"):
                frame = max(frame, float(line.partition("=")[2]))
            elif line.startswith("frame:") and short:
                peaks.append(max(-120.0, round(decibels(frame), 2)))
                frame = float("-inf")
    if len(peaks) < len(short):
        peaks.append(max(-120.0, round(decibels(frame), 2)))
    return short, peaks
