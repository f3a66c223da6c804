"""Remote stores: where `panelpress deploy` copies a built site (object storage, an SSH host, a git branch).

A store knows only keys (site paths, `/`-separated, relative to the destination's prefix) and bytes; the sync
engine (`deploy.py`) decides what to upload, in which order, and what may be deleted, from the last manifest it kept
at the destination. A store never lists or deletes anything the engine did not name.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from ..errors import PublishError

# The kinds of store, by how a show's move is told to apps that fetch the old feed address (`Store.kind`).
OBJECTS = "objects"  # object storage: a website redirect on the feed's own key
PAGES = "pages"  # a Pages host (a git branch): a `_redirects` file beside the site
FILES = "files"  # a plain web server's folder (SSH): the host adds the redirect to the server's configuration
# Each scheme of a destination URL: the module and maker of its store (imported when used: boto3 may be absent).
SCHEMES = {
    "s3": ("s3", "S3Store", "pip install 'panelpress[deploy]' (boto3)"),
    "sftp": ("ssh", "for_deploy", "install OpenSSH's client (apt install openssh-client)"),
    "rsync": ("ssh", "for_deploy", "install OpenSSH's client and rsync (apt install openssh-client rsync)"),
    "git+file": ("git", "GitStore", "install git"),
    "git+ssh": ("git", "GitStore", "install git"),
    "git+https": ("git", "GitStore", "install git"),
}
EXAMPLES = "s3://BUCKET/PREFIX/, sftp://USER@HOST/PATH or git+ssh://HOST/REPO.git#gh-pages"
# Cross-origin reads (CORS): web players on other sites fetch the feed, the JSON chapters and the transcripts. The
# site is public, so any origin may read it (GET and HEAD, ranges included); nothing else is allowed.
CORS_RULE = {
    "AllowedOrigins": ["*"],
    "AllowedMethods": ["GET", "HEAD"],
    "AllowedHeaders": ["*"],
    "ExposeHeaders": ["Content-Length", "Content-Range", "Accept-Ranges", "ETag"],
    "MaxAgeSeconds": 86400,
}


@dataclass(frozen=True)
class Headers:
    """What a file is served with, where the store can say it (object metadata; ignored by plain file hosts)."""

    content_type: str
    cache_control: str
    redirect: str = ""  # where a store that can redirect one key (S3's website redirect) sends readers; else ignored


class Store(Protocol):
    """One destination of a deploy, opened from its URL (`s3://…`, `sftp://…`, `git+file://…#branch`)."""

    url: str  # as the host wrote it, for messages
    kind: str  # OBJECTS, PAGES or FILES: how a move's redirect is written (deploy.py)
    # Optional: how many `put`s the engine may run at once, on threads (absent: 1, one file after another).
    # Optional: `allow_cross_origin() -> str`, for a store whose own settings say what CORS it answers (a bucket):
    # sets CORS_RULE where none is set, and returns a note for the host ("" when nothing is to be said).

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


def open_store(url: str, cache: Path) -> Store:
    """The store of a destination URL (`cache`: a folder of panelpress's own the store may keep a working copy in);
    PublishError naming the URL and the fix for a scheme panelpress does not know, or one whose module is absent."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in SCHEMES:
        raise PublishError(
            None,
            f"deploy destination {url!r}: panelpress cannot deploy to a {scheme or 'bare'} address",
            f"use {EXAMPLES}",
        )
    module, name, fix = SCHEMES[scheme]
    try:
        store = getattr(importlib.import_module(f".{module}", __package__), name)
    except ImportError as err:
        raise PublishError(None, f"deploy destination {url!r}: {scheme}:// is not available here ({err})", fix) from err
    return store(url, cache)
