"""Word times of strong language: where, in the recording, each flagged word of a transcript is said.

Three sources, in this order: the transcript's own word times (WebVTT inline timestamps, which made transcripts
carry); else forced alignment of the cue's text to its stretch of the recording with pocketsphinx (only the cues
that hold a flagged word are aligned); else the recogniser's own words over that stretch. An aligned word is then
grown to the sound it belongs to (`_refined`): the stretch's level in 2.5 ms hops is parted into stretches of sound
by pauses (`islands`), and a word takes in what its alignment touches up to the pause, gives back a neighbour's edge,
takes back its own tail or first syllable that the aligner gave a neighbour or called silence. Each word says how
much quiet lies beside it, so the clean edition pads into pauses, never into the next word. The strong-language scan
(`explicit.py`, with the show's allow list) decides which words. Alignments are cached by the recording's content
and the cue, so an episode made again aligns nothing.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..config import Config
from . import explicit, transcribe
from .transcript import Cue

METHOD = "align-v2"
MARGIN = 0.25  # s of audio around a cue: hosts' cue times are rarely exact
HINT = 0.1  # s: an aligned word this close to its transcript time is that word (its edges are taken)
HOP = 40  # samples (2.5 ms): the step of the level that finds where sound stops, fine enough for a 5 ms pause
PAUSE = 2  # hops: the shortest quiet that parts two stretches of sound
FLOOR_DB, EDGE_DB, SPAN_DB = 8.0, 6.0, 50.0  # sound: above the noise floor by these, and within SPAN_DB of the loudest
DEEP_DB = 3.0  # a pause between two stretches of sound goes down to within this of the floor
QUIET_HOPS = 40  # hops of the aligner's silence (100 ms) enough to take the floor from
REACH = 0.15  # s: how far past the aligner's edge a word may grow to meet the pause that ends its sound
LOST_REACH = 0.5  # s: the same where the alignment called sound silence within LOST_NEAR of the word
LOST_NEAR = 1.0  # s
LOUD_DB = 25.0  # speech, not a breath or a room's echo: within this of the loudest
TAILS = 4  # pieces of a fading tail taken back from the next word, at most
CLOSURE, BURST = 0.10, 0.06  # s: a stop consonant's closure (quiet up to 100 ms) and its release (up to 60 ms)
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
    before: float | None = None  # s of quiet before it (0: it runs into the word before; None: not known)
    after: float | None = None  # s of quiet after it
    index: int = -1  # its place in the list of flagged words it was located from


@dataclass(frozen=True)
class Lost:
    """A flagged word no source could place in the audio."""

    word: str
    cue_start: float
    why: str
    index: int = -1


def flagged(cues: Iterable[Cue], config: Config, allowed: bool = False) -> list[Flagged]:
    """Every word of strong language in the cues, by the show's lexicon (its extra and allowed words; `allowed`:
    instead, the words its allow list keeps)."""
    words = explicit.lexicon(config)
    found = []
    for cue in cues:
        starts = [0] + [i + 1 for i, char in enumerate(cue.text) if char == "\n"]
        for hit in words.find(cue.text, "", allowed=allowed):
            found.append(Flagged(cue, hit.word, starts[hit.line - 1] + hit.column - 1))
    return found


def locate(
    words: Sequence[Flagged], recording: Path, sha: str, cache_dir: Path, transcript_times: bool = True
) -> tuple[list[Timed], list[Lost]]:
    """When each flagged word is said: aligned (its cue's text to its stretch, the word grown to its sound), else
    recognised. A word with a time of its own in the transcript (an inline timestamp) keeps that time unless its
    alignment agrees with it (overlaps it, HINT on each side): then the alignment's edges, found in the sound, are
    taken (a made transcript's word times, Whisper's, can be a syllable off). Not `transcript_times`: the
    transcript's times set aside (a time the clean edition showed wrong). Each carries its index in `words`."""
    timed, lost, by_cue, hinted = [], [], {}, {}
    for index, word in enumerate(words):
        found = from_transcript(word) if transcript_times else None
        if found is not None:
            hinted[index] = replace(found, index=index)
        by_cue.setdefault(word.cue, []).append((index, word))
    for cue, group in by_cue.items():
        times = _cached(cache_dir, sha, cue, "aligned", lambda cue=cue: _align(recording, cue))
        how = "aligned"
        if times is None and any(index not in hinted for index, _ in group):
            times, how = (
                _cached(cache_dir, sha, cue, "recognised", lambda cue=cue: _recognise(recording, cue)),
                "recognised",
            )
        for index, word in group:
            found = _pick(word, times or [], how)
            hint = hinted.get(index)
            if hint is not None:
                agrees = found is not None and how == "aligned" and _near(found, hint)
                timed.append(replace(found, index=index) if agrees else hint)
            elif found is not None:
                timed.append(replace(found, index=index))
            else:
                why = (
                    "its cue's text did not align with the audio, and the recogniser did not hear the word there"
                    if how == "recognised"
                    else "it is not in its cue's alignment"
                )
                lost.append(Lost(word.word, cue.start / 1000, why, index))
    return sorted(timed, key=lambda t: t.start), lost


def _near(found: Timed, hint: Timed) -> bool:
    """Whether an aligned word and a transcript's time for it are the same word said: they overlap, HINT aside."""
    return found.start < hint.end + HINT and found.end > hint.start - HINT


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


def _align(recording: Path, cue: Cue) -> list[tuple[str, float, float, float, float]] | None:
    """Forced alignment of the cue's words to its stretch of audio: (word, start, end, quiet before, quiet after)
    per token (`_refined`), or None."""
    found = aligned(recording, cue)
    if found is None:
        return None
    start, pcm, said = found
    return [(word, start + a, start + b, before, after) for word, a, b, before, after in _refined(said, pcm)]


def aligned(recording: Path, cue: Cue) -> tuple[float, bytes, list[tuple[str, int, int]]] | None:
    """The aligner's own answer for a cue: where its stretch starts (s), the stretch (16 kHz, 16-bit), and each word
    and pause (`<sil>`) in 10 ms frames of it; None when the text does not match the audio."""
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
        (
            "<sil>" if transcribe._FILLER.match(s.word) else transcribe._plain(s.word).lower(),
            s.start_frame,
            s.end_frame + 1,
        )
        for s in aligner.seg() or ()
    ]
    spoken = [s for s in said if s[0] != "<sil>"]
    if len(spoken) != len(words) or any(w != s[0] for (w, _, _), s in zip(words, spoken)):
        return None  # the search did not reach the end of the text: the text does not match this audio
    return start, pcm, said


def levels(pcm: bytes) -> list[float]:
    """The level of 16 kHz 16-bit audio, dBFS (mean square) per HOP samples."""
    import array
    import math

    samples = array.array("h", pcm[: len(pcm) // 2 * 2])
    return [
        10 * math.log10(sum(v * v for v in samples[k : k + HOP]) / HOP / 32768**2 + 1e-12)
        for k in range(0, len(samples) - HOP + 1, HOP)
    ]


def thresholds(level: Sequence[float], quiet: Sequence[float] = ()) -> tuple[float, float, float]:
    """The levels (dBFS) of a piece of audio: its floor, where a hop may hold sound (floor + EDGE_DB: a word's quiet
    edges and tails) and where it surely does (+ FLOOR_DB), neither more than SPAN_DB under its loudest. The floor:
    the level of its pauses (`quiet`: the hops the aligner called silence, when there are enough), else of its
    quietest hops."""
    ranked = sorted(level)
    loudest = ranked[-1 - len(ranked) // 100]
    floor = sorted(quiet)[len(quiet) // 5] if len(quiet) >= QUIET_HOPS else ranked[len(ranked) // 50]
    return floor, max(floor + EDGE_DB, loudest - SPAN_DB), max(floor + FLOOR_DB, loudest - SPAN_DB)


def islands(level: Sequence[float], quiet: Sequence[float] = ()) -> list[tuple[int, int]]:
    """The stretches of sound (in hops) of a piece of audio: runs of hops above its lower threshold that reach its
    upper one somewhere, parted by pauses: quiet of at least PAUSE hops that goes down to within DEEP_DB of the floor
    (`thresholds`). A word's fluttering tail and the dips inside words run together stay one stretch; the noise's own
    flutter is no sound. A word said alone is one or two (a stop's closure parts "fu-ck"); words run together are
    one."""
    if not level:
        return []
    floor, low, high = thresholds(level, quiet)
    found: list[list] = []
    quiet, deepest = 0, math.inf
    for k, value in enumerate(level):
        if value <= low:
            quiet, deepest = quiet + 1, min(deepest, value)
            continue
        if found and (quiet < PAUSE or deepest > floor + DEEP_DB):
            found[-1][1] = k + 1
            found[-1][2] = found[-1][2] or value > high
        else:
            found.append([k, k + 1, value > high])
        quiet, deepest = 0, math.inf
    return [(a, b) for a, b, sure in found if sure]


def _refined(said: list[tuple[str, int, int]], pcm: bytes) -> list[tuple[str, float, float, float, float]]:
    """Each aligned word (10 ms frames) grown to the sound it belongs to: the aligner's silence model takes in a word's
    quiet edges (a final "k", a breath of "h"), and between words with short pauses it gives a word's first or last
    syllable to its neighbour. A word takes in the stretches of sound its alignment touches, as far as the pause
    that ends them, when that pause is within REACH of the aligner's edge (further, LOST_REACH, when the alignment
    called sound silence: it lost its place there), and a stop's burst after a short closure. Returns (word, start,
    end, quiet before, quiet after) in seconds of the stretch: the quiet is the pause beside the word (0: it runs
    into its neighbour)."""
    level = levels(pcm)
    scale = transcribe.RATE // HOP // 100  # hops per frame
    quiet = [value for word, a, b in said if word == "<sil>" for value in level[a * scale : b * scale]]
    parts = islands(level, quiet)
    loud = sorted(level)[-1 - len(level) // 100] - LOUD_DB if level else 0.0
    lost = [  # where the alignment called speech silence: it lost its place around there
        (a * scale, b * scale)
        for word, a, b in said
        if word == "<sil>" and sum(value > loud for value in level[a * scale : b * scale]) * HOP / 16000 >= 0.06
    ]
    near = round(LOST_NEAR * 16000 / HOP)
    spoken = [(word, a * scale, b * scale) for word, a, b in said if word != "<sil>"]
    beside = _beside(said, scale)
    out = []
    for index, (word, start, end) in enumerate(spoken):
        astray = any(a < end + near and b > start - near for a, b in lost)
        reach = round((LOST_REACH if astray else REACH) * 16000 / HOP)
        touched = [(x, y) for x, y in parts if x < end and y > start]
        # a neighbour's sound the aligner gave this word a little of: the word starts (ends) at the pause after it
        before_word = spoken[index - 1] if index else None
        after_word = spoken[index + 1] if index + 1 < len(spoken) else None
        if len(touched) > 1 and _grazed(touched[0], start, end, reach, before_word):
            touched.pop(0)
            start = touched[0][0]
        if len(touched) > 1 and _grazed(touched[-1], start, end, reach, after_word):
            touched.pop()
            end = touched[-1][1]
        if touched:
            if start - touched[0][0] <= reach:
                start = min(start, touched[0][0])
            if touched[-1][1] - end <= reach:
                end = max(end, touched[-1][1])
        burst = next((p for p in parts if end <= p[0] < end + CLOSURE * 16000 // HOP), None)
        if burst is not None and burst[1] - burst[0] <= BURST * 16000 // HOP and burst[0] > end:
            later = next((p for p in parts if p[0] >= burst[1]), None)
            if later is None or later[0] - burst[1] >= PAUSE:
                end = burst[1]
        # the aligner gave a neighbour two stretches of sound, the nearer one short and just past a short pause from
        # this word: it is this word's tail (an "-er" that fades) or its start
        for _ in range(TAILS):
            tail = _extra(parts, after_word, end, first=True)
            if tail is None or not 0 <= tail[0] - end <= CLOSURE * 16000 // HOP:
                break
            end = tail[1]
        # speech the aligner called silence right beside the word (a whole stretch of sound inside that silence): the
        # word's own, which the aligner did not find there
        far = round(LOST_REACH * 16000 / HOP)
        for a, b in lost:
            held = [(x, y) for x, y in parts if (min(y, b) - max(x, a)) * 3 >= (y - x) * 2]
            if held and (a, b) == beside[index][0] and start - held[0][0] <= far:
                start = min(start, held[0][0])
            if held and (a, b) == beside[index][1] and held[-1][1] - end <= far:
                end = max(end, held[-1][1])
        inside = any(x < start < y for x, y in parts), any(x < end < y for x, y in parts)
        before = 0 if inside[0] else start - max((y for x, y in parts if y <= start), default=0)
        after = 0 if inside[1] else min((x for x, y in parts if x >= end), default=len(level)) - end
        out.append((word, start * HOP / 16000, end * HOP / 16000, before * HOP / 16000, after * HOP / 16000))
    return out


def _beside(
    said: list[tuple[str, int, int]], scale: int
) -> list[tuple[tuple[int, int] | None, tuple[int, int] | None]]:
    """For each word of an alignment, the silences (in hops) right before and right after it (None: a word there)."""
    out = []
    for position, (word, _, _) in enumerate(said):
        if word == "<sil>":
            continue
        sides = []
        for other in (position - 1, position + 1):
            pause = said[other] if 0 <= other < len(said) and said[other][0] == "<sil>" else None
            sides.append((pause[1] * scale, pause[2] * scale) if pause else None)
        out.append((sides[0], sides[1]))
    return out


def _extra(parts: list[tuple[int, int]], word: tuple | None, edge: int, first: bool) -> tuple[int, int] | None:
    """A neighbour's first (last) stretch of sound past `edge` when its alignment touches more than one there and
    that one is shorter than its longest (at most REACH long) and nearer to `edge` than to that longest: a piece of
    the word beside it, the likelier owner."""
    if word is None:
        return None
    touched = [(x, y) for x, y in parts if x < word[2] and y > word[1] and (x >= edge if first else y <= edge)]
    if len(touched) < 2:
        return None
    near = touched[0] if first else touched[-1]
    other = max(touched, key=lambda part: part[1] - part[0])  # the neighbour's own
    short = near[1] - near[0]
    closer = near[0] - edge < other[0] - near[1] if first else edge - near[1] < near[0] - other[1]
    return near if closer and short < other[1] - other[0] and short * HOP / 16000 <= REACH else None


def _grazed(part: tuple[int, int], start: int, end: int, reach: int, neighbour: tuple | None) -> bool:
    """Whether a word's span (hops) takes in only an edge of a stretch of sound that is its neighbour's: a little of
    it, less than a third, and the neighbour's alignment has more than half of it."""
    if neighbour is None:
        return False
    inside = min(part[1], end) - max(part[0], start)
    theirs = min(part[1], neighbour[2]) - max(part[0], neighbour[1])
    return 0 < inside <= reach and inside * 3 < part[1] - part[0] and theirs * 2 > part[1] - part[0]


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
        first, last = times[touched[0]], times[touched[-1]]
        return Timed(
            word.word,
            round(first[1], 3),
            round(last[2], 3),
            how,
            cue.start / 1000,
            round(first[3], 3) if len(first) > 3 else None,
            round(last[4], 3) if len(last) > 4 else None,
        )
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
