"""The clean edition (`[clean] edition`): an episode without its strong language, for the clean feed.

Every flagged word of the transcript (the strong-language scan, with the show's allow list) is found in the audio
(`align.py`) and silenced or bleeped, with short fades, in a second encode made with the main master's own gain,
chain and levelling (no measuring or simulating again: one encode); its decoded output gets the same loudness check.
The transcript, title, summary, notes and chapter titles are masked. Nothing is assumed: the masked texts are scanned
again and must hold no flagged word, and in every flagged word's time window the decoded clean file must be at least
30 dB below the explicit one (a bleep's tone aside). An edition that fails either check is refused, with the word and
its time; the episode itself still publishes. The clean audio is kept in the cache by the master and the windows.
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .. import artefacts, layout
from ..audio import edit, mastering
from ..audio.ffmpeg import ffmpeg, ffmpeg_version, file_arg
from ..config import AudioSettings, Config
from ..errors import CleanEditionError, ExplicitContentError, PanelpressError
from ..progress import Task
from ..records import Alternate, Attachment, AudioInfo, Chapter, LoudnessReport, Mastered, Notes, Published, Soundbite
from . import align, chapters, explicit, tags, transcript

METHOD = "clean-v1"
QUIETER = 30.0  # dB: a flagged word's window in the clean file, against the explicit one
SPEECH_FLOOR = -50.0  # dBFS: a flagged word's window in the explicit file holds at least this (else its time is wrong)
VERIFY_RATE = 16000  # Hz: both files decoded at this rate to compare them (the tone and speech's body are below 8 kHz)
SNUG = 0.02  # s: silenced past a word's edge where it runs into its neighbour without a pause
TITLE = "Clean"  # what apps show to choose the edition (podcast:alternateEnclosure title)
# A clean edition's GUID is made from the episode's own: the same every time, so a plan is the same every time, and
# kept in the ledger once published (never made again from anything else).
GUID_NAMESPACE = uuid.UUID("5b1d3f1e-6f0a-4c55-9a57-2f7a1c3c0c1e")


@dataclass(frozen=True)
class Made:
    """What the clean stage made of an episode: its clean edition (None: not in the clean feed) and a warning."""

    item: Published | None
    alternate: Alternate | None = None
    warning: PanelpressError | None = None


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
    it was mastered with; CleanEditionError when it cannot be made clean."""
    notes = item.episode.notes
    cues = found.cues if found else ()
    in_text = list(explicit.scan_notes(notes, config)) + [
        hit for c in item.chapters for hit in explicit.scan(c.title, "", config)
    ]
    in_text += [hit for bite in item.soundbites for hit in explicit.scan(bite.title, "", config)]
    in_audio = align.flagged(cues, config)
    if not in_text and not in_audio:
        if item.explicit:
            warning = ExplicitContentError(
                notes.path,
                "is explicit, but panelpress finds no strong language to remove in its notes or transcript: it is left out of the clean feed",
                "if it is clean, mark it `explicit: false`; if it needs words removed, list them under [explicit] extra_words",
            )
            return Made(None, warning=warning)
        return Made(replace(item, guid=guid(item.guid), alternates=()))  # clean as it is
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
        raise CleanEditionError(
            where,
            f"the clean edition cannot silence {words}",
            "correct that cue's words or times, or give the word its time as an inline timestamp (`<00:01:02.500>shit`)",
        )
    windows = _windows(timed, mastered, config)
    clean_audio = _audio(config, info, sha, settings, mastered, windows, task, fresh) if timed else mastered
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
    _recheck(config, clean_notes, clean_cues, marks, bites, found)
    return _published(config, item, tag_set, clean_audio, clean_notes, clean_cues, marks, bites, found)


def _windows(timed: Sequence[align.Timed], mastered: Mastered, config: Config) -> list[tuple[float, float, str]]:
    """Each word's stretch on the published timeline, padded: (start, end, word)."""
    pad = config.clean.padding / 1000
    spans = []
    for word in timed:
        start = word.start + mastered.offset - _room(pad, word.before)
        end = word.end + mastered.offset + _room(pad, word.after)
        if end > 0 and start < mastered.duration:
            spans.append((round(max(0.0, start), 3), round(min(mastered.duration, end), 3), word.word))
    return spans


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
    fresh: bool = False,
) -> Mastered:
    """The clean audio (from the cache when it was made and verified before, unless `fresh`)."""
    bleep = config.clean.mode == "bleep"
    key = hashlib.sha256(
        json.dumps([mastered.key, windows, config.clean.mode, METHOD, ffmpeg_version()]).encode()
    ).hexdigest()[:32]
    shelf = artefacts.Shelf(config.cache_dir / "clean", f".{settings.format}")
    cached = None if fresh else mastering.from_record(shelf, key, shelf.get(key), offset=mastered.offset)
    if cached is not None:
        return cached
    if (
        mastering.decisions(mastered) is None
    ):  # mastered by an older panelpress: master again, keeping the decisions this time
        mastering.forget(mastered)
        mastered = mastering.master(info, settings, config.cache_dir, task, config.root, source_sha=sha)
    with shelf.make(key) as job:
        partial = job.partial
        made = mastering.encode_edition(
            info,
            settings,
            mastered,
            _merged(windows),
            bleep,
            partial,
            job.work,
            config.root,
            task("clean", mastered.duration),
        )
        loudness = made.loudness
        if settings.normalize and (
            abs(loudness.integrated - settings.loudness) > mastering.TOLERANCE
            or loudness.true_peak > settings.true_peak
        ):
            raise CleanEditionError(
                info.path,
                f"the clean edition's decoded output missed the show's loudness: {loudness.integrated:.1f} LUFS, true peak {loudness.true_peak:.1f} dBTP (it is encoded once, with the main master's gain)",
                'try [clean] mode = "bleep", or a smaller padding',
            )
        failed = [c for c in verify(mastered.path, partial, windows, bleep) if not passes(c)]
        if failed:
            raise CleanEditionError(
                info.path,
                "the clean edition keeps strong language: " + "; ".join(_said(c, mastered.offset) for c in failed),
                "correct the word's time in the transcript (an inline timestamp, `<00:01:02.500>shit`), or raise [clean] padding",
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
            passes=1,
            timings=(replace(made.time, name="clean"),),
            compressor_max=base.compressor_max if base else 0.0,
            compressor_p99=base.compressor_p99 if base else 0.0,
            limiter_max=base.limiter_max if base else 0.0,
            limiter_p99=base.limiter_p99 if base else 0.0,
        )
        job.record = {
            "duration": made.seconds,
            "report": {**asdict(report), "timings": [asdict(t) for t in report.timings]},
        }
    return Mastered(path=shelf.file(key), key=key, duration=made.seconds, report=report, offset=mastered.offset)


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
    graph = f"[0:a]aformat=sample_fmts=flt:sample_rates={VERIFY_RATE}:channel_layouts=mono[a];[1:a]aformat=sample_fmts=flt:sample_rates={VERIFY_RATE}:channel_layouts=mono[b];[a][b]amerge=inputs=2[o]"
    command = [
        ffmpeg(),
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-i",
        file_arg(explicit_file),
        "-i",
        file_arg(clean_file),
        "-filter_complex",
        graph,
        "-map",
        "[o]",
        "-f",
        "f32le",
        "-",
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
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
    if proc.wait() != 0:
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
