"""Word times of strong language: where, in the recording, each flagged word of a transcript is said.

Three sources, in this order: the transcript's own word times (WebVTT inline timestamps, which made transcripts
carry); else forced alignment of the cue's text to its stretch of the recording with pocketsphinx (only the cues
that hold a flagged word are aligned); else the recogniser's own words over that stretch. The strong-language scan
(`explicit.py`, with the show's allow list) decides which words. Alignments are cached by the recording's content
and the cue, so an episode made again aligns nothing.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..config import Config
from . import explicit, transcribe
from .transcript import Cue

METHOD = "align-v1"
MARGIN = 0.25  # s of audio around a cue: hosts' cue times are rarely exact
EDGE_DB = 35.0  # a word's edge goes on while 10 ms of sound are within this of the word's loudest
CLOSURE, BURST = 10, 6  # frames: a stop consonant's closure (up to 100 ms of quiet) and its release (up to 60 ms)
# Wide beams: alignment follows one sentence, so pruning buys little and loses the path on synthetic or odd voices.
BEAMS = {
    "beam": 1e-100,
    "wbeam": 1e-100,
    "pbeam": 1e-100,
    "lpbeam": 1e-100,
    "lponlybeam": 1e-100,
    "fwdflat": False,
    "bestpath": False,
}
_TOKEN = re.compile(r"[\w']+")
_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
# A rough spelling-to-sound for words pocketsphinx's dictionary lacks (names, say): good enough to take their time
# in an alignment, which is all a neighbour of a flagged word needs.
_GRAPHEMES = [
    ("tch", "CH"),
    ("sch", "S K"),
    ("sh", "SH"),
    ("ch", "CH"),
    ("th", "TH"),
    ("ph", "F"),
    ("ng", "NG"),
    ("ck", "K"),
    ("qu", "K W"),
    ("ee", "IY"),
    ("ea", "IY"),
    ("oo", "UW"),
    ("ou", "AW"),
    ("ow", "OW"),
    ("ai", "EY"),
    ("ay", "EY"),
    ("oi", "OY"),
    ("oy", "OY"),
    ("a", "AE"),
    ("b", "B"),
    ("c", "K"),
    ("d", "D"),
    ("e", "EH"),
    ("f", "F"),
    ("g", "G"),
    ("h", "HH"),
    ("i", "IH"),
    ("j", "JH"),
    ("k", "K"),
    ("l", "L"),
    ("m", "M"),
    ("n", "N"),
    ("o", "AA"),
    ("p", "P"),
    ("q", "K"),
    ("r", "R"),
    ("s", "S"),
    ("t", "T"),
    ("u", "AH"),
    ("v", "V"),
    ("w", "W"),
    ("x", "K S"),
    ("y", "Y"),
    ("z", "Z"),
]


@dataclass(frozen=True)
class Flagged:
    """A word of strong language in a cue: the word as written, where it is in the cue's text."""

    cue: Cue
    word: str
    offset: int  # in cue.text


@dataclass(frozen=True)
class Timed:
    """A flagged word and when it is said (seconds of the recording); `how`: transcript, aligned or recognised."""

    word: str
    start: float
    end: float
    how: str
    cue_start: float  # where its cue starts (for messages)


@dataclass(frozen=True)
class Lost:
    """A flagged word no source could place in the audio."""

    word: str
    cue_start: float
    why: str


def flagged(cues: Iterable[Cue], config: Config) -> list[Flagged]:
    """Every word of strong language in the cues, by the show's lexicon (its extra and allowed words)."""
    words = explicit.lexicon(config)
    found = []
    for cue in cues:
        starts = [0] + [i + 1 for i, char in enumerate(cue.text) if char == "\n"]
        for hit in words.find(cue.text, ""):
            found.append(Flagged(cue, hit.word, starts[hit.line - 1] + hit.column - 1))
    return found


def locate(words: Sequence[Flagged], recording: Path, sha: str, cache_dir: Path) -> tuple[list[Timed], list[Lost]]:
    """When each flagged word is said: from the transcript's word times, else aligned, else recognised."""
    timed, lost, by_cue = [], [], {}
    for word in words:
        found = from_transcript(word)
        if found is not None:
            timed.append(found)
        else:
            by_cue.setdefault(word.cue, []).append(word)
    for cue, group in by_cue.items():
        times = _cached(cache_dir, sha, cue, "aligned", lambda cue=cue: _align(recording, cue))
        how = "aligned"
        if times is None:
            times, how = (
                _cached(cache_dir, sha, cue, "recognised", lambda cue=cue: _recognise(recording, cue)),
                "recognised",
            )
        for word in group:
            found = _pick(word, times or [], how)
            if found is not None:
                timed.append(found)
            else:
                why = (
                    "its cue's text did not align with the audio, and the recogniser did not hear the word there"
                    if how == "recognised"
                    else "it is not in its cue's alignment"
                )
                lost.append(Lost(word.word, cue.start / 1000, why))
    return sorted(timed, key=lambda t: t.start), lost


def from_transcript(word: Flagged) -> Timed | None:
    """The word's time from its cue's inline timestamps: when its own word has one (the cue's start counts for the
    first word); it ends where the next timed word starts, or with the cue."""
    cue = word.cue
    marks = [(0, cue.start), *cue.timed] if not cue.timed or cue.timed[0][0] > 0 else list(cue.timed)
    if len(marks) < 2:
        return None
    token = _token_span(cue.text, word.offset)
    offsets = [offset for offset, _ in marks]
    at = bisect.bisect_right(offsets, word.offset) - 1
    if at < 0 or marks[at][0] < token[0]:
        return None  # no timestamp in its own word: the time of an earlier word says nothing
    later = bisect.bisect_left(offsets, token[1])
    end = marks[later][1] if later < len(marks) else cue.end
    return Timed(word.word, marks[at][1] / 1000, max(end, marks[at][1] + 1) / 1000, "transcript", cue.start / 1000)


def _token_span(text: str, offset: int) -> tuple[int, int]:
    start = offset
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    end = offset
    while end < len(text) and not text[end].isspace():
        end += 1
    return start, end


def tokens(text: str) -> list[tuple[str, int, int]]:
    """The cue's words as pocketsphinx spells them (lower case, numbers in words), each with its span in `text`."""
    found = []
    for match in _TOKEN.finditer(text.replace("\u2019", "'")):
        raw = match.group().lower().strip("'").replace("_", "")
        if not raw:
            continue
        for part in _number(raw) if raw.isdigit() else [raw]:
            found.append((part, match.start(), match.end()))
    return found


def _number(digits: str) -> list[str]:
    value = int(digits)
    if len(digits) > 4 or value >= 10000:
        return [_ONES[int(d)] for d in digits]
    words = []
    if value >= 1000:
        words += [_ONES[value // 1000], "thousand"]
        value %= 1000
    if value >= 100:
        words += [_ONES[value // 100], "hundred"]
        value %= 100
    if value >= 20:
        words.append(_TENS[value // 10])
        value %= 10
        if value:
            words.append(_ONES[value])
    elif value or not words:
        words.append(_ONES[value])
    return words


def spelled(word: str) -> str:
    """A rough ARPAbet pronunciation of a word the dictionary lacks."""
    phones, at, text = [], 0, re.sub(r"[^a-z]", "", word.lower())
    while at < len(text):
        if at and text[at] == text[at - 1]:
            at += 1  # doubled letters sound once
            continue
        for letters, sound in _GRAPHEMES:
            if text.startswith(letters, at):
                phones.append(sound)
                at += len(letters)
                break
    return " ".join(phones) or "AH"


def _stretch(recording: Path, cue: Cue) -> tuple[float, bytes]:
    start = max(0.0, cue.start / 1000 - MARGIN)
    proc = transcribe.decode(recording, start, cue.end / 1000 + MARGIN)
    pcm = proc.stdout.read()
    transcribe._finish(proc, recording)
    return start, pcm


def _align(recording: Path, cue: Cue) -> list[tuple[str, float, float]] | None:
    """Forced alignment of the cue's words to its stretch of audio: (word, start, end) per token, or None."""
    words = tokens(cue.text)
    if not words:
        return None
    aligner = transcribe.decoder(lm=None, **BEAMS)
    for index, (word, _, _) in enumerate(words):
        if aligner.lookup_word(word) is None:
            aligner.add_word(word, spelled(word), update=index == len(words) - 1)
    aligner.set_align_text(" ".join(word for word, _, _ in words))
    start, pcm = _stretch(recording, cue)
    aligner.start_utt()
    aligner.process_raw(pcm, full_utt=True)
    aligner.end_utt()
    said = [
        (transcribe._plain(s.word).lower(), s.start_frame, s.end_frame + 1)
        for s in aligner.seg() or ()
        if not transcribe._FILLER.match(s.word)
    ]
    if len(said) != len(words) or any(w != s[0] for (w, _, _), s in zip(words, said)):
        return None  # the search did not reach the end of the text: the text does not match this audio
    return [(word, start + a / 100, start + b / 100) for word, a, b in _snapped(said, pcm)]


def _snapped(said: list[tuple[str, int, int]], pcm: bytes) -> list[tuple[str, int, int]]:
    """Word boundaries (10 ms frames) moved out into the pauses around them while the sound goes on: the aligner's
    silence model takes in a word's quiet edges (a final "k", a breath of "h"), which a listener still hears."""
    import array
    import math

    samples = array.array("h", pcm[: len(pcm) // 2 * 2])
    frame = transcribe.RATE // 100
    level = [
        10 * math.log10(sum(v * v for v in samples[k * frame : (k + 1) * frame]) / frame + 1e-9)
        for k in range(len(samples) // frame)
    ]
    out = []
    for index, (word, a, b) in enumerate(said):
        low = said[index - 1][2] if index else 0
        high = said[index + 1][1] if index + 1 < len(said) else len(level)
        loudest = max(level[a:b], default=-90.0)

        def heard(k: int, low: int = low, top: int = min(high, len(level)), floor: float = loudest - EDGE_DB) -> bool:
            return low <= k < top and level[k] > floor

        while heard(a - 1):  # a word starts where its sound does: back through what is still heard, never a pause
            a -= 1
        while a < b - 1 and not heard(a) and level[a] <= loudest - EDGE_DB:  # nor in the pause before it
            a += 1
        while heard(b):
            b += 1
        # a final stop: a short closure of quiet, then a burst of at most BURST frames and quiet again ("fu-ck")
        burst = next((k for k in range(b, b + CLOSURE) if heard(k)), None)
        if burst is not None:
            end = burst
            while heard(end):
                end += 1
            if end - burst <= BURST and not (end < len(level) and level[end] > loudest - EDGE_DB):
                b = end
        out.append((word, a, b))
    return out


def _recognise(recording: Path, cue: Cue) -> list[tuple[str, float, float]]:
    """The recogniser's own words over the cue's stretch (the last resort)."""
    start, pcm = _stretch(recording, cue)
    recogniser = transcribe.decoder()
    recogniser.start_utt()
    recogniser.process_raw(pcm, full_utt=True)
    recogniser.end_utt()
    return [
        (transcribe._plain(s.word).lower(), start + s.start_frame / 100, start + (s.end_frame + 1) / 100)
        for s in recogniser.seg() or ()
        if not transcribe._FILLER.match(s.word)
    ]


def _pick(word: Flagged, times: list[tuple[str, float, float]], how: str) -> Timed | None:
    """The flagged word's time in an alignment (by its place among the cue's tokens) or among recognised words (by
    its spelling)."""
    cue = word.cue
    if how == "aligned":
        end = word.offset + max(1, len(word.word))
        # every token the word touches: "s.h.i.t" is four; "bullshit" is one (the audio has no finer boundary)
        touched = [i for i, (_, a, b) in enumerate(tokens(cue.text)) if a < end and word.offset < b and i < len(times)]
        if not touched:
            return None
        return Timed(word.word, round(times[touched[0]][1], 3), round(times[touched[-1]][2], 3), how, cue.start / 1000)
    wanted = word.word.lower()
    heard = [t for t in times if t[0] == wanted or (len(wanted) >= 4 and wanted in t[0])]
    if len(heard) != 1:
        return None  # not heard, or heard more than once: no way to tell which
    return Timed(word.word, round(heard[0][1], 3), round(heard[0][2], 3), how, cue.start / 1000)


def _cached(cache_dir: Path, sha: str, cue: Cue, how: str, make) -> list[tuple[str, float, float]] | None:
    """An alignment (or recognition) of a cue, kept by the recording's content and the cue's text and times."""
    key = hashlib.sha256(
        json.dumps([sha, cue.start, cue.end, cue.text, how, METHOD, transcribe._version("pocketsphinx")]).encode()
    ).hexdigest()[:32]
    record = cache_dir / "align" / f"{key}.json"
    try:
        data = json.loads(record.read_text())
        return None if data is None else [tuple(item) for item in data]
    except (OSError, ValueError, TypeError):
        pass
    made = make()
    record.parent.mkdir(parents=True, exist_ok=True)
    partial = record.with_suffix(f".{os.getpid()}.partial")
    partial.write_text(json.dumps(made))
    os.replace(partial, record)
    return made
