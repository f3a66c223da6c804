"""Kept: the last published version of every episode, in the cache.

A published episode that fails to build later (a typo in its notes, a recording that no longer
decodes) stays in the feed as subscribers have it, while the error is reported and the other
episodes publish. Without a kept version (a fresh cache), the guard refuses the build instead.

Records are kept as JSON (never pickle: loading a cache file must not run code), one file per
episode named by a hash of its GUID (imported GUIDs are URLs), in a folder per show."""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from . import records
from .files import file_sha256, write_if_changed
from .records import Published

FOLDER = "published"
# The records that may be read back: the dataclasses of records.py, by name, and nothing else.
_RECORDS = {name: cls for name, cls in vars(records).items() if isinstance(cls, type) and dataclasses.is_dataclass(cls)}


def _folder(cache_dir: Path, show: str) -> Path:
    return cache_dir / FOLDER / hashlib.sha256(show.encode()).hexdigest()[:16]


def _file(folder: Path, guid: str) -> Path:
    return folder / f"{hashlib.sha256(guid.encode()).hexdigest()[:32]}.json"


@functools.cache
def _stamp() -> str:
    """Records written by another version of `records.py` are not trusted."""
    return file_sha256(Path(records.__file__))


def save(cache_dir: Path, show: str, items: Iterable[Published], published: set[str]) -> None:
    """Keep each of `items` (atomically; an unchanged one is not rewritten); forget the show's episodes no
    longer in its feed (the GUIDs in `published`)."""
    folder = _folder(cache_dir, show)
    stamp = _stamp()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        wanted = {_file(folder, guid) for guid in published}
        for old in folder.glob("*.json"):
            if old not in wanted:
                old.unlink()
        for item in items:
            write_if_changed(_file(folder, item.guid), json.dumps({"format": stamp, "item": _encode(item)}, sort_keys=True).encode())
    except OSError:
        pass  # the site is already published; without a kept version a later failure is refused, as with a fresh cache


def load(cache_dir: Path, show: str, guid: str) -> Published | None:
    """The episode as it was last published, or None when none was kept (or it cannot be read)."""
    try:
        data = json.loads(_file(_folder(cache_dir, show), guid).read_bytes())
        if data["format"] != _stamp():
            return None
        item = _decode(data["item"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return item if isinstance(item, Published) and item.guid == guid else None


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"record": type(value).__name__, "fields": {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, bytes):
        return {"bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, Path):
        return {"path": str(value)}
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    return value  # str, int, float, bool, None


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)  # every sequence in a record is a tuple
    if not isinstance(value, dict):
        return value
    if "bytes" in value:
        return base64.b64decode(value["bytes"])
    if "path" in value:
        return Path(value["path"])
    if "datetime" in value:
        return datetime.fromisoformat(value["datetime"])
    return _RECORDS[value["record"]](**{name: _decode(v) for name, v in value["fields"].items()})
