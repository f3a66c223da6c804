"""Discover: the show folder → recordings paired with their notes files by slug."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .config import Config
from .errors import PanelpressError
from .records import Failure

AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".aif", ".aiff")


@dataclass(frozen=True)
class Recording:
    """A recording in `episodes/` and where its notes live (whether or not they exist yet)."""

    slug: str
    path: Path
    notes_path: Path


def web_slug(slug: str) -> str:
    """A slug safe in any URL: lower-case ASCII letters, digits and hyphens."""
    ascii_text = unicodedata.normalize("NFKD", slug).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "episode"


def discover(config: Config) -> tuple[list[Recording], list[Failure]]:
    """Every recording in `episodes/`, sorted by slug; clashing slugs are failures."""
    folder = config.episodes_dir
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS) if folder.is_dir() else []
    by_web: dict[str, list[Path]] = {}
    for path in files:
        by_web.setdefault(web_slug(path.stem), []).append(path)
    recordings, failures = [], []
    for name, paths in sorted(by_web.items()):
        if len(paths) > 1:
            names = ", ".join(p.name for p in paths)
            error = PanelpressError(paths[0], f"{len(paths)} recordings share the episode name {name!r} ({names})", "rename or remove all but one")
            failures.append(Failure(slug=name, error=error))
            continue
        path = paths[0]
        recordings.append(Recording(slug=path.stem, path=path, notes_path=config.notes_dir / f"{path.stem}.md"))
    return recordings, failures
