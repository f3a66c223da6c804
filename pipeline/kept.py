"""Kept: the last published version of every episode, in the cache.

A published episode that fails to build later (a typo in its notes, a recording that no longer
decodes) stays in the feed as subscribers have it, while the error is reported and the other
episodes publish. Without a kept version (a fresh cache), the guard refuses the build instead."""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterable
from pathlib import Path

from . import records
from .hashing import file_sha256
from .records import Published

FOLDER = "published"


def _stamp() -> str:
    """Records pickled by another version of `records.py` are not trusted."""
    return file_sha256(Path(records.__file__))


def save(cache_dir: Path, items: Iterable[Published], published: set[str]) -> None:
    """Keep each of `items` by GUID (atomically; an unchanged one is not rewritten); forget episodes no longer
    in the feed (the GUIDs in `published`)."""
    folder = cache_dir / FOLDER
    stamp = _stamp()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.pickle"):
            if old.stem not in published:
                old.unlink()
        for item in items:
            data = pickle.dumps((stamp, item), protocol=pickle.HIGHEST_PROTOCOL)
            path = folder / f"{item.guid}.pickle"
            if path.is_file() and path.read_bytes() == data:
                continue
            temp = path.with_name(f".{path.name}.tmp")
            temp.write_bytes(data)
            os.replace(temp, path)
    except OSError:
        pass  # the site is already published; without a kept version a later failure is refused, as with a fresh cache


def load(cache_dir: Path, guid: str) -> Published | None:
    """The episode as it was last published, or None when none was kept (or it cannot be read)."""
    path = cache_dir / FOLDER / f"{guid}.pickle"
    try:
        stamp, item = pickle.loads(path.read_bytes())
    except (OSError, ValueError, TypeError, EOFError, AttributeError, ImportError, pickle.UnpicklingError):
        return None
    return item if stamp == _stamp() and isinstance(item, Published) and item.guid == guid else None
