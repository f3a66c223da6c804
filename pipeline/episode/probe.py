"""Probe: what a recording is (duration, codec, rate, channels, tags, art, chapters), read with mutagen."""

from __future__ import annotations

import re
import struct
from dataclasses import replace
from pathlib import Path

import mutagen
from mutagen.flac import FLAC, Picture
from mutagen.id3 import ID3, CTOCFlags
from mutagen.mp4 import MP4, MP4Cover

from .. import inputs
from ..errors import AudioError
from ..records import AudioInfo, Chapter
from .chapters import parse_time

# mutagen's class name → (container, codec) as a host would call them.
_KINDS = {
    "MP3": ("MP3", "mp3"),
    "FLAC": ("FLAC", "flac"),
    "WAVE": ("WAV", "pcm"),
    "AIFF": ("AIFF", "pcm"),
    "MP4": ("M4A", "aac"),
    "AAC": ("AAC", "aac"),
    "OggVorbis": ("Ogg", "vorbis"),
    "OggOpus": ("Opus", "opus"),
    "OggFLAC": ("Ogg", "flac"),
}

_ID3_FRAMES = {
    "TIT2": "title",
    "TPE1": "artist",
    "TALB": "album",
    "TDRC": "date",
    "TYER": "date",
    "COMM": "comment",
    "TRCK": "track",
    "TPOS": "disc",
}
_VORBIS_KEYS = {
    "title": "title",
    "artist": "artist",
    "album": "album",
    "date": "date",
    "comment": "comment",
    "description": "comment",
    "tracknumber": "track",
    "discnumber": "disc",
}
# RIFF INFO chunks of a WAV (what ffmpeg, Audacity and most recorders write when there is no ID3 chunk).
_RIFF_INFO = {
    "INAM": "title",
    "IART": "artist",
    "IPRD": "album",
    "ICRD": "date",
    "ICMT": "comment",
    "ITRK": "track",
    "IPRT": "track",
}
_MP4_ATOMS = {
    "\xa9nam": "title",
    "\xa9ART": "artist",
    "\xa9alb": "album",
    "\xa9day": "date",
    "\xa9cmt": "comment",
    "desc": "comment",
}


_EXPORT = "export it again as WAV, FLAC, MP3 or M4A"
# What mutagen's errors mean, in a host's words. Its own messages may quote the file's first bytes, and the file may
# be a symlink to anything on the machine: they are never shown.
_REASONS = {
    "InvalidChunk": "its RIFF/AIFF header is damaged or cut short",
    "HeaderNotFoundError": "no MPEG audio frame was found in it",
    "FLACNoHeaderError": "it does not start as a FLAC file does",
    "MP4StreamInfoError": "its MP4 header holds no audio stream panelpress can read",
    "OggError": "its Ogg pages are damaged",
}


def probe(path: Path) -> AudioInfo:
    """Read a recording's stream facts and tags; raise AudioError if it is not readable audio."""
    try:
        if path.stat().st_size == 0:
            raise AudioError(path, "the file is empty", "replace it with the full recording")
        audio = mutagen.File(path)
        if audio is None or getattr(audio, "info", None) is None:
            raise AudioError(path, "is not a recording panelpress can read (not a format it knows)", _EXPORT)
        return _info(path, audio)
    except AudioError:
        raise
    except OSError as err:
        raise AudioError(
            path, f"cannot be read: {err.strerror or err.__class__.__name__}", "make it a readable file"
        ) from err
    except Exception as err:  # a damaged or hostile file can make any parser fail in its own way: never a crash
        raise AudioError(path, f"is not a recording panelpress can read: {_reason(err)}", _EXPORT) from err


def _reason(err: Exception) -> str:
    for kind in type(err).__mro__:
        if kind.__name__ in _REASONS:
            return _REASONS[kind.__name__]
    return f"its header could not be read ({type(err).__name__})"


def _info(path: Path, audio) -> AudioInfo:
    """What mutagen read, as panelpress's record; text a feed cannot carry is left out of the tags."""
    info = audio.info
    duration = float(getattr(info, "length", 0.0) or 0.0)
    if duration <= 0:
        raise AudioError(path, "holds no audio (duration 0)", "replace it with the full recording")
    container, codec = _KINDS.get(type(audio).__name__, (type(audio).__name__, "unknown"))
    if container == "M4A":
        codec = getattr(info, "codec", "mp4a") or "mp4a"
        codec = "alac" if codec.startswith("alac") else "aac"
    sample_rate = int(getattr(info, "sample_rate", 0) or 0)
    if codec == "opus":
        sample_rate = 48000  # Opus always decodes at 48 kHz; mutagen does not say
    tags, art, art_mime = _tags(audio)
    if container == "WAV":
        found = {name for name, _ in tags}
        tags.extend((name, value) for name, value in _riff_info(path) if name not in found)
    # A recording's own tags only start the notes (a draft the host reads): what XML cannot carry is dropped.
    tags = [(name, inputs.clean(value).strip()) for name, value in tags if inputs.clean(value).strip()]
    return AudioInfo(
        path=path,
        format=container,
        codec=codec,
        duration=duration,
        sample_rate=sample_rate,
        channels=int(getattr(info, "channels", 0) or 0),
        bitrate=int(getattr(info, "bitrate", 0) or 0),
        tags=tuple(tags),
        art=art,
        art_mime=art_mime,
        chapters=tuple(
            replace(c, title=inputs.clean(c.title).strip(), url=inputs.clean(c.url).strip()) for c in _chapters(audio)
        ),
        track=_number(tags, "track"),
        disc=_number(tags, "disc"),
    )


def _number(tags: list[tuple[str, str]], name: str) -> int | None:
    """A track or disc number ("3" or "3/10") as a positive int, or None."""
    value = next((v for k, v in tags if k == name), "")
    match = re.match(r"\s*(\d+)", value)
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def _chapters(audio) -> tuple[Chapter, ...]:
    """The recording's own chapters: ID3 CHAP frames (in CTOC order), MP4 chapters, or CHAPTERnnn Vorbis comments."""
    raw = audio.tags
    found: list[Chapter] = []
    if isinstance(raw, ID3):
        frames = {f.element_id: f for f in raw.getall("CHAP")}
        order = next((list(t.child_element_ids) for t in raw.getall("CTOC") if t.flags & CTOCFlags.TOP_LEVEL), [])
        ids = [i for i in order if i in frames] + sorted(
            (i for i in frames if i not in order), key=lambda i: frames[i].start_time
        )
        for element in ids:
            sub = frames[element].sub_frames
            title = str(sub["TIT2"].text[0]) if "TIT2" in sub and sub["TIT2"].text else ""
            url = next((f.url for f in sub.getall("WXXX")), "")
            found.append(Chapter(start=round(frames[element].start_time / 1000, 3), title=title.strip(), url=url))
    elif isinstance(audio, MP4):
        found = sorted(
            (Chapter(start=round(c.start, 3), title=(c.title or "").strip()) for c in (audio.chapters or [])),
            key=lambda c: c.start,
        )
    elif raw is not None and hasattr(raw, "keys"):
        numbers = sorted({m.group(1) for k in raw.keys() if (m := re.fullmatch(r"chapter(\d+)", k.lower()))}, key=int)  # noqa: SIM118 (a Vorbis comment iterates as pairs)
        for number in numbers:
            try:
                start = parse_time(raw[f"CHAPTER{number}"][0])
            except ValueError:
                continue  # a chapter whose time cannot be read is left out, not fatal: these are the recording's own
            title = (raw.get(f"CHAPTER{number}NAME") or [""])[0]
            url = (raw.get(f"CHAPTER{number}URL") or [""])[0]
            found.append(Chapter(start=start, title=title.strip(), url=url.strip()))
        found.sort(key=lambda c: c.start)
    return tuple(found)


def _riff_info(path: Path) -> list[tuple[str, str]]:
    """Tags from a WAV's RIFF `LIST`/`INFO` chunk (mutagen reads only ID3 in WAV)."""
    found = []
    with path.open("rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return found
        while True:
            header = handle.read(8)
            if len(header) < 8:
                return found
            chunk, size = header[:4], struct.unpack("<I", header[4:])[0]
            if chunk == b"LIST" and size >= 4:
                body = handle.read(size)
                if body[:4] == b"INFO":
                    found.extend(_info_entries(body[4:]))
                    return found
            else:
                handle.seek(size, 1)
            if size % 2:
                handle.seek(1, 1)


def _info_entries(body: bytes) -> list[tuple[str, str]]:
    found, at = [], 0
    while at + 8 <= len(body):
        key, size = body[at : at + 4].decode("latin-1"), struct.unpack("<I", body[at + 4 : at + 8])[0]
        data = body[at + 8 : at + 8 + size].split(b"\0", 1)[0]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")  # older recorders write their code page; latin-1 never fails
        if key in _RIFF_INFO and text.strip():
            found.append((_RIFF_INFO[key], text.strip()))
        at += 8 + size + size % 2
    return found


def _tags(audio) -> tuple[list[tuple[str, str]], bytes | None, str]:
    tags: list[tuple[str, str]] = []
    art, mime = None, ""
    raw = audio.tags
    if isinstance(raw, ID3):
        for frame_id, name in _ID3_FRAMES.items():
            for frame in raw.getall(frame_id):
                tags.extend((name, str(text)) for text in frame.text if str(text).strip())
        for frame in raw.getall("TXXX"):  # ffmpeg writes a comment as TXXX:comment
            if frame.desc.lower() in ("comment", "description"):
                tags.extend(("comment", str(text)) for text in frame.text if str(text).strip())
        pictures = raw.getall("APIC")
        if pictures:
            front = next((p for p in pictures if p.type == 3), pictures[0])
            art, mime = front.data, front.mime
    elif isinstance(raw, mutagen.mp4.MP4Tags):
        for atom, name in _MP4_ATOMS.items():
            tags.extend((name, str(v)) for v in raw.get(atom, []))
        for atom, name in (("trkn", "track"), ("disk", "disc")):
            if raw.get(atom):
                tags.append((name, str(raw[atom][0][0])))
        covers = raw.get("covr") or []
        if covers:
            art = bytes(covers[0])
            mime = "image/png" if covers[0].imageformat == MP4Cover.FORMAT_PNG else "image/jpeg"
    elif raw is not None and hasattr(raw, "keys"):  # Vorbis comments (FLAC, Ogg, Opus)
        for key, name in _VORBIS_KEYS.items():
            tags.extend((name, str(v)) for v in (raw.get(key) or []))
        pictures = list(getattr(audio, "pictures", []) or [])
        for encoded in raw.get("metadata_block_picture") or []:
            try:
                import base64

                pictures.append(Picture(base64.b64decode(encoded)))
            except Exception:  # a broken picture block is not worth failing a build over
                continue
        if pictures:
            front = next((p for p in pictures if p.type == 3), pictures[0])
            art, mime = front.data, front.mime
    if isinstance(audio, FLAC) and art is None and audio.pictures:
        art, mime = audio.pictures[0].data, audio.pictures[0].mime
    return tags, art, mime


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of an embedded image (read with Pillow), or None if it is not one (or a decompression bomb)."""
    try:
        found = inputs.picture(data, inputs.ANY_PICTURE)
    except inputs.Refused:
        return None
    return found.width, found.height
