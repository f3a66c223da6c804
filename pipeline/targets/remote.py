"""Remote stores: where `panelpress deploy` copies a built site (object storage, an SSH host, a git branch).

A store knows only keys (site paths, `/`-separated, relative to the destination's prefix) and bytes; the sync
engine (`deploy.py`) decides what to upload, in which order, and what may be deleted, from the last manifest it kept
at the destination. A store never lists or deletes anything the engine did not name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Headers:
    """What a file is served with, where the store can say it (object metadata; ignored by plain file hosts)."""

    content_type: str
    cache_control: str


class Store(Protocol):
    """One destination of a deploy, opened from its URL (`s3://…`, `sftp://…`, `git+file://…#branch`)."""

    url: str  # as the host wrote it, for messages

    def read(self, key: str) -> bytes | None:
        """A small file (the manifest) as it is at the destination; None when there is none."""

    def size(self, key: str) -> int | None:
        """The size of a file at the destination (None: there is none): a resumed deploy skips what is whole."""

    def put(self, key: str, source: Path, headers: Headers, progress: Callable[[int], None]) -> None:
        """Upload a file so that readers see the old one or the new one whole, never a part (a temporary name then a
        rename, a multipart upload completed last, …); `progress(n)` is told of each n bytes sent. Raises
        PublishError naming the URL and the fix when it cannot."""

    def put_bytes(self, key: str, data: bytes, headers: Headers) -> None:
        """`put` for bytes made in memory (the manifest, a redirect file)."""

    def delete(self, key: str) -> None:
        """Remove one file the engine named (missing already: fine)."""

    def finish(self, message: str) -> None:
        """End the deploy (a git store commits and pushes here, one commit per deploy; others do nothing)."""

    def close(self) -> None:
        """Let go of connections."""
