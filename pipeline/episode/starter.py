"""Starter notes: a recording without notes gets a file to fill in, prefilled from its own tags (never overwriting one)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from .. import inputs
from ..files import create as create_new
from ..layout import web_slug
from ..records import ROOM, AudioInfo
from . import chapters as chapters_
from .notes import ROOM_NAMES


def starter_text(
    slug: str, info: AudioInfo | None, today: date, draft: bool, image: str = "", tracks: tuple[str, ...] = ()
) -> str:
    """The text of a starter notes file, prefilled from the recording's tags (or, for a folder of tracks, with a
    panelist and a `tracks:` line per file, named after it, to correct)."""
    title = (info.tag("title") if info else "") or slug.replace("-", " ").replace("_", " ").strip().capitalize()
    artists = [a.strip() for a in re.split(r"[;,/]| & ", info.tag("artist") if info else "") if a.strip()]
    day = _tag_date(info.tag("date") if info else "") or today
    meta: dict[str, Any] = {"title": title, "date": day}
    if artists:
        meta["panelists"] = artists
    if info and info.tag("comment"):
        meta["summary"] = info.tag("comment")
    meta.update(_starter_extras(info, image))
    if tracks:
        whose = {
            name: ROOM
            if web_slug(Path(name).stem) in ROOM_NAMES
            else re.sub(r"[-_]+", " ", Path(name).stem).strip().title()
            for name in tracks
        }
        meta["panelists"] = [who for who in dict.fromkeys(whose.values()) if who != ROOM]
        meta["tracks"] = whose
    meta["draft"] = draft
    head = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return f"---\n{head}---\n\nWrite the show notes of this episode here, in Markdown.\n"


def _starter_extras(info: AudioInfo | None, image: str) -> dict[str, Any]:
    """Season and episode (disc and track numbers), the saved cover art and the recording's own chapters."""
    extra: dict[str, Any] = {}
    if info and info.disc:
        extra["season"] = info.disc
    if info and info.track:
        extra["episode"] = info.track
    if image:
        extra["image"] = image
    # A chapters file beside the recording stays the source: copying the recording's chapters would outrank it.
    if info and info.chapters and not chapters_.file_for(info.path).is_file():
        extra["chapters"] = [
            {"start": chapters_.timestamp(c.start), "title": c.title, **({"url": c.url} if c.url else {})}
            for c in info.chapters
        ]
    return extra


def save_cover(notes_path: Path, info: AudioInfo | None) -> str:
    """Save a recording's embedded cover art beside its new notes as `<slug>.jpg` or `.png` (never overwriting a file);
    return the name to write as `image:`, or '' when there is no usable art."""
    data = info.art if info else None
    if not data:
        return ""
    try:
        suffix = inputs.PICTURES[inputs.picture(data).format][1][0]
    except inputs.Refused:
        return ""  # not a JPEG or PNG by its content, or a decompression bomb: the recording's art is not adopted
    target = notes_path.with_suffix(suffix)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with target.open("xb") as handle:
            handle.write(data)
    except FileExistsError:
        pass  # the host's own image of that name: keep it, and it is the episode's image
    return target.name


def _tag_date(value: str) -> date | None:
    match = re.match(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", value.strip())
    if not match:
        return None
    year, month, day = match.groups()
    try:
        return date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return None


def write_starter(path: Path, text: str) -> bool:
    """Create a notes file; never overwrite one. Return whether it was created."""
    return create_new(path, text)
