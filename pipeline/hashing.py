"""Checksums: of recordings (cache keys), of tagged files (the ledger) and of site files (the manifest)."""

from __future__ import annotations

import hashlib
from pathlib import Path


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
