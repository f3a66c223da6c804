"""Transcripts: a host's `<slug>.vtt` or `<slug>.srt` → validated cues → VTT, SRT and JSON to publish.

The parser is strict and small on purpose: every problem names the file, the line and the fix.
Times are whole milliseconds, so converting between formats never drifts.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .. import inputs, layout
from ..config import Config
from ..errors import TranscriptError
from ..records import Attachment

SUFFIXES = (".vtt", ".srt")
# A transcription tool may let the last cue run a little past the end of the audio.
TOLERANCE_MS = 2000

JSON_VERSION = "1.0.0"

_VTT_TIME = re.compile(r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})")
_SRT_TIME = re.compile(r"(\d{1,}):([0-5]\d):([0-5]\d),(\d{3})")
_ARROW = re.compile(r"[ \t]+-->[ \t]+")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)*(?:[ \t]+([^>]*))?>")
_TAG = re.compile(r"<[^>]*>")
_INLINE_TIME = re.compile(r"<((?:\d{2,}:)?[0-5]\d:[0-5]\d\.\d{3})>")
# SubRip knows only these tags (and no entities): anything else in its text is the host's text.
_SRT_TAG = re.compile(r"</?(?:b|i|u|font)(?:[ \t][^>]*)?>", re.IGNORECASE)
_SRT_SPEAKER = re.compile(r"([^:\n]{1,60}):[ \t]+(.*)", re.DOTALL)
# A draft's marker: a NOTE line `draft: true` (what panelpress writes at the top of a transcript it makes), or the
# note of a draft made before drafts were marked ("made by panelpress with …: a draft").
_DRAFT = re.compile(r"(?:NOTE[ \t]+)?draft:[ \t]*(?:true|yes)\b", re.IGNORECASE)
_OLD_DRAFT = re.compile(r"NOTE[ \t]+made by panelpress with .*: a draft\.")
_VTT_FIX = "write it as HH:MM:SS.mmm, e.g. 00:01:05.250"
_SRT_FIX = "write it as HH:MM:SS,mmm, e.g. 00:01:05,250"


@dataclass(frozen=True)
class Cue:
    """One timed piece of the transcript."""

    start: int  # milliseconds
    end: int
    text: str  # plain text; lines joined with "\n"
    speaker: str = ""
    line: int = 0  # of the timing line in the source file (0: made, not read)
    # Word times the file gives (WebVTT inline timestamps `<00:01:02.500>`): (offset in `text`, milliseconds) of the
    # text that starts there, in order.
    timed: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Transcript:
    """A host's transcript file, read and validated."""

    path: Path
    cues: tuple[Cue, ...]
    draft: int = 0  # the line of its `draft: true` note: made by panelpress and not yet reviewed (0: not a draft)


def _dropped(config: Config, slug: str) -> list[tuple[Path, inputs.Refused | None]]:
    """The transcript files a host dropped for an episode, each with why it may not be used (None: it may)."""
    found = []
    for path in (
        folder / f"{slug}{suffix}" for folder in (config.episodes_dir, config.notes_dir) for suffix in SUFFIXES
    ):
        try:
            if inputs.optional_file(config.root, path) is not None:
                found.append((path, None))
        except inputs.Refused as err:
            found.append((path, err))
    return found


def sources(config: Config, slug: str) -> list[Path]:
    """The transcript files a host dropped for an episode (next to the recording or in show_notes/) that may be read."""
    return [path for path, refused in _dropped(config, slug) if refused is None]


def source(config: Config, slug: str) -> Path | None:
    """The one transcript file of an episode, if any; two are an error (which one would win?), and so is one that
    leads outside the show folder."""
    refused = [(path, why) for path, why in _dropped(config, slug) if why is not None]
    if refused:
        path, why = refused[0]
        raise TranscriptError(path, why.problem, why.fix)
    found = sources(config, slug)
    if len(found) > 1:
        names = ", ".join(str(p.relative_to(config.root)) for p in found)
        raise TranscriptError(
            found[0], f"episode {slug!r} has {len(found)} transcripts ({names})", "keep one and remove the others"
        )
    return found[0] if found else None


def read(path: Path, duration: float, speakers: Iterable[str] = (), text: str | None = None) -> Transcript:
    """Read and validate a transcript against the recording's duration; raise its first problem. `text`: the
    file's content, when it is not written yet (a draft made by this build)."""
    transcript, problems = check(path, duration, speakers, text)
    if problems:
        first = problems[0]
        more = (
            f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''}: run `panelpress check`)"
            if len(problems) > 1
            else ""
        )
        error = TranscriptError(first.path, first.problem + more, first.fix)  # the problem already names the line
        error.line = first.line
        raise error
    return transcript


def check(
    path: Path, duration: float | None, speakers: Iterable[str] = (), text: str | None = None
) -> tuple[Transcript, list[TranscriptError]]:
    """Every problem of a transcript file (or of `text`, its content when not yet written); `duration` (seconds)
    bounds the cues when known."""
    if text is None:
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            return Transcript(path, ()), [TranscriptError(path, "is not UTF-8 text", "save the transcript as UTF-8")]
    kind = path.suffix.lower()
    text, unsafe = _safe_text(path, text)
    cues, problems = parse(text, kind, path, speakers)
    problems = sorted(unsafe + problems + timeline_problems(path, cues, duration), key=lambda p: p.line)
    if not cues and not problems:
        problems.append(TranscriptError(path, "holds no cues", "export the transcript again, or remove the file"))
    draft = draft_line(text) if kind == ".vtt" else 0
    return Transcript(path, tuple(c for c in cues if c.text), draft), problems


def draft_line(text: str) -> int:
    """The line of a WebVTT file's draft marker (a `NOTE` block saying `draft: true`), or 0 when it has none."""
    lines = text.lstrip("\ufeff").splitlines()
    in_note = False
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            in_note = False
            continue
        if re.match(r"NOTE([ \t]|$)", line):
            in_note = True
        if in_note and (_DRAFT.match(line.strip()) or _OLD_DRAFT.match(line)):
            return number
        if "-->" in line:
            in_note = False
    return 0


def _safe_text(path: Path, text: str) -> tuple[str, list[TranscriptError]]:
    """The transcript's text with Word's vertical tabs and form feeds made spaces; any other character XML cannot
    carry is a problem of its line (a transcript is held back, not its episode)."""
    text, _ = inputs.without_spaces(text)
    problems, seen = [], set()
    for bad in inputs.ILLEGAL.finditer(text):
        line = text.count("\n", 0, bad.start()) + 1
        if line not in seen:
            seen.add(line)
            problems.append(
                TranscriptError(
                    path,
                    f"holds {inputs.describe(bad.group())}, which a feed cannot carry",
                    "delete it (retype the line if you pasted it)",
                    line=line,
                )
            )
    return text, problems


def parse(text: str, kind: str, path: Path, speakers: Iterable[str] = ()) -> tuple[list[Cue], list[TranscriptError]]:
    """Parse VTT (`kind` ".vtt") or SRT (".srt") text into cues, with every syntax problem found."""
    lines = text.lstrip("\ufeff").splitlines()
    if kind == ".vtt":
        return _parse_vtt(lines, path)
    return _parse_srt(lines, path, tuple(speakers))


def _blocks(lines: Sequence[str], first: int = 0) -> Iterable[tuple[int, list[str]]]:
    """Blocks of non-blank lines, each with the 1-based number of its first line."""
    block: list[str] = []
    start = 0
    for number, line in enumerate(lines[first:], start=first + 1):
        if line.strip():
            if not block:
                start = number
            block.append(line)
        elif block:
            yield start, block
            block = []
    if block:
        yield start, block


def _time(value: str, pattern: re.Pattern, path: Path, number: int, fix: str) -> int | TranscriptError:
    match = pattern.fullmatch(value)
    if not match:
        return TranscriptError(path, f"{value!r} is not a timestamp", fix, line=number)
    hours, minutes, seconds, millis = (int(group or 0) for group in match.groups())
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis


def _timing(line: str, pattern: re.Pattern, path: Path, number: int, fix: str) -> tuple[int, int] | TranscriptError:
    parts = _ARROW.split(line.strip(), maxsplit=1)
    if len(parts) != 2:
        return TranscriptError(
            path,
            f"{line.strip()!r} is not a cue timing line",
            f"write it as `start --> end` with spaces around the arrow; {fix}",
            line=number,
        )
    start_text = parts[0]
    end_text = parts[1].split(None, 1)[0] if parts[1].strip() else ""  # VTT cue settings may follow the end
    times = [_time(value, pattern, path, number, fix) for value in (start_text, end_text)]
    for value in times:
        if isinstance(value, TranscriptError):
            return value
    return times[0], times[1]


def _parse_vtt(lines: list[str], path: Path) -> tuple[list[Cue], list[TranscriptError]]:
    if not lines or not re.fullmatch(r"WEBVTT([ \t].*)?", lines[0]):
        return [], [
            TranscriptError(
                path,
                "a WebVTT file must start with `WEBVTT`",
                "add a first line `WEBVTT`, or rename an SRT file to .srt",
                line=1,
            )
        ]
    cues, problems = [], []
    header_end = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    for number, block in _blocks(lines, header_end):
        head = block[0]
        if re.match(r"(NOTE|STYLE|REGION)([ \t]|$)", head):
            continue
        timing_at = 0 if "-->" in head else 1  # an optional cue identifier comes first
        if timing_at >= len(block) or "-->" not in block[timing_at]:
            problems.append(
                TranscriptError(
                    path,
                    f"{head.strip()!r} is not part of a cue",
                    "start each cue with a timing line such as `00:00:01.000 --> 00:00:04.000`; a blank line ends a cue's text",
                    line=number,
                )
            )
            continue
        timing = _timing(block[timing_at], _VTT_TIME, path, number + timing_at, _VTT_FIX)
        if isinstance(timing, TranscriptError):
            problems.append(timing)
            continue
        payload = block[timing_at + 1 :]
        stray = next((i for i, line in enumerate(payload) if "-->" in line), None)
        if stray is not None:
            at = number + timing_at + 1 + stray
            problems.append(
                TranscriptError(
                    path, "cue text contains '-->'", "put a blank line before each cue's timing line", line=at
                )
            )
            continue
        speaker, text = _vtt_text(payload)
        timed = _inline_times(payload, text, timing)
        cues.append(
            Cue(start=timing[0], end=timing[1], text=text, speaker=speaker, line=number + timing_at, timed=timed)
        )
    return cues, problems


def _vtt_text(payload: list[str]) -> tuple[str, str]:
    """The cue's speaker (its first voice span) and its text without markup."""
    raw = "\n".join(payload)
    voice = _VOICE.search(raw)
    speaker = inputs.clean(html.unescape(voice.group(1) or "")).strip() if voice else ""
    text = "\n".join(
        inputs.clean(html.unescape(_TAG.sub("", line))).strip() for line in payload
    )  # "&#12;" is a form feed
    return speaker, text.strip()


def _inline_times(payload: list[str], text: str, timing: tuple[int, int]) -> tuple[tuple[int, int], ...]:
    """The cue's inline timestamps as (offset in its plain text, ms); those outside the cue or out of order are
    ignored (a player ignores them too)."""
    if "<" not in "".join(payload) or not _INLINE_TIME.search("".join(payload)):
        return ()
    plain, marks = [], []
    for _number, line in enumerate(payload):
        pieces, lead = _TAG.split(line), None
        tags = _TAG.findall(line)
        kept = ""
        for index, piece in enumerate(pieces):
            piece = inputs.clean(html.unescape(piece))
            if lead is None:  # the line is stripped: its leading blanks are not in the text
                stripped = piece.lstrip()
                if stripped:
                    lead = True
                piece = stripped
            kept += piece
            if index < len(tags):
                found = _INLINE_TIME.fullmatch(tags[index])
                if found:
                    marks.append(
                        (sum(len(p) + 1 for p in plain) + len(kept), _time(found.group(1), _VTT_TIME, Path(), 0, ""))
                    )
        plain.append(kept.rstrip())
    joined = "\n".join(plain)
    shift = len(joined) - len(joined.lstrip())
    found, last = [], timing[0]
    for offset, ms in marks:
        offset = min(max(0, offset - shift), len(text))
        if isinstance(ms, int) and timing[0] <= ms <= timing[1] and ms >= last:
            found.append((offset, ms))
            last = ms
    return tuple(found)


def _parse_srt(lines: list[str], path: Path, speakers: tuple[str, ...]) -> tuple[list[Cue], list[TranscriptError]]:
    known = {name.casefold() for name in speakers} | {name.split()[0].casefold() for name in speakers if name.split()}
    cues, problems = [], []
    current = ""  # a speaker's name starts a new card when the speaker changes, then carries on
    for number, block in _blocks(lines):
        if not block[0].strip().isdigit() or len(block) < 2 or "-->" not in block[1]:
            problems.append(
                TranscriptError(
                    path,
                    "expected a cue number, then a timing line",
                    "write each cue as a number, `00:00:01,000 --> 00:00:04,000`, its text, then one blank line; a blank line ends a cue's text",
                    line=number,
                )
            )
            continue
        timing = _timing(block[1], _SRT_TIME, path, number + 1, _SRT_FIX)
        if isinstance(timing, TranscriptError):
            problems.append(timing)
            continue
        text = "\n".join(_SRT_TAG.sub("", line).strip() for line in block[2:]).strip()
        match = _SRT_SPEAKER.fullmatch(text)
        if match and match.group(1).strip().casefold() in known:
            current, text = match.group(1).strip(), match.group(2).strip()
        cues.append(Cue(start=timing[0], end=timing[1], text=text, speaker=current, line=number + 1))
    return cues, problems


def timeline_problems(
    path: Path, cues: Sequence[Cue], duration: float | None, unit: str = "line"
) -> list[TranscriptError]:
    """Cues that end before they start, run out of order, or outlast the recording."""
    problems = []
    limit = None if duration is None else int(round(duration * 1000))
    previous: Cue | None = None
    for cue in cues:
        at = {"line": cue.line, "unit": unit}
        if cue.end <= cue.start:
            problems.append(
                TranscriptError(
                    path,
                    f"cue ends at {vtt_time(cue.end)}, not after it starts ({vtt_time(cue.start)})",
                    "correct the end time, or swap start and end",
                    **at,
                )
            )
        if previous is not None and cue.start < previous.start:
            problems.append(
                TranscriptError(
                    path,
                    f"cue starts at {vtt_time(cue.start)}, before the cue at {unit} {previous.line} ({vtt_time(previous.start)})",
                    "keep the cues in time order",
                    **at,
                )
            )
        if limit is not None and cue.end > limit + TOLERANCE_MS:
            problems.append(
                TranscriptError(
                    path,
                    f"cue ends at {vtt_time(cue.end)}, after the recording ends ({vtt_time(limit)})",
                    "check that the transcript belongs to this recording, or remove the cues past its end",
                    **at,
                )
            )
        previous = cue
    return problems


def vtt_time(ms: int) -> str:
    """Milliseconds as a WebVTT timestamp, HH:MM:SS.mmm."""
    seconds, millis = divmod(ms, 1000)
    minutes, secs = divmod(seconds, 60)
    hours, mins = divmod(minutes, 60)
    return f"{hours:02d}:{mins:02d}:{secs:02d}.{millis:03d}"


def _escape(text: str) -> str:
    """Cue text as WebVTT needs it: no raw &, < or > (so never a stray '-->')."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(cues: Sequence[Cue]) -> str:
    """WebVTT text; speakers as `<v Name>` voice spans."""
    out = ["WEBVTT", ""]
    for cue in cues:
        voice = f"<v {_escape(cue.speaker)}>" if cue.speaker else ""
        out += [f"{vtt_time(cue.start)} --> {vtt_time(cue.end)}", voice + _escape(cue.text), ""]
    return "\n".join(out)


def to_srt(cues: Sequence[Cue]) -> str:
    """SubRip text; speakers as a `Name: ` prefix on every cue that has one."""
    out = []
    for index, cue in enumerate(cues, start=1):
        prefix = f"{cue.speaker}: " if cue.speaker else ""
        out += [
            str(index),
            f"{vtt_time(cue.start).replace('.', ',')} --> {vtt_time(cue.end).replace('.', ',')}",
            prefix + cue.text,
            "",
        ]
    return "\n".join(out)


def to_json(cues: Sequence[Cue]) -> str:
    """The Podcasting 2.0 JSON transcript: version and segments (speaker only where known)."""
    segments = []
    for cue in cues:
        segment: dict[str, object] = {"speaker": cue.speaker} if cue.speaker else {}
        segment.update({"startTime": cue.start / 1000, "endTime": cue.end / 1000, "body": cue.text.replace("\n", " ")})
        segments.append(segment)
    return json.dumps({"version": JSON_VERSION, "segments": segments}, ensure_ascii=False, indent=1) + "\n"


def shift(cues: Sequence[Cue], offset: float, duration: float) -> tuple[Cue, ...]:
    """Cues moved onto the mastered audio's timeline; cues that fall outside it are cut to fit or dropped."""
    delta, limit = int(round(offset * 1000)), int(round(duration * 1000))
    moved = []
    for cue in cues:
        start, end = max(0, cue.start + delta), min(limit, cue.end + delta)
        if end > start:
            moved.append(replace(cue, start=start, end=end))
    return tuple(moved)


def attachments(
    transcript: Transcript, slug: str, offset: float, duration: float, language: str, label: str = ""
) -> tuple[Attachment, ...]:
    """The files to publish beside an episode: the transcript as VTT, SRT and JSON (`label`: another edition's)."""
    cues = shift(transcript.cues, offset, duration)
    return (
        Attachment(
            path=layout.transcript(slug, "vtt", label),
            mime=layout.VTT_TYPE,
            content=to_vtt(cues).encode(),
            rel="captions",
            language=language,
        ),
        Attachment(
            path=layout.transcript(slug, "srt", label),
            mime=layout.SRT_TYPE,
            content=to_srt(cues).encode(),
            language=language,
        ),
        Attachment(
            path=layout.transcript(slug, "json", label),
            mime=layout.TRANSCRIPT_JSON_TYPE,
            content=to_json(cues).encode(),
            language=language,
        ),
    )


def json_problems(data: object, path: Path, duration: float | None) -> list[TranscriptError]:
    """What is wrong with a JSON transcript (as published) by the Podcasting 2.0 format."""
    fix = "rebuild with `panelpress build`"
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("segments"), list)
        or not isinstance(data.get("version"), str)
    ):
        return [TranscriptError(path, 'is not a JSON transcript (needs "version" and a "segments" list)', fix)]
    cues = []
    for index, segment in enumerate(data["segments"], start=1):
        ok = (
            isinstance(segment, dict)
            and isinstance(segment.get("body"), str)
            and all(
                isinstance(segment.get(k), (int, float)) and not isinstance(segment.get(k), bool)
                for k in ("startTime", "endTime")
            )
        )
        if not ok:
            return [TranscriptError(path, f"segment {index} needs numeric startTime and endTime and a text body", fix)]
        cues.append(
            Cue(
                start=int(round(segment["startTime"] * 1000)),
                end=int(round(segment["endTime"] * 1000)),
                text=segment["body"],
                line=index,
            )
        )
    return timeline_problems(path, cues, duration, unit="segment")
