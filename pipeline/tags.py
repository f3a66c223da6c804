"""Tag: the mastered file + the episode → the final, tagged file (ID3v2.3) in the cache."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from mutagen import MutagenError
from mutagen.id3 import APIC, COMM, ID3, PCST, TALB, TCON, TDRC, TGID, TIT2, TLEN, TPE1, TPE2, WFED, WOAS

from .audio import MIME, file_sha256
from .errors import AudioError
from .records import Mastered, Media


@dataclass(frozen=True)
class TagSet:
    """Everything written into an episode's tags, as plain values (also the tag cache key)."""

    title: str
    artist: str
    album: str
    album_artist: str
    date: str
    comment: str
    guid: str
    page_url: str
    feed_url: str
    duration_ms: int
    art: bytes | None = None
    art_mime: str = ""

    def digest(self) -> str:
        """A stable fingerprint of every value."""
        digest = hashlib.sha256()
        for value in (self.title, self.artist, self.album, self.album_artist, self.date, self.comment, self.guid, self.page_url, self.feed_url, str(self.duration_ms), self.art_mime):
            digest.update(value.encode() + b"\0")
        digest.update(self.art or b"")
        return digest.hexdigest()


def tag(mastered: Mastered, tags: TagSet, cache_dir: Path, filename: str) -> Media:
    """Write tags onto a copy of the mastered file (cached by content); return the final media file."""
    suffix = mastered.path.suffix
    folder = cache_dir / "tagged"
    folder.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(f"{mastered.key}:{tags.digest()}".encode()).hexdigest()[:32]
    out = folder / f"{key}{suffix}"
    if not out.is_file():
        partial = folder / f"{key}.partial{suffix}"
        try:
            shutil.copyfile(mastered.path, partial)
            if suffix == ".mp3":
                _write_id3(partial, tags)
            os.replace(partial, out)
        except MutagenError as err:
            raise AudioError(mastered.path, f"mutagen could not tag the mastered file: {err}", "delete the cache folder and build again") from err
        finally:
            partial.unlink(missing_ok=True)
    return Media(
        path=out,
        filename=filename,
        mime=MIME[suffix.lstrip(".")],
        length=out.stat().st_size,
        duration=mastered.duration,
        sha256=file_sha256(out),
    )


def _write_id3(path: Path, tags: TagSet) -> None:
    id3 = ID3()
    id3.add(TIT2(encoding=3, text=tags.title))
    if tags.artist:
        id3.add(TPE1(encoding=3, text=tags.artist))
    id3.add(TALB(encoding=3, text=tags.album))
    id3.add(TPE2(encoding=3, text=tags.album_artist))
    id3.add(TDRC(encoding=3, text=tags.date))
    id3.add(TCON(encoding=3, text="Podcast"))
    if tags.comment:
        id3.add(COMM(encoding=3, lang="eng", desc="", text=tags.comment))
    id3.add(TLEN(encoding=3, text=str(tags.duration_ms)))
    id3.add(PCST(value=1))
    id3.add(TGID(encoding=3, text=tags.guid))
    id3.add(WOAS(url=tags.page_url))
    id3.add(WFED(url=tags.feed_url))
    if tags.art:
        id3.add(APIC(encoding=3, mime=tags.art_mime, type=3, desc="Cover", data=tags.art))
    # v2.3, not v2.4: Apple Podcasts and older players misread v2.4 frames (TDRC becomes TYER/TDAT).
    id3.update_to_v23()
    id3.save(path, v2_version=3, v1=0, padding=lambda info: 0)
