"""Discover: the show folder → recordings paired with their notes files by slug.

An episode is a recording in `episodes/`, or a folder `episodes/<slug>/` of recordings, one per microphone (mixed
by `mix.py`); the folder's name is the slug, under the same rules as a recording's.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .. import inputs
from ..config import Config
from ..errors import ConfigError, PanelpressError
from ..layout import web_slug
from ..records import Failure

AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".aif", ".aiff")


@dataclass(frozen=True)
class Recording:
    """A recording in `episodes/` and where its notes live (whether or not they exist yet)."""

    slug: str
    path: Path  # the recording, or the folder of an episode's tracks
    notes_path: Path
    tracks: tuple[Path, ...] = ()  # the recordings in the folder (an episode of one track per speaker)


# The longest name panelpress gives a file of an episode is its name plus ".transcript.json" or ".chapters.txt";
# most filesystems allow 255 bytes a name.
MAX_NAME_BYTES = 200


def discover(config: Config) -> tuple[list[Recording], list[Failure]]:
    """Every recording in `episodes/`, sorted by slug; clashing slugs and names panelpress cannot use are failures."""
    folder = config.episodes_dir
    found: list[tuple[str, bool]] = []  # (name, whether it is a folder of tracks)
    try:
        # One listing: each entry's kind comes with it (no stat per file of a thousand episodes' folder).
        with os.scandir(folder) if folder.is_dir() else contextlib.nullcontext(()) as entries:
            for entry in entries:
                audio = os.path.splitext(entry.name)[1].lower() in AUDIO_EXTENSIONS
                if audio and entry.is_file():
                    found.append((entry.name, False))
                elif not audio and not entry.name.startswith(".") and entry.is_dir():
                    found.append((entry.name, True))
    except OSError as err:
        raise ConfigError(folder, f"cannot be read: {err.strerror or err}", "make the folder readable") from err
    files = [folder / name for name, _ in sorted(found)]
    folders = {folder / name for name, is_folder in found if is_folder}
    tracks = {path: track_files(path) for path in folders}
    files = [path for path in files if path not in folders or tracks[path]]  # a folder without recordings is no episode
    by_web: dict[str, list[Path]] = {}
    recordings, failures = [], []
    for path in files:
        stem = path.name if path in folders else path.stem
        problem = _name_problem(stem)
        if problem:
            shown = path.with_name(_shown(path.name))
            failures.append(
                Failure(
                    slug=_shown(stem),
                    error=PanelpressError(
                        shown, problem, f"rename the {'folder' if path in folders else 'recording'} (and its notes)"
                    ),
                )
            )
            continue
        by_web.setdefault(web_slug(stem), []).append(path)
    for name, paths in sorted(by_web.items()):
        if len(paths) > 1:
            names = ", ".join(p.name + ("/" if p in folders else "") for p in paths)
            error = PanelpressError(
                paths[0],
                f"{len(paths)} recordings share the episode name {name!r} ({names})",
                "rename or remove all but one",
            )
            failures.append(Failure(slug=name, error=error))
            continue
        path = paths[0]
        stem = path.name if path in folders else path.stem
        recordings.append(
            Recording(slug=stem, path=path, notes_path=config.notes_dir / f"{stem}.md", tracks=tracks.get(path, ()))
        )
    return recordings, failures


def _is_recording(path: Path) -> bool:
    return path.suffix.lower() in AUDIO_EXTENSIONS and path.is_file()


def track_files(folder: Path) -> tuple[Path, ...]:
    """The recordings in an episode's folder, by name (hidden files and sub-folders are not tracks)."""
    try:
        return tuple(sorted(p for p in folder.iterdir() if not p.name.startswith(".") and _is_recording(p)))
    except OSError:
        return ()


def _name_problem(stem: str) -> str:
    """Why a recording's name cannot name an episode's files and pages ('' when it can)."""
    try:
        size = len(stem.encode("utf-8"))
    except UnicodeEncodeError:
        return "the file name is not UTF-8 text"
    if size > MAX_NAME_BYTES:
        return f"the file name is {size} bytes long; panelpress adds to it for the episode's files, so it takes at most {MAX_NAME_BYTES}"
    bad = inputs.illegal(stem) or re.search("[\x7f-\x9f]", stem)
    if bad:
        return f"the file name holds {inputs.describe(bad.group())}"
    return ""


def _shown(name: str) -> str:
    """A file name as it can be printed (bytes that are not UTF-8 as \\x.., control characters as escapes)."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    text = re.sub("[\x00-\x1f\x7f-\x9f]", lambda m: f"\\x{ord(m.group()):02x}", text)
    return text[:60] + "…" if len(text) > 80 else text
