"""Publish: write the site folder atomically, feed last, touching only files panelpress wrote."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .config import Config
from .discover import web_slug
from .errors import PublishError
from .files import sha256, write_atomic, write_if_changed

MANIFEST = ".panelpress-manifest.json"
# The site folder's layout. Published addresses must never move, so neither may these.
MEDIA_DIR = "media"
PAGES_DIR = "episodes"

Content = bytes | Path  # bytes to write, or a file to copy


@dataclass(frozen=True)
class PublishReport:
    """What publishing changed in the site folder."""

    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]


def media_path(config: Config, slug: str) -> str:
    """Where an episode's audio is published, relative to the site folder."""
    return f"{MEDIA_DIR}/{web_slug(slug)}.{config.audio.format}"


def _target(site: Path, rel: str) -> Path:
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or rel == MANIFEST:
        raise PublishError(site / rel, "is outside the site folder", "this is a bug in panelpress; please report it")
    return site.joinpath(*pure.parts)


def read_manifest(site: Path) -> dict[str, str]:
    """The files panelpress wrote into the site folder, with their checksums."""
    path = site / MANIFEST
    if not path.is_file():
        return {}
    try:
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
        return {str(k): str(v) for k, v in files.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise PublishError(path, f"the manifest is damaged ({err})", "delete it only if the folder holds nothing but panelpress output") from err


def _write_manifest(site: Path, files: Mapping[str, str]) -> None:
    text = (json.dumps({"generator": "panelpress", "files": dict(sorted(files.items()))}, indent=1) + "\n").encode()
    write_if_changed(site / MANIFEST, text)


def _blocker(site: Path, rel: str, ours: Mapping[str, str]) -> Path | None:
    """A file of someone else's in the way of `rel`: the target itself, or a file where a folder must go."""
    path = _target(site, rel)
    if path.exists() and (rel not in ours or path.is_dir()):
        return path
    for parent in path.relative_to(site).parents:
        if str(parent) != "." and (site / parent).exists() and not (site / parent).is_dir():
            return site / parent
    return None


def _prune(site: Path, folder: Path) -> None:
    """Remove folders left empty by removing our files, up to the site folder."""
    while folder != site and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def publish(site: Path, files: Mapping[str, Content], feed_name: str, feed: bytes) -> PublishReport:
    """Write `files`, then the feed, into `site`; remove files panelpress wrote before and no longer makes."""
    try:
        return _publish(site, files, feed_name, feed)
    except OSError as err:
        where = Path(err.filename) if err.filename else site
        raise PublishError(where, f"could not be written: {err.strerror or err}", "check the folder's permissions and free space; the feed was not changed") from err


def _publish(site: Path, files: Mapping[str, Content], feed_name: str, feed: bytes) -> PublishReport:
    site.mkdir(parents=True, exist_ok=True)
    old = read_manifest(site)
    wanted = {**files, feed_name: feed}
    hashes = {rel: sha256(content) for rel, content in wanted.items()}
    # Check everything before writing anything: a blog's own file is never overwritten.
    on_disk = {}
    for rel in wanted:
        blocker = _blocker(site, rel, old)
        if blocker is not None:
            raise PublishError(blocker, "is in the way and was not written by panelpress", "move it away, or set [build] output to another folder")
        path = _target(site, rel)
        if path.is_file():
            on_disk[rel] = sha256(path)
            if on_disk[rel] not in (old[rel], hashes[rel]):  # ours once, edited by hand since: not ours to overwrite
                raise PublishError(path, "was changed by hand after panelpress wrote it", "move your changes into the notes or a template, then delete this file")
    # Remember every file we may write before writing it, so a crash cannot orphan one.
    _write_manifest(site, {**old, **{rel: on_disk.get(rel, digest) for rel, digest in hashes.items()}})
    written, unchanged = [], []
    for rel in [*files, feed_name]:  # the feed last: it must never point at missing media
        if on_disk.get(rel) == hashes[rel]:
            unchanged.append(rel)
            continue
        path = _target(site, rel)
        write_atomic(path, wanted[rel])
        written.append(rel)
    removed = []
    for rel, digest in sorted(old.items()):
        if rel in wanted:
            continue
        path = _target(site, rel)
        if path.is_file() and sha256(path) == digest:  # a file the host edited since is left alone
            path.unlink()
            removed.append(rel)
            _prune(site, path.parent)
    _write_manifest(site, hashes)
    return PublishReport(tuple(written), tuple(unchanged), tuple(removed))
