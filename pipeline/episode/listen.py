"""Listening to a clean edition: whether a flagged word is still heard around the window that should silence it.

After the clean encode, both editions are decoded (16 kHz) around every window, and each window is heard twice:

- **the sound it cuts**: a window's edge that falls inside a stretch of sound of the explicit edition, having silenced
  at least PART of it, leaves the rest of that stretch heard up to the pause that ends it. When that rest is short (at
  most REMNANT: a syllable, a final consonant) and still heard in the clean edition, it is the word's own: the word
  was placed partly on its neighbour. The window grows to that pause. (A word that runs into its neighbour without
  any pause leaves a long rest: nothing there tells the word's sound from its neighbour's, and the aligner's edge
  stands.)
- **the word itself**: pocketsphinx (its language model) listens to the clean edition around the window (LOOK on each
  side); a word of strong language heard over the window or beside it (NEAR) is a word still heard.

What is heard is returned; the clean stage silences again what it can and holds the edition back otherwise.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..audio.ffmpeg import ffmpeg, file_arg, halt_if_stopped
from ..config import Config
from ..errors import CleanEditionError
from . import align, explicit, transcribe

RATE = transcribe.RATE
LOOK = 0.6  # s of each edition decoded on each side of a window
NEAR = 0.3  # s: a strong word heard this close to a window is the window's word, still heard
PART = 0.05  # s: a window that silenced at least this much of a stretch of sound silenced some of its word
REMNANT = 0.25  # s: the most of a stretch left heard beside a window that is taken for the rest of its word
EDGE = 0.005  # s: a window's edge this close to a pause is in the pause


@dataclass(frozen=True)
class Heard:
    """Something of a flagged word heard in the clean edition beside or over its window (program seconds)."""

    index: int  # the window's, in the list given
    word: str  # the window's word, or the strong word the recogniser heard
    start: float
    end: float
    how: str  # "cut": the rest of a stretch of sound the window cut; "spoken": the recogniser heard the word
    grow: tuple[float, float] | None = None  # the window that silences a cut stretch's rest


def listen(
    explicit_file: Path,
    clean_file: Path,
    windows: Sequence[tuple[float, float, str]],
    config: Config,
    spot: bool = True,
    only: set[int] | None = None,
) -> list[Heard]:
    """What of each window's word the clean edition still lets be heard (windows in program seconds); `only`: the
    windows the recogniser listens to (None: all; the others were heard before, as they are)."""
    heard = []
    for index, start, plain, clean in _stretches(explicit_file, clean_file, windows):
        a, b, word = windows[index]
        heard += _cut(index, word, start, a, b, plain, clean, config.clean.padding / 1000)
        if spot and (
            only is None or index in only
        ):  # the recogniser hears the window and NEAR on each side: the word and its neighbours, no more
            lo, hi = max(0, round((a - NEAR - start) * RATE)), round((b + NEAR - start) * RATE)
            heard += _spoken(index, start + lo / RATE, a, b, clean[lo:hi], config)
    return heard


def _levels(samples) -> list[float]:
    """dBFS per align.HOP samples of float samples."""
    import numpy

    count = len(samples) // align.HOP
    if not count:
        return []
    frames = numpy.asarray(samples[: count * align.HOP], dtype=numpy.float64).reshape(count, align.HOP)
    return list(10 * numpy.log10((frames**2).mean(axis=1) + 1e-12))


def _cut(index: int, word: str, at: float, a: float, b: float, plain, clean, pad: float) -> list[Heard]:
    """The rests of stretches of sound that the window [a, b] cut (`at`: the stretch's start, program seconds)."""
    hop = align.HOP / RATE
    parts = align.islands(_levels(plain))
    if not parts:
        return []
    threshold = align.thresholds(_levels(plain))[1]
    heard_levels = _levels(clean)
    left, right = (a - at) / hop, (b - at) / hop
    found = []
    for x, y in parts:
        for side in ("start", "end"):
            edge = left if side == "start" else right
            if not (x + EDGE / hop < edge < y - EDGE / hop):
                continue
            silenced = (y - edge) if side == "start" else (edge - x)
            rest = (edge - x) if side == "start" else (y - edge)
            if silenced * hop < PART or rest * hop > REMNANT:
                continue
            span = (int(x), int(edge)) if side == "start" else (int(edge) + 1, int(y))
            if max(heard_levels[span[0] : span[1]], default=-200.0) <= threshold:
                continue  # silenced already (another window)
            quiet = [q for q in parts if (q[1] <= x if side == "start" else q[0] >= y)]
            room = ((x - quiet[-1][1]) if side == "start" and quiet else (quiet[0][0] - y) if quiet else 0) * hop
            margin = min(pad, max(0.0, room - 0.010))
            grow = (round(at + x * hop - margin, 3), b) if side == "start" else (a, round(at + y * hop + margin, 3))
            found.append(Heard(index, word, round(at + span[0] * hop, 3), round(at + span[1] * hop, 3), "cut", grow))
    return found


def _spoken(index: int, at: float, a: float, b: float, clean, config: Config) -> list[Heard]:
    """The strong words pocketsphinx hears in the clean edition over the window [a, b] or NEAR it."""
    import numpy

    pcm = (numpy.clip(numpy.asarray(clean), -1.0, 1.0) * 32767).astype("<i2").tobytes()
    recogniser = transcribe.decoder()
    recogniser.start_utt()
    recogniser.process_raw(pcm, full_utt=True)
    recogniser.end_utt()
    words = explicit.lexicon(config)
    found = []
    for seg in recogniser.seg() or ():
        if transcribe._FILLER.match(seg.word):
            continue
        start, end = at + seg.start_frame / 100, at + (seg.end_frame + 1) / 100
        said = transcribe._plain(seg.word)
        if end > a - NEAR and start < b + NEAR and words.find(said, ""):
            found.append(Heard(index, said, round(start, 3), round(end, 3), "spoken"))
    return found


def _stretches(
    explicit_file: Path, clean_file: Path, windows: Sequence[tuple[float, float, str]]
) -> Iterator[tuple[int, float, list[float], list[float]]]:
    """Both editions decoded (16 kHz, mono) around each window, LOOK on each side, as each stretch is read:
    (window index, the stretch's start in program seconds, explicit samples, clean samples). One decode of each
    edition, streamed: an episode is never held in memory."""
    import numpy

    proc = decode_both(explicit_file, clean_file, RATE)
    order = sorted(range(len(windows)), key=lambda i: windows[i][0])
    spans = {i: (max(0, round((windows[i][0] - LOOK) * RATE)), round((windows[i][1] + LOOK) * RATE)) for i in order}
    open_: dict[int, list] = {}
    at, waiting = 0, list(order)
    try:
        while True:
            chunk = proc.stdout.read(8 * 8192)
            if not chunk:
                break
            values = numpy.frombuffer(chunk[: len(chunk) // 8 * 8], dtype=numpy.float32).reshape(-1, 2)
            n = len(values)
            while waiting and spans[waiting[0]][0] < at + n:
                open_[waiting.pop(0)] = []
            for i in list(open_):
                start, end = spans[i]
                lo, hi = max(start, at) - at, min(end, at + n) - at
                if hi > lo:
                    open_[i].append(values[lo:hi])
                if end <= at + n:
                    yield i, start / RATE, *_joined(open_.pop(i))
            at += n
        for i in list(open_):  # the last windows, at the program's end
            yield i, spans[i][0] / RATE, *_joined(open_.pop(i))
    finally:
        proc.stdout.close()
        error = proc.stderr.read().decode(errors="replace").strip()
        code = proc.wait()
    halt_if_stopped(code, error, clean_file)
    if code != 0:
        raise CleanEditionError(
            clean_file,
            f"ffmpeg could not decode the editions to listen to them: {error.splitlines()[-1] if error else 'unknown error'}",
            "build again; if it persists, report it",
        )


def decode_both(explicit_file: Path, clean_file: Path, rate: int) -> subprocess.Popen:
    """ffmpeg decoding both editions side by side: two-channel f32 at `rate` on its stdout (explicit, clean)."""
    mono = f"aformat=sample_fmts=flt:sample_rates={rate}:channel_layouts=mono"
    graph = f"[0:a]{mono}[a];[1:a]{mono}[b];[a][b]amerge=inputs=2[o]"
    inputs = ["-i", file_arg(explicit_file), "-i", file_arg(clean_file)]
    command = [ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", *inputs, "-filter_complex", graph]
    return subprocess.Popen(
        [*command, "-map", "[o]", "-f", "f32le", "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _joined(pieces: list) -> tuple:
    import numpy

    if not pieces:
        return numpy.zeros(0, dtype=numpy.float32), numpy.zeros(0, dtype=numpy.float32)
    both = numpy.concatenate(pieces)
    return both[:, 0], both[:, 1]
