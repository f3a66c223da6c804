"""Files: checksums (cache keys, the ledger, the site manifest) and atomic writes (nothing is ever half-written)."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

TEMP_SUFFIX = ".panelpress-tmp"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256(content: bytes | Path) -> str:
    """SHA-256 of bytes, or of a file's content."""
    return file_sha256(content) if isinstance(content, Path) else hashlib.sha256(content).hexdigest()


def temp_path(path: Path) -> Path:
    """The temporary file `write_atomic` writes `path` through (beside it: a rename never crosses a file system)."""
    return path.with_name(f".{path.name}{TEMP_SUFFIX}")


def write_atomic(path: Path, content: bytes | Path | Iterable[bytes], durable: bool = False) -> None:
    """Write bytes (or a copy of a file, or chunks as they come, never held whole) to `path` through a temporary
    file and a rename. `durable`: on disk (fsync) before the rename, so a power cut leaves the old file or the new
    one, never an empty one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_path(path)
    try:
        if isinstance(content, Path):
            shutil.copyfile(content, temp)
        elif isinstance(content, bytes):
            temp.write_bytes(content)
        else:
            with temp.open("wb") as handle:
                handle.writelines(content)
        if durable:
            _fsync(temp)
        os.replace(temp, path)
        if durable:
            _fsync(path.parent)
    finally:
        temp.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_if_changed(path: Path, data: bytes, durable: bool = False) -> bool:
    """`write_atomic`, unless the file already holds exactly `data` (its time stays as it was); whether it wrote."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    write_atomic(path, data, durable)
    return True


def create(path: Path, text: str) -> bool:
    """Write a new text file; never replace one that is there (a host's file). Return whether it was created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        return False
    return True
