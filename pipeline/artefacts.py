"""Artefacts: the files the stages keep in the cache (mastered audio, mixes, clean and Opus editions, tagged copies),
each under the key of everything it was made from, made crash-safe in one place.

The protocol, written once: a key → a hit when the file and its record are both there (the record read back; a
damaged one is a miss) → else a private work folder beside them → the partial file written there → the file, any
companion files, and the record (JSON) renamed into place, the record last. A build killed at any instant leaves
either nothing under the key, or a file without a record, which is never trusted and is made again.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Job:
    """An artefact being made: write `partial` (and any work files in `work`), then set `record`."""

    work: Path  # a private folder, removed when the job ends
    partial: Path  # the file being made
    record: dict[str, Any] | None = None  # kept beside the file, written last; None for a shelf without records
    companions: list[tuple[Path, str]] = field(default_factory=list)  # (work file, name in the shelf) moved in too


class Shelf:
    """One kind of artefact in the cache: `<key><suffix>` files, each with `<key>.json` written after it (or, for a
    shelf without records, the file alone, which is whole once it has its name)."""

    def __init__(self, folder: Path, suffix: str, records: bool = True) -> None:
        self.folder = folder
        self.suffix = suffix
        self.records = records

    def file(self, key: str) -> Path:
        """Where the artefact of `key` is kept."""
        return self.folder / f"{key}{self.suffix}"

    def record(self, key: str) -> Path:
        """Where the record of the artefact of `key` is kept."""
        return self.folder / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The record of the artefact kept under `key` ({} on a shelf without records); None when there is no whole
        artefact (no file, no record, or a damaged record: it is made again)."""
        if not self.file(key).is_file():
            return None
        if not self.records:
            return {}
        try:
            data = json.loads(self.record(key).read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def forget(self, key: str) -> None:
        """Drop the record of an artefact, so that it is made again."""
        self.record(key).unlink(missing_ok=True)

    @contextmanager
    def make(self, key: str) -> Iterator[Job]:
        """Make the artefact of `key`: the block writes `job.partial` and sets `job.record`; when it ends without an
        error, the file, its companions and its record are renamed into place (the record last). On any error,
        Ctrl-C included, nothing is kept."""
        self.folder.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=self.folder))
        job = Job(work=work, partial=work / f"partial{self.suffix}")
        try:
            yield job
            if self.records and job.record is None:
                raise ValueError(f"the artefact {key} was made without its record")
            for made, name in job.companions:
                os.replace(made, self.folder / name)
            os.replace(job.partial, self.file(key))  # only a complete file ever carries the key's name
            if self.records:
                record = work / "record.json"
                record.write_text(json.dumps(job.record, sort_keys=True))
                os.replace(record, self.record(key))  # last: without it, nothing is trusted
        finally:
            shutil.rmtree(work, ignore_errors=True)
