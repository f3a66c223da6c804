"""Chapters: read them from a chapters file, pick the source, check them, move them onto the mastered
timeline, and write the Podcasting 2.0 JSON chapters file."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from .. import inputs, layout
from ..errors import ChapterError, NotesError
from ..markdown import address_problem, is_web_address
from ..records import Attachment, AudioInfo, Chapter, Episode, Soundbite
from .tags import ChapterTag

# The chapters file of `episodes/<slug>.<ext>` is `episodes/<slug>.chapters.txt`.
FILE_SUFFIX = ".chapters.txt"
JSON_VERSION = "1.2.0"
IMAGE_MIME = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}

_WHOLE = re.compile(r"[0-9]+")
_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# `HH:MM:SS Title <address>`: anything with a scheme in the angle brackets is the chapter's link (and checked as one).
_PLAIN = re.compile(
    r"([0-9]+(?::[0-9]+){0,2}(?:\.[0-9]+)?)\s+(?:[-–—]\s+)?(.+?)(?:\s+<([A-Za-z][A-Za-z0-9+.-]*:[^>]*)>)?"
)
_FILE_FIX = "write one chapter a line as `HH:MM:SS Title`, or export Audacity labels (start<TAB>end<TAB>label)"


def parse_time(value: Any) -> float:
    """Seconds from `HH:MM:SS(.mmm)`, `MM:SS`, or a number of seconds; ValueError if it is none of those."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        parts = str(value).strip().split(":")
        if len(parts) > 3 or not _SECONDS.fullmatch(parts[-1]) or not all(_WHOLE.fullmatch(p) for p in parts[:-1]):
            raise ValueError(value)
        if (len(parts) > 1 and float(parts[-1]) >= 60) or (len(parts) == 3 and int(parts[1]) >= 60):
            raise ValueError(value)
        seconds = sum(int(p) * 60 ** (len(parts) - 1 - i) for i, p in enumerate(parts[:-1])) + float(parts[-1])
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(value)
    return round(seconds, 3)


def timestamp(seconds: float) -> str:
    """Seconds as HH:MM:SS, with .mmm only when there is a fraction (the form written into notes)."""
    ms = int(round(seconds * 1000))
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, frac = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}" + (f".{frac:03d}" if frac else "")


def parse_line(text: str, line: int) -> Chapter | None:
    """One `HH:MM:SS Title [<url>]` line as a chapter, or None if it is not one."""
    match = _PLAIN.fullmatch(text.strip())
    if not match:
        return None
    try:
        start = parse_time(match.group(1))
    except ValueError:
        return None
    return Chapter(start=start, title=match.group(2).strip(), url=match.group(3) or "", line=line)


def read_file(path: Path) -> tuple[Chapter, ...]:
    """Chapters from an Audacity label export or a plain `HH:MM:SS Title` file; ChapterError names the line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise ChapterError(path, 0, "is not UTF-8 text", "save the file as UTF-8") from err
    found = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#") or raw.startswith("\\"):  # blank, comment, Audacity's spectral line
            continue
        bad = inputs.illegal(raw)
        if bad:
            raise ChapterError(
                path,
                number,
                f"holds {inputs.describe(bad.group())}, which a feed cannot carry",
                "delete it (retype the line if you pasted it)",
            )
        fields = raw.split("\t")
        if len(fields) == 3:  # Audacity: start, end (ignored: a chapter runs to the next one), label
            try:
                found.append(
                    Chapter(start=parse_time(float(fields[0].replace(",", "."))), title=fields[2].strip(), line=number)
                )
                continue
            except ValueError:
                pass
        chapter = parse_line(line, number)
        if chapter is None:
            raise ChapterError(path, number, f"{line!r} is not a chapter", _FILE_FIX)
        found.append(chapter)
    check_order(found, path)
    check_urls(found, path)
    return tuple(found)


def check_order(chapters: Sequence[Chapter], path: Path) -> None:
    """First chapter at 0, each titled and later than the one before; ChapterError names the file and line."""
    for number, chapter in enumerate(chapters, start=1):
        name = f"chapter {number} ({chapter.title!r})"
        if not chapter.title.strip():
            raise ChapterError(path, chapter.line, f"chapter {number} has no title", "give every chapter a title")
        if number == 1 and chapter.start != 0:
            raise ChapterError(
                path,
                chapter.line,
                f"{name} starts at {timestamp(chapter.start)}, not at 0",
                "start the first chapter at 00:00:00",
            )
        if number > 1 and chapter.start <= chapters[number - 2].start:
            before = timestamp(chapters[number - 2].start)
            raise ChapterError(
                path,
                chapter.line,
                f"{name} starts at {timestamp(chapter.start)}, not after chapter {number - 1} ({before})",
                "list the chapters in order, each starting later than the one before",
            )


def check_urls(chapters: Sequence[Chapter], path: Path) -> None:
    """Every chapter's link is a web address panelpress may publish (markdown.address_problem); ChapterError names the
    file and line."""
    for number, chapter in enumerate(chapters, start=1):
        problem = address_problem(chapter.url) if chapter.url else ""
        if problem:
            raise ChapterError(
                path,
                chapter.line,
                f"chapter url {chapter.url!r} is not a web address: {problem} (chapter {number}, {chapter.title!r})",
                "write its https:// address, or remove it",
            )


def check_end(chapters: Sequence[Chapter], duration: float, path: Path) -> None:
    """No chapter may start at or past the end of the audio; ChapterError names the file and line."""
    for number, chapter in enumerate(chapters, start=1):
        if chapter.start >= duration:
            raise ChapterError(
                path,
                chapter.line,
                f"chapter {number} ({chapter.title!r}) starts at {timestamp(chapter.start)}, past the end of the recording ({timestamp(duration)})",
                "correct its start, or remove it",
            )


# A soundbite may end this much after the recording (a host rounds the last seconds up).
SOUNDBITE_SLACK = 0.5


def check_soundbites(bites: Sequence[Soundbite], duration: float, path: Path) -> None:
    """Every soundbite of the notes lies inside the recording; NotesError names the file and line."""
    for number, bite in enumerate(bites, start=1):
        end = bite.start + bite.duration
        if end > duration + SOUNDBITE_SLACK:
            where = f"line {bite.line}: " if bite.line else ""
            raise NotesError(
                path,
                f"{where}soundbite {number} ({bite.title!r}) runs from {timestamp(bite.start)} to {timestamp(end)}, past the end of the recording ({timestamp(duration)})",
                "correct its start or duration, or remove it",
            )


def shift_soundbites(bites: Sequence[Soundbite], offset: float, duration: float) -> tuple[Soundbite, ...]:
    """Soundbites moved onto the mastered timeline as chapters are (later by an intro, earlier by trimmed silence),
    cut to the audio; one that no longer lies in it is left out."""
    moved = []
    for bite in bites:
        start, end = bite.start + offset, min(bite.start + offset + bite.duration, duration)
        start = max(start, 0.0)
        if end - start >= 1.0:
            moved.append(replace(bite, start=round(start, 3), duration=round(end - start, 3)))
    return tuple(moved)


def file_for(recording: Path) -> Path:
    """Where a recording's chapters file lives: `episodes/<slug>.chapters.txt` (beside a folder of tracks too)."""
    return recording.with_name((recording.name if recording.is_dir() else recording.stem) + FILE_SUFFIX)


def resolve(episode: Episode, info: AudioInfo) -> tuple[Chapter, ...]:
    """The episode's chapters on the recording's timeline, from the first source that has any:
    the notes, the chapters file beside the recording, the recording's own chapters."""
    notes_path = episode.notes.path
    if episode.notes.chapters:
        check_end(episode.notes.chapters, info.duration, notes_path)
        return episode.notes.chapters
    beside = file_for(episode.recording)
    try:
        usable = inputs.optional_file(episode.recording.parent.parent, beside)  # the show folder holds episodes/
    except inputs.Refused as err:
        raise ChapterError(beside, 0, err.problem, err.fix) from err
    if usable is not None:
        found = read_file(beside)
        if found:
            check_end(found, info.duration, beside)
            return found
    if info.chapters:
        try:
            check_order(info.chapters, info.path)
            check_urls(info.chapters, info.path)
            check_end(info.chapters, info.duration, info.path)
        except ChapterError as err:
            raise ChapterError(
                info.path,
                0,
                f"its own chapters are unusable: {err.problem}",
                f"list the chapters in {notes_path.name} (`chapters:`) to replace them",
            ) from err
    return info.chapters


def shift(chapters: Sequence[Chapter], offset: float, duration: float) -> tuple[Chapter, ...]:
    """Move chapters onto the mastered timeline: later by `offset` seconds (an intro), earlier when silence was
    trimmed. The first chapter always starts at 0 (so it takes in an intro); none starts at or past the end."""
    if not chapters:
        return ()
    moved = [replace(c, start=round(max(0.0, c.start + offset), 3)) for c in chapters]
    # Chapters pulled before the start by trimmed silence collapse to 0: the last of them begins the audio.
    first = max((i for i, c in enumerate(moved) if c.start <= 0), default=0)
    moved = moved[first:]
    moved[0] = replace(moved[0], start=0.0)
    return tuple(c for i, c in enumerate(moved) if i == 0 or c.start < duration)


def ends(chapters: Sequence[Chapter], duration: float) -> list[float]:
    """Where each chapter ends: where the next one starts, the last at the end of the audio."""
    return [
        chapters[i + 1].start if i + 1 < len(chapters) else max(duration, chapters[i].start)
        for i in range(len(chapters))
    ]


def image_file(chapter: Chapter, folder: Path) -> Path | None:
    """A chapter's image as a local file (relative to the notes' folder), or None for none or a URL."""
    if not chapter.image or is_web_address(chapter.image):
        return None
    return folder / chapter.image


def for_tags(chapters: Sequence[Chapter], duration: float, folder: Path) -> tuple[ChapterTag, ...]:
    """Chapters as the tag stage writes them: start and end in ms, local images read into bytes."""
    marks = []
    for chapter, end in zip(chapters, ends(chapters, duration)):
        local = image_file(chapter, folder)
        art = local.read_bytes() if local is not None else None
        mime = IMAGE_MIME[local.suffix.lower()] if local is not None else ""
        marks.append(
            ChapterTag(int(round(chapter.start * 1000)), int(round(end * 1000)), chapter.title, chapter.url, art, mime)
        )
    return tuple(marks)


def _number(seconds: float) -> int | float:
    return int(seconds) if float(seconds).is_integer() else round(seconds, 3)


def publish(
    chapters: Sequence[Chapter], folder: Path, slug: str, site_url: str, title: str, podcast: str, label: str = ""
) -> tuple[Attachment, ...]:
    """The JSON chapters file and the local chapter images it links, as attachments of an episode (`label`: of
    another edition of it); `folder` is the notes' (chapter images are named relative to it)."""
    if not chapters:
        return ()
    files: list[Attachment] = []
    entries = []
    for number, chapter in enumerate(chapters, start=1):
        entry: dict[str, Any] = {"startTime": _number(chapter.start), "title": chapter.title}
        local = image_file(chapter, folder)
        if local is not None:
            rel = layout.chapter_image(slug, number, local.suffix, label)
            files.append(Attachment(path=rel, mime=IMAGE_MIME[local.suffix.lower()], content=local.read_bytes()))
            entry["img"] = layout.url(site_url, rel)
        elif chapter.image:
            entry["img"] = chapter.image
        if chapter.url:
            entry["url"] = chapter.url
        entries.append(entry)
    document = {"version": JSON_VERSION, "title": title, "podcastName": podcast, "chapters": entries}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return (Attachment(path=layout.chapters(slug, label), mime=layout.CHAPTERS_TYPE, content=text.encode()), *files)
