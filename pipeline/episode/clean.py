"""The clean edition (`[clean] edition`): an episode without its strong language, for the clean feed.

Every flagged word of the transcript (the strong-language scan, with the show's allow list) is found in the audio
(`align.py`: the transcript's word times, else alignment grown to the word's sound) and silenced or bleeped, with
short fades, in an encode made with the main master's own gain, chain and levelling (no measuring or simulating
again); its decoded output gets the same loudness check. The transcript, title, summary, notes and chapter titles are
masked. Nothing is assumed: the masked texts are scanned again, and the clean edition is listened to: in every
flagged word's window the decoded clean file must be at least 30 dB below the explicit one (a bleep's tone aside),
and `listen.py` hears what of the word is left beside its window (the rest of a stretch of sound the window cut;
the word itself, by the recogniser). What is still heard is silenced again (the window grown to the pause, or its
word aligned again when its transcript time was wrong) and encoded again, at most MAX_ENCODES in all; a word still
heard then holds the edition back, with the word and its time; the episode itself still publishes. Every flagged
word and what became of it (silenced, allowed, heard, unplaced) goes into the episode's record for review
(`panelpress check`). The clean audio is kept in the cache by the master and the windows.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .. import artefacts, layout
from ..audio import edit, mastering
from ..audio.ffmpeg import ffmpeg_version, halt_if_stopped
from ..config import AudioSettings, Config
from ..errors import CleanEditionError, ExplicitContentError, PanelpressError
from ..progress import Task
from ..records import (
    Alternate,
    Attachment,
    AudioInfo,
    Chapter,
    FlaggedWord,
    LoudnessReport,
    Mastered,
    Notes,
    Published,
    Soundbite,
)
from . import align, chapters, explicit, listen, tags, transcribe, transcript

METHOD = "clean-v1"
QUIETER = 30.0  # dB: a flagged word's window in the clean file, against the explicit one
SPEECH_FLOOR = -50.0  # dBFS: a flagged word's window in the explicit file holds at least this (else its time is wrong)
VERIFY_RATE = 16000  # Hz: both files decoded at this rate to compare them (the tone and speech's body are below 8 kHz)
MAX_ENCODES = 3  # the clean encode, and up to two more where listening to it found a word still heard
SNUG = 0.02  # s: silenced past a word's edge where it runs into its neighbour without a pause
TITLE = "Clean"  # what apps show to choose the edition (podcast:alternateEnclosure title)
# A clean edition's GUID is made from the episode's own: the same every time, so a plan is the same every time, and
# kept in the ledger once published (never made again from anything else).
GUID_NAMESPACE = uuid.UUID("5b1d3f1e-6f0a-4c55-9a57-2f7a1c3c0c1e")


@dataclass(frozen=True)
class Made:
    """What the clean stage made of an episode: its clean edition (None: not in the clean feed), a warning, the
    review of its flagged words, and why the edition was refused (held back), if it was."""

    item: Published | None
    alternate: Alternate | None = None
    warning: PanelpressError | None = None
    review: tuple[FlaggedWord, ...] = ()
    refused: CleanEditionError | None = None


@dataclass(frozen=True)
class Listened:
    """The clean edition as listened to at last: its windows (program seconds, one per located word, in order), what
    was still heard (by window), and which windows were moved or grown after listening."""

    windows: tuple[tuple[float, float, str], ...]
    heard: tuple[listen.Heard, ...] = ()
    moved: tuple[int, ...] = ()
    encodes: int = 0


@dataclass(frozen=True)
class Check:
    """One flagged word's window as measured on the decoded files (dBFS, mean square)."""

    word: str
    start: float  # program seconds
    end: float
    explicit: float
    clean: float  # the clean file's residue, the bleep's tone taken out
    tone: float


def guid(main: str) -> str:
    """The clean edition's GUID, made from the episode's."""
    return str(uuid.uuid5(GUID_NAMESPACE, main))


def mask(word: str) -> str:
    """A word masked whole: the scan reads `s***` as the word itself (it catches obfuscations), so no letter stays."""
    return "*" * len(word)


def masked(text: str, config: Config, markdown: bool = False) -> str:
    """`text` with every flagged word masked (`\\*` in Markdown, so no emphasis is made of it)."""
    words = explicit.lexicon(config)
    starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]
    spans = sorted({(starts[f.line - 1] + f.column - 1, len(f.word)) for f in words.find(text, "")})
    out, at = [], 0
    for offset, length in spans:
        if offset < at:
            continue
        out += [text[at:offset], ("\\*" if markdown else "*") * length]
        at = offset + length
    return "".join(out) + text[at:]


def make(
    config: Config,
    item: Published,
    info: AudioInfo,
    mastered: Mastered,
    tag_set: tags.TagSet,
    found: transcript.Transcript | None,
    sha: str,
    settings: AudioSettings,
    task: Task,
    fresh: bool = False,
) -> Made:
    """The clean edition of an episode (or why it has none), from what was mastered (`info`, `sha`) with the settings
    it was mastered with, and the review of its flagged words. An edition that cannot be made clean comes back as
    `refused` (a CleanEditionError), with the review still made."""
    notes = item.episode.notes
    cues = found.cues if found else ()
    in_text = list(explicit.scan_notes(notes, config)) + [
        hit for c in item.chapters for hit in explicit.scan(c.title, "", config)
    ]
    in_text += [hit for bite in item.soundbites for hit in explicit.scan(bite.title, "", config)]
    in_audio = align.flagged(cues, config)
    allowed = tuple(
        FlaggedWord(w.word, w.cue.start / 1000, w.cue.end / 1000, "allowed", note="in [explicit] allow_words")
        for w in align.flagged(cues, config, allowed=True)
    )
    if not in_text and not in_audio:
        if item.explicit:
            warning = ExplicitContentError(
                notes.path,
                "is explicit, but panelpress finds no strong language to remove in its notes or transcript: it is left out of the clean feed",
                "if it is clean, mark it `explicit: false`; if it needs words removed, list them under [explicit] extra_words",
            )
            return Made(None, warning=warning, review=allowed)
        return Made(replace(item, guid=guid(item.guid), alternates=()), review=allowed)  # clean as it is
    if found is None and item.explicit:
        raise CleanEditionError(
            notes.path,
            "is explicit but has no transcript: panelpress cannot find its strong language in the audio",
            "add a transcript beside the recording, or set [transcripts] make = true",
        )
    timed, lost = align.locate(in_audio, info.path, sha, config.cache_dir)
    if lost:
        where = found.path if found else notes.path
        words = "; ".join(
            f"{w.word!r} in the cue at {transcript.vtt_time(int(w.cue_start * 1000))}: {w.why}" for w in lost
        )
        review = _review(in_audio, timed, lost, None, mastered.offset) + allowed
        return Made(
            None,
            review=review,
            refused=CleanEditionError(
                where,
                f"the clean edition cannot silence {words}",
                "correct that cue's words or times, or give the word its time as an inline timestamp (`<00:01:02.500>shit`)",
            ),
        )
    timed = [t for t in timed if _window(t, mastered, config) is not None]  # the words the program holds
    windows = _windows(timed, mastered, config)
    relocate = _relocator(config, in_audio, timed, info.path, sha, mastered)
    try:
        clean_audio, listened = (
            _audio(config, info, sha, settings, mastered, windows, task, relocate, fresh)
            if timed
            else (mastered, Listened(tuple(windows)))
        )
    except CleanEditionError as err:
        held = getattr(err, "listened", None)
        return Made(None, review=_review(in_audio, timed, (), held, mastered.offset) + allowed, refused=err)
    review = _review(in_audio, timed, (), listened, mastered.offset) + allowed
    clean_cues = tuple(replace(c, text=masked(c.text, config)) for c in cues)
    clean_notes = replace(
        notes,
        title=masked(notes.title, config),
        summary=masked(notes.summary, config),
        body=masked(notes.body, config, markdown=True),
        passages=(),
    )
    marks = tuple(replace(c, title=masked(c.title, config)) for c in item.chapters)
    bites = tuple(replace(b, title=masked(b.title, config)) for b in item.soundbites)
    try:
        _recheck(config, clean_notes, clean_cues, marks, bites, found)
    except CleanEditionError as err:
        return Made(None, review=review, refused=err)
    made = _published(config, item, tag_set, clean_audio, clean_notes, clean_cues, marks, bites, found)
    return replace(made, review=review)


def _relocator(
    config: Config,
    words: Sequence[align.Flagged],
    timed: Sequence[align.Timed],
    recording: Path,
    sha: str,
    mastered: Mastered,
):
    """For a window the clean edition showed wrong (by its place in `timed`): its word aligned again, its
    transcript's time set aside (a time that came from alignment already has nothing better: None)."""

    def relocate(window: int) -> tuple[float, float, str] | None:
        old = timed[window] if window < len(timed) else None
        if old is None or old.how != "transcript":
            return None
        again, _ = align.locate([words[old.index]], recording, sha, config.cache_dir, transcript_times=False)
        return _window(again[0], mastered, config) if again else None

    return relocate


def _review(
    words: Sequence[align.Flagged],
    timed: Sequence[align.Timed],
    lost: Sequence[align.Lost],
    listened: Listened | None,
    offset: float,
) -> tuple[FlaggedWord, ...]:
    """The flagged words of the transcript for the host's review: when each is said and what became of it."""
    by_index = {t.index: t for t in timed}
    out = []
    for index, word in enumerate(words):
        at = by_index.get(index)
        if at is None:
            why = next((w.why for w in lost if w.index == index), "")
            out.append(FlaggedWord(word.word, word.cue.start / 1000, word.cue.end / 1000, "unplaced", note=why))
            continue
        if listened is None:
            out.append(FlaggedWord(word.word, at.start, at.end, "unchecked", at.how))
            continue
        spot = next((k for k, w in enumerate(timed) if w.index == index), None)
        state, note = "silenced", ""
        if spot is not None and spot < len(listened.windows):
            a, b, _ = listened.windows[spot]
            start, end = round(a - offset, 3), round(b - offset, 3)
            if spot in listened.moved:
                note = f"silenced again at {start:.2f}-{end:.2f} s after listening to the clean edition"
            heard = [h for h in listened.heard if h.index == spot]
            if heard:
                state = "heard"
                note = "; ".join(
                    f"{'the rest of its sound' if h.how == 'cut' else repr(h.word)} heard at {h.start - offset:.2f}-{h.end - offset:.2f} s"
                    for h in heard
                )
        out.append(FlaggedWord(word.word, at.start, at.end, state, at.how, note))
    return tuple(sorted(out, key=lambda w: w.start))


def _windows(timed: Sequence[align.Timed], mastered: Mastered, config: Config) -> list[tuple[float, float, str]]:
    """Each word's stretch on the published timeline, padded: (start, end, word); words outside it left out."""
    return [w for w in (_window(t, mastered, config) for t in timed) if w is not None]


def _window(word: align.Timed, mastered: Mastered, config: Config) -> tuple[float, float, str] | None:
    """A word's stretch on the published timeline, padded (None: outside the program)."""
    pad = config.clean.padding / 1000
    start = word.start + mastered.offset - _room(pad, word.before)
    end = word.end + mastered.offset + _room(pad, word.after)
    if end > 0 and start < mastered.duration:
        return round(max(0.0, start), 3), round(min(mastered.duration, end), 3), word.word
    return None


def _room(pad: float, quiet: float | None) -> float:
    """The padding on one side of a word: into the pause beside it, short of the next word's sound and its fade
    (so no other word is touched); SNUG where the word runs into its neighbour (the aligner's edge is a guess there);
    the whole padding where nothing is known of the pause (a time from the transcript)."""
    if quiet is None:
        return pad
    if quiet <= 0:
        return min(pad, SNUG)
    return min(pad, max(0.0, quiet - edit.EDIT_FADE))


def _merged(windows: Iterable[tuple[float, float, str]]) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for start, end, _ in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def _audio(
    config: Config,
    info: AudioInfo,
    sha: str,
    settings: AudioSettings,
    mastered: Mastered,
    windows: list[tuple[float, float, str]],
    task: Task,
    relocate=None,
    fresh: bool = False,
) -> tuple[Mastered, Listened]:
    """The clean audio, listened to (from the cache when it was made and listened to before, unless `fresh`);
    CleanEditionError (with `listened`, what was heard) when it cannot be made clean."""
    key = hashlib.sha256(
        json.dumps(
            [mastered.key, windows, config.clean.mode, METHOD, ffmpeg_version(), transcribe._version("pocketsphinx")]
        ).encode()
    ).hexdigest()[:32]
    shelf = artefacts.Shelf(config.cache_dir / "clean", f".{settings.format}")
    record = None if fresh else shelf.get(key)
    cached = mastering.from_record(shelf, key, record, offset=mastered.offset)
    if cached is not None:
        try:
            kept = Listened(tuple((a, b, w) for a, b, w in record["windows"]), moved=tuple(record["moved"]), encodes=0)
        except (KeyError, TypeError, ValueError):
            kept = None
        if kept is not None:
            return cached, kept
    if (
        mastering.decisions(mastered) is None
    ):  # mastered by an older panelpress: master again, keeping the decisions this time
        mastering.forget(mastered)
        mastered = mastering.master(info, settings, config.cache_dir, task, config.root, source_sha=sha)
    with shelf.make(key) as job:
        made, listened = silence(config, info, settings, mastered, windows, job.partial, job.work, task, relocate)
        loudness = made.loudness
        if settings.normalize and (
            abs(loudness.integrated - settings.loudness) > mastering.TOLERANCE
            or loudness.true_peak > settings.true_peak
        ):
            raise CleanEditionError(
                info.path,
                f"the clean edition's decoded output missed the show's loudness: {loudness.integrated:.1f} LUFS, true peak {loudness.true_peak:.1f} dBTP (it is encoded with the main master's gain)",
                'try [clean] mode = "bleep", or a smaller padding',
            )
        base = mastered.report
        report = LoudnessReport(
            input_i=base.input_i if base else 0.0,
            input_peak=base.input_peak if base else 0.0,
            input_lra=base.input_lra if base else 0.0,
            output_i=round(loudness.integrated, 2),
            output_tp=round(loudness.true_peak, 2),
            output_lra=round(loudness.lra, 2),
            gain=base.gain if base else 0.0,
            method=METHOD,
            passes=listened.encodes,
            timings=made_timings(made, listened.encodes),
            compressor_max=base.compressor_max if base else 0.0,
            compressor_p99=base.compressor_p99 if base else 0.0,
            limiter_max=base.limiter_max if base else 0.0,
            limiter_p99=base.limiter_p99 if base else 0.0,
        )
        job.record = {
            "duration": made.seconds,
            "report": {**asdict(report), "timings": [asdict(t) for t in report.timings]},
            "windows": [list(w) for w in listened.windows],
            "moved": list(listened.moved),
        }
    return Mastered(
        path=shelf.file(key), key=key, duration=made.seconds, report=report, offset=mastered.offset
    ), listened


def made_timings(made: mastering.Edition, encodes: int) -> tuple:
    """The clean encode's timing (the last of `encodes`), named as the report names it."""
    return (replace(made.time, name="clean" if encodes <= 1 else f"clean ({encodes} encodes)"),)


def silence(
    config: Config,
    info: AudioInfo,
    settings: AudioSettings,
    mastered: Mastered,
    windows: Sequence[tuple[float, float, str]],
    out: Path,
    work: Path,
    task: Task | None = None,
    relocate=None,
    spot: bool = True,
) -> tuple[mastering.Edition, Listened]:
    """Encode the clean edition with `windows` silenced, then listen to it (the level in each window, and
    `listen.listen`); where something of a word is still heard, grow or move its window and encode again, at most
    MAX_ENCODES in all. CleanEditionError (its `listened`: what was heard) when a word is still heard at the end."""
    bleep = config.clean.mode == "bleep"
    windows, moved, changed_now, spoken = list(windows), set(), None, []
    for encodes in range(1, MAX_ENCODES + 1):
        made = mastering.encode_edition(
            info,
            settings,
            mastered,
            _merged(windows),
            bleep,
            out,
            work,
            config.root,
            task("clean" if encodes == 1 else "clean again", mastered.duration) if task else None,
        )
        failed = [(i, c) for i, c in enumerate(verify(mastered.path, out, windows, bleep)) if not passes(c)]
        # the recogniser listens to every window once, then to those moved since: the rest sound as they did
        heard = listen.listen(mastered.path, out, windows, config, spot=spot, only=changed_now)
        if changed_now is not None:  # what the recogniser heard before in the windows it did not listen to again
            heard += [h for h in spoken if h.index not in changed_now]
        spoken = [h for h in heard if h.how == "spoken"]
        if not failed and not heard:
            return made, Listened(tuple(windows), (), tuple(sorted(moved)), encodes)
        changed_now = set()
        for index in sorted({i for i, _ in failed} | {h.index for h in heard if h.grow is None}):
            again = relocate(index) if relocate else None
            if again is not None and again != windows[index]:
                windows[index] = again
                changed_now.add(index)
        for h in heard:
            if h.grow is not None and h.index not in changed_now:
                a, b, word = windows[h.index]
                grown = (min(a, h.grow[0]), max(b, h.grow[1]), word)
                if grown != windows[h.index]:
                    windows[h.index] = grown
                    changed_now.add(h.index)
        moved |= changed_now
        if not changed_now or encodes == MAX_ENCODES:
            break
    offset = mastered.offset
    said = [_said(c, offset) for _, c in failed] + [_heard(h, windows, offset) for h in heard]
    error = CleanEditionError(
        info.path,
        "the clean edition keeps strong language: " + "; ".join(said),
        "correct the word's time in the transcript (an inline timestamp, `<00:01:02.500>shit`) or its cue's words, or raise [clean] padding",
    )
    error.listened = Listened(  # what the review of the words shows
        tuple(windows),
        tuple(heard) + tuple(listen.Heard(i, c.word, c.start, c.end, "level") for i, c in failed),
        tuple(sorted(moved)),
        encodes,
    )
    raise error


def _heard(h: listen.Heard, windows, offset: float) -> str:
    at = transcript.vtt_time(int(round((h.start - offset) * 1000)))
    word = windows[h.index][2]
    if h.how == "cut":
        return f"{word!r} at {at} (recording's time): the rest of its sound is still heard beside the silence"
    return f"{word!r} at {at} (recording's time): {h.word!r} is still heard there"


def _said(check: Check, offset: float) -> str:
    at = transcript.vtt_time(int(round((check.start - offset) * 1000)))
    if check.explicit <= SPEECH_FLOOR:
        return f"{check.word!r} at {at} (recording's time): the explicit edition is silent there ({check.explicit:.0f} dBFS), so the word is elsewhere"
    return f"{check.word!r} at {at} (recording's time): only {check.explicit - check.clean:.0f} dB quieter than the explicit edition (needs {QUIETER:.0f})"


def passes(check: Check) -> bool:
    """Whether a window is clean: speech there in the explicit edition, and at least QUIETER dB less in the clean one."""
    return check.explicit > SPEECH_FLOOR and check.clean <= check.explicit - QUIETER


def verify(
    explicit_file: Path, clean_file: Path, windows: Sequence[tuple[float, float, str]], tone: bool
) -> list[Check]:
    """Measure each window (program seconds) in both files as decoded: the explicit file's level, the clean file's
    residue (a bleep's tone fitted and taken out) and the tone's level."""
    proc = listen.decode_both(explicit_file, clean_file, VERIFY_RATE)
    order = sorted(range(len(windows)), key=lambda i: windows[i][0])
    spans = [(round(windows[i][0] * VERIFY_RATE), round(windows[i][1] * VERIFY_RATE)) for i in order]
    samples: dict[int, tuple[list[float], list[float]]] = {i: ([], []) for i in order}
    import array

    at, frame = 0, 8 * 4096  # bytes of 4096 two-channel samples
    first = 0
    while True:
        chunk = proc.stdout.read(frame)
        if not chunk:
            break
        values = array.array("f", chunk[: len(chunk) // 8 * 8])
        n = len(values) // 2
        while first < len(spans) and spans[first][1] <= at:
            first += 1
        for k in range(first, len(spans)):
            start, end = spans[k]
            if start >= at + n:
                break
            a, b = max(start, at) - at, min(end, at + n) - at
            if b > a:
                samples[order[k]][0].extend(values[2 * a : 2 * b : 2])
                samples[order[k]][1].extend(values[2 * a + 1 : 2 * b : 2])
        at += n
    error = proc.stderr.read().decode(errors="replace").strip()
    halt_if_stopped(proc.wait(), error, clean_file)
    if proc.returncode != 0:
        raise CleanEditionError(
            clean_file,
            f"ffmpeg could not decode the editions to verify them: {error.splitlines()[-1] if error else 'unknown error'}",
            "build again; if it persists, report it",
        )
    checks = []
    for index, (start, end, word) in enumerate(windows):
        explicit_values, clean_values = samples[index]
        level, residue, tone_level = _levels(explicit_values, clean_values, start, tone)
        checks.append(Check(word, start, end, level, residue, tone_level))
    return checks


def _levels(
    explicit_values: list[float], clean_values: list[float], start: float, tone: bool
) -> tuple[float, float, float]:
    """dBFS of the explicit window, of the clean window without the tone, and of the tone."""
    n = min(len(explicit_values), len(clean_values))
    if n == 0:
        return -math.inf, -math.inf, -math.inf
    power = sum(x * x for x in explicit_values[:n]) / n
    total = sum(x * x for x in clean_values[:n]) / n
    tone_power = 0.0
    if tone:  # least squares of a sine and a cosine at the tone's frequency: the window holds whole fades-free tone
        step = 2 * math.pi * edit.TONE_HZ / VERIFY_RATE
        phase = 2 * math.pi * edit.TONE_HZ * round(start * VERIFY_RATE) / VERIFY_RATE
        s = sum(x * math.sin(phase + step * k) for k, x in enumerate(clean_values[:n])) * 2 / n
        c = sum(x * math.cos(phase + step * k) for k, x in enumerate(clean_values[:n])) * 2 / n
        tone_power = (s * s + c * c) / 2
    residue = max(total - tone_power, 0.0)
    db = lambda p: 10 * math.log10(p) if p > 1e-20 else -200.0  # noqa: E731
    return db(power), db(residue), db(tone_power)


def _recheck(
    config: Config,
    notes: Notes,
    cues: Sequence[transcript.Cue],
    marks: Sequence[Chapter],
    bites: Sequence[Soundbite],
    found: transcript.Transcript | None,
) -> None:
    """The masked texts scanned again: any flagged word left refuses the edition, naming it and where it is."""
    left = []
    for cue in cues:
        left += [
            f"{hit.word!r} in the cue at {transcript.vtt_time(cue.start)}"
            for hit in explicit.scan(cue.text, "", config)
        ]
    for name, text in (("title", notes.title), ("summary", notes.summary), ("notes", notes.body)):
        left += [f"{hit.word!r} in the {name}" for hit in explicit.scan(text, "", config)]
    for mark in [*marks, *bites]:
        left += [f"{hit.word!r} in {mark.title!r}" for hit in explicit.scan(mark.title, "", config)]
    if left:
        raise CleanEditionError(
            found.path if found else notes.path,
            "the clean edition's text still has strong language: " + "; ".join(left[:12]),
            "report it: panelpress masks every word its scan finds",
        )


def _published(
    config: Config,
    item: Published,
    tag_set: tags.TagSet,
    clean_audio: Mastered,
    notes: Notes,
    cues,
    marks,
    bites,
    found,
) -> Made:
    """The clean edition as an episode of the clean feed, and as the main feed's alternate enclosure."""
    slug, fmt = item.episode.slug, config.audio.format
    path = layout.edition(slug, fmt, layout.CLEAN)
    clean_guid = guid(item.guid)
    values = replace(
        tag_set,
        title=notes.title,
        comment=notes.summary,
        guid=clean_guid,
        feed_url=layout.url(config.site_url, layout.CLEAN_FEED_FILE),
        duration_ms=int(clean_audio.duration * 1000),
        chapters=tuple(replace(c, title=masked(c.title, config)) for c in tag_set.chapters),
    )
    media = tags.tag(clean_audio, values, config.cache_dir, path.rsplit("/", 1)[-1])
    files: tuple[Attachment, ...] = tuple(
        a
        for a in item.attachments
        if a.mime not in (layout.VTT_TYPE, layout.SRT_TYPE, layout.TRANSCRIPT_JSON_TYPE, layout.CHAPTERS_TYPE)
    )
    if found is not None:
        cleaned = transcript.Transcript(found.path, tuple(cues))
        files += transcript.attachments(
            cleaned, slug, clean_audio.offset, clean_audio.duration, config.show.language, layout.CLEAN
        )
    if marks != item.chapters:
        files += chapters.publish(
            marks, notes.path.parent, slug, config.site_url, notes.title, config.show.title + " (Clean)", layout.CLEAN
        )
    else:
        files += tuple(a for a in item.attachments if a.mime == layout.CHAPTERS_TYPE)
    clean_item = replace(
        item,
        episode=replace(item.episode, notes=notes),
        media=media,
        guid=clean_guid,
        explicit=False,
        media_path=path,
        report=clean_audio.report,
        attachments=files,
        chapters=tuple(marks),
        alternates=(),
        soundbites=tuple(bites),
    )
    alternate = Alternate(
        path=path,
        mime=media.mime,
        length=media.length,
        bitrate=round(media.length * 8 / media.duration) if media.duration else 0,
        title=TITLE,
        sha256=media.sha256,
        content=media.path,
        rel=layout.CLEAN,
        duration=media.duration,
        report=clean_audio.report,
    )
    return Made(clean_item, alternate)
