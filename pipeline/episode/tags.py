"""Tag: the mastered file + the episode → the final, tagged file (ID3v2.3, or MP4 atoms for M4A) in the cache."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mutagen import MutagenError
from mutagen.flac import Picture
from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    PCST,
    TALB,
    TCON,
    TDES,
    TDRC,
    TGID,
    TIT2,
    TLEN,
    TPE1,
    TPE2,
    TPOS,
    TRCK,
    WFED,
    WOAS,
    WXXX,
    CTOCFlags,
)
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggopus import OggOpus

from .. import artefacts, inputs, layout
from ..audio.ffmpeg import ffmpeg, file_arg, halt_if_stopped
from ..config import ShowSettings
from ..errors import AudioError
from ..files import file_sha256
from ..records import Mastered, Media, Notes


@dataclass(frozen=True)
class ChapterTag:
    """One chapter as written into the tags: milliseconds on the mastered timeline."""

    start_ms: int
    end_ms: int
    title: str
    url: str = ""
    art: bytes | None = None
    art_mime: str = ""


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
    episode: int | None = None
    season: int | None = None
    chapters: tuple[ChapterTag, ...] = ()

    def digest(self) -> str:
        """A stable fingerprint of every value."""
        digest = hashlib.sha256()
        for value in (
            self.title,
            self.artist,
            self.album,
            self.album_artist,
            self.date,
            self.comment,
            self.guid,
            self.page_url,
            self.feed_url,
            str(self.duration_ms),
            self.art_mime,
        ):
            digest.update(value.encode() + b"\0")
        digest.update(self.art or b"")
        marks = [
            (c.start_ms, c.end_ms, c.title, c.url, c.art_mime, hashlib.sha256(c.art or b"").hexdigest())
            for c in self.chapters
        ]
        digest.update(repr((self.episode, self.season, marks)).encode())
        digest.update(f"art at most {inputs.EMBED_SIDE} px, {inputs.EMBED_BYTES} bytes".encode())  # how art is embedded
        return digest.hexdigest()


def for_episode(
    notes: Notes,
    show: ShowSettings,
    mastered: Mastered,
    *,
    guid: str,
    page_url: str,
    feed_url: str,
    art: bytes | None,
    art_mime: str,
    chapters: tuple[ChapterTag, ...],
) -> TagSet:
    """An episode's tags: its notes and the show's names, where it is published, its art and its chapters."""
    return TagSet(
        title=notes.title,
        artist="; ".join(p.name for p in notes.panelists),
        album=show.title,
        album_artist=show.author,
        date=notes.date.date().isoformat(),
        comment=notes.summary,
        guid=guid,
        page_url=page_url,
        feed_url=feed_url,
        duration_ms=int(mastered.duration * 1000),
        art=art,
        art_mime=art_mime,
        episode=notes.episode,
        season=notes.season,
        chapters=chapters,
    )


def tag(mastered: Mastered, tags: TagSet, cache_dir: Path, filename: str, fresh: bool = False) -> Media:
    """Write tags onto a copy of the mastered file (cached by content, made again when `fresh`); return the final media file."""
    suffix = mastered.path.suffix
    shelf = artefacts.Shelf(cache_dir / "tagged", suffix, records=False)
    key = hashlib.sha256(f"{mastered.key}:{tags.digest()}".encode()).hexdigest()[:32]
    out = shelf.file(key)
    if fresh or shelf.get(key) is None:
        try:
            with shelf.make(key) as job:
                shutil.copyfile(mastered.path, job.partial)
                if suffix == ".mp3":
                    _write_id3(job.partial, tags, cache_dir)
                elif suffix == ".m4a":
                    _write_mp4(job.partial, tags, cache_dir)
                elif suffix == ".opus":
                    _write_opus(job.partial, tags, cache_dir)
        except MutagenError as err:
            raise AudioError(
                mastered.path,
                f"mutagen could not tag the mastered file: {err}",
                "delete the cache folder and build again",
            ) from err
        except inputs.Refused as err:  # every picture was checked when the notes and settings were read
            raise AudioError(
                mastered.path, f"its cover art {err.problem}", "check the artwork and the notes' images"
            ) from err
    return Media(
        path=out,
        filename=filename,
        mime=layout.AUDIO_TYPES[suffix.lstrip(".")],
        length=out.stat().st_size,
        duration=mastered.duration,
        sha256=file_sha256(out),
    )


def _embedded(data: bytes, cache_dir: Path) -> tuple[bytes, str, tuple[int, int]]:
    """`inputs.embedded`, and the picture's width and height, kept in the cache by the picture's content (and Pillow's
    version): an edit of an episode's words tags it again without reading its cover (nor loading Pillow)."""
    import PIL

    fit = f"\0{inputs.EMBED_SIDE}\0{inputs.EMBED_BYTES}\0{PIL.__version__}".encode()
    key = hashlib.sha256(data + fit).hexdigest()[:32]
    shelf = artefacts.Shelf(cache_dir / "art", ".img")
    kept = shelf.get(key)
    size = kept.get("size") if kept is not None else None
    if isinstance(size, list) and len(size) == 2 and kept.get("mime") in ("image/jpeg", "image/png"):
        with contextlib.suppress(OSError):
            return shelf.file(key).read_bytes(), kept["mime"], (int(size[0]), int(size[1]))
    art, mime = inputs.embedded(data)
    found = inputs.picture(art)
    with contextlib.suppress(OSError), shelf.make(key) as job:  # a cache that cannot be written: made again
        job.partial.write_bytes(art)
        job.record = {"mime": mime, "size": [found.width, found.height]}
    return art, mime, (found.width, found.height)


def _write_id3(path: Path, tags: TagSet, cache_dir: Path) -> None:
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
        art, mime, _ = _embedded(tags.art, cache_dir)
        id3.add(APIC(encoding=3, mime=mime, type=3, desc="Cover", data=art))
    if tags.comment:
        id3.add(TDES(encoding=3, text=tags.comment))
    if tags.episode:
        id3.add(TRCK(encoding=3, text=str(tags.episode)))
    if tags.season:
        id3.add(TPOS(encoding=3, text=str(tags.season)))
    _add_chapters(id3, tags.chapters, cache_dir)
    # v2.3, not v2.4: Apple Podcasts and older players misread v2.4 frames (long chapter titles break Apple's).
    # update_to_v23 turns TDRC into TYER/TDAT; save(v2_version=3) alone would leave a v2.4-only frame in a v2.3 tag.
    id3.update_to_v23()
    id3.save(path, v2_version=3, v1=0, padding=lambda info: 0)
    if tags.chapters:
        _chapters_in_time_order(path)


def _add_chapters(id3: ID3, chapters: tuple[ChapterTag, ...], cache_dir: Path) -> None:
    """CHAP frames (title, link, image) and a top-level, ordered CTOC listing them."""
    if not chapters:
        return
    ids = [f"chp{i}" for i in range(len(chapters))]
    id3.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=ids, sub_frames=[]))
    for element, chapter in zip(ids, chapters):
        sub = [TIT2(encoding=3, text=chapter.title)]
        if chapter.url:
            sub.append(WXXX(encoding=3, desc="", url=chapter.url))
        if chapter.art:
            art, mime, _ = _embedded(chapter.art, cache_dir)
            sub.append(APIC(encoding=3, mime=mime, type=3, desc="", data=art))
        id3.add(CHAP(element_id=element, start_time=chapter.start_ms, end_time=chapter.end_ms, sub_frames=sub))


def _chapters_in_time_order(path: Path) -> None:
    """Put the CHAP frames of the file's v2.3 tag in the order of their start times (same frames, same size).

    mutagen writes frames ordered by size; readers that ignore the CTOC (ffmpeg, and the players built on it) list
    chapters in file order."""
    with path.open("r+b") as handle:
        header = handle.read(10)
        if header[:3] != b"ID3" or header[3] != 3 or header[5] != 0:  # only a plain v2.3 tag, as written just above
            return
        size = sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(header[6:10]))  # synchsafe
        body = handle.read(size)
        frames, at = [], 0
        while at + 10 <= len(body) and body[at] != 0:
            end = at + 10 + int.from_bytes(body[at + 4 : at + 8], "big")
            frames.append(body[at:end])
            at = end
        marks = iter(sorted((f for f in frames if f[:4] == b"CHAP"), key=_chap_start))
        ordered = b"".join(next(marks) if f[:4] == b"CHAP" else f for f in frames)
        handle.seek(10)
        handle.write(ordered)


def _chap_start(frame: bytes) -> int:
    """A CHAP frame's start time (ms): the 4 bytes after its NUL-terminated element ID."""
    data = frame[10:]
    at = data.index(b"\0") + 1
    return int.from_bytes(data[at : at + 4], "big")


def _write_mp4(path: Path, tags: TagSet, cache_dir: Path) -> None:
    """MP4 atoms equivalent to the ID3 frames; chapters are muxed in by ffmpeg first (mutagen cannot write them)."""
    if tags.chapters:
        _mux_chapters(path, tags.chapters)
    mp4 = MP4(path)
    if mp4.tags is None:
        mp4.add_tags()
    values = {
        "\xa9nam": [tags.title],
        "\xa9alb": [tags.album],
        "aART": [tags.album_artist],
        "\xa9day": [tags.date],
        "\xa9gen": ["Podcast"],
        "stik": [21],  # media kind: podcast
        "pcst": True,
        "egid": [tags.guid],
        "purl": [tags.feed_url],
    }
    if tags.artist:
        values["\xa9ART"] = [tags.artist]
    if tags.comment:
        values["\xa9cmt"] = [tags.comment]
        values["desc"] = [tags.comment]
    if tags.episode:
        values["trkn"] = [(tags.episode, 0)]
    if tags.season:
        values["disk"] = [(tags.season, 0)]
    if tags.art:
        art, mime, _ = _embedded(tags.art, cache_dir)
        values["covr"] = [
            MP4Cover(art, imageformat=MP4Cover.FORMAT_PNG if mime == "image/png" else MP4Cover.FORMAT_JPEG)
        ]
    mp4.tags.update(values)
    mp4.save(padding=lambda info: 0)


def _write_opus(path: Path, tags: TagSet, cache_dir: Path) -> None:
    """Vorbis comments equivalent to the ID3 frames (an Opus edition): chapters as CHAPTERnnn comments, the cover as a
    METADATA_BLOCK_PICTURE."""
    opus = OggOpus(path)
    values = {
        "TITLE": tags.title,
        "ALBUM": tags.album,
        "ALBUMARTIST": tags.album_artist,
        "DATE": tags.date,
        "GENRE": "Podcast",
        "ARTIST": tags.artist,
        "DESCRIPTION": tags.comment,
        "PODCASTURL": tags.feed_url,
        "WEBSITE": tags.page_url,
        "GUID": tags.guid,
        "TRACKNUMBER": str(tags.episode or ""),
        "DISCNUMBER": str(tags.season or ""),
    }
    for number, chapter in enumerate(tags.chapters, start=1):
        seconds, ms = divmod(chapter.start_ms, 1000)
        values[f"CHAPTER{number:03d}"] = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{ms:03d}"
        values[f"CHAPTER{number:03d}NAME"] = chapter.title
        values[f"CHAPTER{number:03d}URL"] = chapter.url
    opus.tags.clear()
    for key, value in values.items():
        if value:
            opus.tags[key] = [value]
    if tags.art:
        art, mime, (width, height) = _embedded(tags.art, cache_dir)
        picture = Picture()
        picture.type, picture.mime, picture.desc, picture.data = 3, mime, "Cover", art
        picture.width, picture.height, picture.depth = width, height, 24
        opus.tags["METADATA_BLOCK_PICTURE"] = [base64.b64encode(picture.write()).decode("ascii")]
    opus.save(padding=lambda info: 0)


def _mux_chapters(path: Path, chapters: tuple[ChapterTag, ...]) -> None:
    """Copy the audio through ffmpeg with an ffmetadata chapter list: it writes both the QuickTime chapter track
    (Apple) and the Nero `chpl` atom (mutagen, most other players)."""
    meta = path.with_name(path.name + ".ffmeta")
    muxed = path.with_name(path.name + ".chapters.m4a")
    lines = [";FFMETADATA1"]
    for chapter in chapters:
        lines += [
            "",
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={chapter.start_ms}",
            f"END={chapter.end_ms}",
            f"title={_ffmeta_escape(chapter.title)}",
        ]
    meta.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        args = [
            ffmpeg(),
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            file_arg(path),
            "-f",
            "ffmetadata",
            "-i",
            file_arg(meta),
            "-map",
            "0:a",
            "-map_metadata",
            "1",
            "-map_chapters",
            "1",
            "-c",
            "copy",
            "-fflags",
            "+bitexact",
            "-flags:a",
            "+bitexact",
            "-movflags",
            "+faststart",
            "-f",
            "ipod",
            "-y",
            file_arg(muxed),
        ]
        done = subprocess.run(args, capture_output=True, text=True, errors="replace", check=False)
        halt_if_stopped(done.returncode, done.stderr, path)
        if done.returncode != 0:
            raise AudioError(
                path,
                f"ffmpeg could not add the chapters: {done.stderr.strip()[-300:]}",
                "delete the cache folder and build again",
            )
        os.replace(muxed, path)
    finally:
        meta.unlink(missing_ok=True)
        muxed.unlink(missing_ok=True)


def _ffmeta_escape(text: str) -> str:
    """ffmetadata's escaping: a backslash before = ; # \\ and newlines."""
    return "".join("\\" + ch if ch in "=;#\\\n" else ch for ch in text)
