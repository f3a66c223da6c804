"""Files: checksums (cache keys, the ledger, the site manifest) and atomic writes (nothing is ever half-written)."""

from __future__ import annotations

import hashlib
import os
import shutil
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


def write_atomic(path: Path, content: bytes | Path) -> None:
    """Write bytes (or a copy of a file) to `path` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}{TEMP_SUFFIX}")
    try:
        if isinstance(content, Path):
            shutil.copyfile(content, temp)
        else:
            temp.write_bytes(content)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def write_if_changed(path: Path, data: bytes) -> None:
    """`write_atomic`, unless the file already holds exactly `data` (its time stays as it was)."""
    if not (path.is_file() and path.read_bytes() == data):
        write_atomic(path, data)
