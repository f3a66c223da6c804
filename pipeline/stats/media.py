"""Which file is which: the show's published audio (every episode, every edition) with what the IAB threshold needs.

The site folder's manifest lists every file panelpress published there; the ledger names the episodes (their slugs
and first publish dates). Each audio file's header size (ID3 for MP3, the Ogg header pages for Opus) and bitrate
are read from the file itself, so a minute of audio is known in bytes; a file measured before (the same size and
time) is not read again (`measured`: the stats state keeps them).
"""

from __future__ import annotations

import functools
import json
import struct
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .. import layout
from ..config import Config
from ..errors import PanelpressError

MINUTE = 60.0  # IAB v2.2: a download is a minute of audio delivered (or the whole file when shorter)


@dataclass(frozen=True)
class MediaFile:
    """One published audio file: the episode and edition it is, its size, where its audio begins, and its bitrate."""

    rel: str  # in the site folder, e.g. media/panel.mp3
    slug: str
    edition: str  # "mp3", "opus", "clean" (the clean MP3), "clean.opus"
    size: int
    header: int  # bytes before the audio: the ID3 tag, or Ogg's header pages
    bitrate: int  # bits per second
    released: int  # seconds since the epoch: the episode's first publish (0: unknown)
    measured: tuple[int, int, int, int] = (0, 0, 0, 0)  # (size, mtime_ns, header, bitrate read: 0 unknown) as measured

    @functools.cached_property
    def needed(self) -> int:
        """Bytes of audio past the header that make a download: a minute, or all of it when shorter."""
        return max(1, min(int(self.bitrate / 8 * MINUTE), self.size - self.header))


@dataclass(frozen=True)
class Show:
    """What the counting knows of the show: its audio files by site path, and the addresses of its feeds."""

    files: dict[str, MediaFile]  # by rel
    feeds: tuple[str, ...]  # site paths of the feeds ("/podcast/feed.xml")
    prefixes: tuple[str, ...]  # URL paths the site and its media are served under ("/podcast/")


def show(config: Config, measured: dict[str, tuple[int, int, int, int]] | None = None) -> Show:
    """The show as it is published in its site folder (an error that says to build first when nothing is);
    `measured`: files measured before, by rel (`MediaFile.measured`), taken as they are while their size and time are."""
    site = config.output_dir
    manifest_path = site / layout.MANIFEST
    try:
        manifest = json.loads(manifest_path.read_bytes())
        rels = [str(rel) for rel in manifest["files"]]
    except FileNotFoundError:
        raise PanelpressError(
            manifest_path, "the site was never built here", "run `panelpress build` first: stats counts its files"
        ) from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise PanelpressError(manifest_path, f"the manifest is damaged ({err})", "run `panelpress build`") from err
    slugs, released = _ledger(config.ledger_path)
    published = set(rels)
    files = {}
    for slug in dict.fromkeys(slugs):
        for rel, edition in _editions(slug):
            if rel in published:
                files[rel] = _measure(
                    site / rel, rel, slug, edition, released.get(slug, 0), config.audio.bitrate * 1000, measured
                )
    prefixes = tuple(dict.fromkeys(layout.path_prefix(url) for url in (config.site_url, config.media_url) if url))
    base = layout.path_prefix(config.site_url)
    feeds = (base + layout.FEED_FILE, base + layout.CLEAN_FEED_FILE)
    return Show(files, feeds, prefixes)


def _ledger(path: Path) -> tuple[list[str], dict[str, int]]:
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return [], {}
    except (OSError, ValueError) as err:
        raise PanelpressError(path, f"the ledger cannot be read ({err})", "run `panelpress build` to check it") from err
    slugs: list[str] = []
    released: dict[str, int] = {}
    for episodes in (data.get("episodes") or {}, (data.get("clean") or {}).get("episodes") or {}):
        for slug, entry in episodes.items():
            slugs.append(slug)
            try:
                when = int(datetime.fromisoformat(entry["first_published"]).timestamp())
            except (KeyError, TypeError, ValueError):
                continue
            released[slug] = min(released.get(slug, when), when)
    return slugs, released


def _editions(slug: str) -> list[tuple[str, str]]:
    """Where each edition of an episode's audio would be published (layout's own rule), and its name in the counts:
    `mp3`, `opus`, `m4a`; the clean edition `clean` (its MP3) or `clean.opus`…"""
    return [
        (layout.edition(slug, fmt, label), (label if fmt == "mp3" else f"{label}.{fmt}") if label else fmt)
        for fmt in layout.AUDIO_TYPES
        for label in ("", layout.CLEAN)
    ]


def _measure(
    path: Path, rel: str, slug: str, edition: str, released: int, bitrate: int, measured: dict | None
) -> MediaFile:
    """Size, header and bitrate of a published file, read from its first bytes and its audio headers (or as measured
    before, when the file's size and time are the same)."""
    try:
        stat = path.stat()
        known = (measured or {}).get(rel)
        if known is not None and known[:2] == (stat.st_size, stat.st_mtime_ns):
            header, read = known[2], known[3]
        else:
            with path.open("rb") as stream:
                head = stream.read(10)
                header = _ogg_header(stream) if head[:4] == b"OggS" else _id3_size(head)
            read = _bitrate(path, stat.st_size, header)
    except OSError as err:
        raise PanelpressError(
            path, f"the published file cannot be read ({err.strerror})", "run `panelpress build`"
        ) from err
    stamp = (stat.st_size, stat.st_mtime_ns, header, read)
    return MediaFile(rel, slug, edition, stat.st_size, header, read or bitrate, released, stamp)


def _id3_size(head: bytes) -> int:
    """The size of an ID3v2 tag from its 10-byte header (0 when there is none)."""
    if len(head) < 10 or head[:3] != b"ID3":
        return 0
    size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
    footer = 10 if head[5] & 0x10 else 0
    return 10 + size + footer


def _ogg_header(stream) -> int:
    """Where an Ogg file's audio begins: the first page that carries a granule position (after the header pages)."""
    stream.seek(0)
    offset = 0
    while True:
        page = stream.read(27)
        if len(page) < 27 or page[:4] != b"OggS":
            return 0
        granule = struct.unpack_from("<q", page, 6)[0]
        if granule > 0:
            return offset
        segments = stream.read(page[26])
        length = 27 + page[26] + sum(segments)
        offset += length
        stream.seek(offset)


def _bitrate(path: Path, size: int, header: int) -> int:
    """The audio's average bitrate in bits per second (0 when mutagen cannot tell)."""
    import mutagen
    from mutagen.mp3 import MP3
    from mutagen.oggopus import OggOpus

    kind = {".mp3": MP3, ".opus": OggOpus}.get(path.suffix)  # by name: mutagen.File would try every format
    try:
        audio = kind(path) if kind else mutagen.File(path)
    except (mutagen.MutagenError, OSError, ValueError):
        return 0
    info = getattr(audio, "info", None)
    length = getattr(info, "length", 0) or 0
    if path.suffix == ".mp3" and getattr(info, "bitrate", 0):
        return int(info.bitrate)
    return int((size - header) * 8 / length) if length > 0 else 0
