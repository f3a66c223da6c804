"""Probe: what a recording is (duration, codec, rate, channels, tags, art), read with mutagen."""

from __future__ import annotations

from pathlib import Path

import mutagen
from mutagen.flac import FLAC, Picture
from mutagen.id3 import ID3
from mutagen.mp4 import MP4, MP4Cover

from .errors import AudioError
from .records import AudioInfo

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

_ID3_FRAMES = {"TIT2": "title", "TPE1": "artist", "TALB": "album", "TDRC": "date", "TYER": "date", "COMM": "comment", "TRCK": "track", "TPOS": "disc"}
_VORBIS_KEYS = {"title": "title", "artist": "artist", "album": "album", "date": "date", "comment": "comment", "description": "comment", "tracknumber": "track", "discnumber": "disc"}
_MP4_ATOMS = {"\xa9nam": "title", "\xa9ART": "artist", "\xa9alb": "album", "\xa9day": "date", "\xa9cmt": "comment", "desc": "comment"}


def probe(path: Path) -> AudioInfo:
    """Read a recording's stream facts and tags; raise AudioError if it is not readable audio."""
    if path.stat().st_size == 0:
        raise AudioError(path, "the file is empty", "replace it with the full recording")
    try:
        audio = mutagen.File(path)
    except mutagen.MutagenError as err:
        raise AudioError(path, f"is not a recording panelpress can read ({err})", "export it again as WAV, FLAC, MP3 or M4A") from err
    if audio is None or getattr(audio, "info", None) is None:
        raise AudioError(path, "is not a recording panelpress can read", "export it again as WAV, FLAC, MP3 or M4A")
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
    )


def _tags(audio) -> tuple[list[tuple[str, str]], bytes | None, str]:
    tags: list[tuple[str, str]] = []
    art, mime = None, ""
    raw = audio.tags
    if isinstance(raw, ID3):
        for frame_id, name in _ID3_FRAMES.items():
            for frame in raw.getall(frame_id):
                tags.extend((name, str(text)) for text in frame.text if str(text).strip())
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
