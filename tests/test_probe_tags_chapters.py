"""probe: every input format, made by ffmpeg and mutagen with known tags, art and chapters, read back."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from mutagen.aiff import AIFF
from mutagen.flac import FLAC, Picture
from mutagen.id3 import APIC, CHAP, COMM, CTOC, TALB, TDRC, TIT2, TPE1, TPOS, TRCK, WXXX, CTOCFlags
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from pipeline.audio.ffmpeg import ffmpeg
from pipeline.cli import main
from pipeline.episode import probe

TAGS = {
    "title": "Fixture “Title”",
    "artist": "Ann Example; Bo Example",
    "album": "Fixture Show",
    "date": "2026-03-04",
    "comment": "From the fixture.",
}
CHAPTERS = [(0.0, "Opening", ""), (1.5, "Second topic", "https://example.com/second")]
FFMETA = f""";FFMETADATA1
title={TAGS["title"]}
artist={TAGS["artist"]}
album={TAGS["album"]}
date={TAGS["date"]}
comment={TAGS["comment"]}
track=7/12
disc=2

[CHAPTER]
TIMEBASE=1/1000
START=0
END=1500
title=Opening

[CHAPTER]
TIMEBASE=1/1000
START=1500
END=3000
title=Second topic
"""


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", *args], check=True)


def _tone(path: Path, *codec: str, metadata: Path | None = None) -> Path:
    """Three seconds of sine, with the ffmetadata file's tags and chapters when given."""
    inputs = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]
    maps = ["-map", "0:a"]
    if metadata:
        inputs += ["-f", "ffmetadata", "-i", str(metadata)]
        maps += ["-map_metadata", "1", "-map_chapters", "1"]
    _ffmpeg(*inputs, *maps, "-t", "3", "-ac", "2", *codec, "-y", str(path))
    return path


def _id3_frames(tags) -> None:
    """The tags a host's editor writes as ID3, with chapters (CHAP/CTOC, a link on the second)."""
    tags.add(TIT2(encoding=3, text=TAGS["title"]))
    tags.add(TPE1(encoding=3, text=TAGS["artist"]))
    tags.add(TALB(encoding=3, text=TAGS["album"]))
    tags.add(TDRC(encoding=3, text=TAGS["date"]))
    tags.add(COMM(encoding=3, lang="eng", desc="", text=TAGS["comment"]))
    tags.add(TRCK(encoding=3, text="7/12"))
    tags.add(TPOS(encoding=3, text="2"))
    tags.add(
        CTOC(
            element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=["a", "b"], sub_frames=[]
        )
    )
    tags.add(
        CHAP(
            element_id="b",
            start_time=1500,
            end_time=3000,
            sub_frames=[TIT2(encoding=3, text="Second topic"), WXXX(encoding=3, desc="", url=CHAPTERS[1][2])],
        )
    )
    tags.add(CHAP(element_id="a", start_time=0, end_time=1500, sub_frames=[TIT2(encoding=3, text="Opening")]))


def _vorbis_chapters(tags) -> None:
    tags["CHAPTER001"] = "00:00:00.000"
    tags["CHAPTER001NAME"] = "Opening"
    tags["CHAPTER002"] = "00:00:01.500"
    tags["CHAPTER002NAME"] = "Second topic"
    tags["CHAPTER002URL"] = CHAPTERS[1][2]


def _picture(art: bytes) -> Picture:
    picture = Picture()
    picture.type, picture.mime, picture.data, picture.width, picture.height = 3, "image/jpeg", art, 64, 48
    return picture


@pytest.fixture(scope="session")
def fixtures(tmp_path_factory) -> dict[str, Path]:
    """One recording per input format, each with the same known tags, cover art and chapters."""
    folder = tmp_path_factory.mktemp("formats")
    meta = folder / "meta.txt"
    meta.write_text(FFMETA, encoding="utf-8")
    _ffmpeg("-f", "lavfi", "-i", "color=c=red:s=64x48", "-frames:v", "1", "-y", str(folder / "art.jpg"))
    art = (folder / "art.jpg").read_bytes()
    made = {}

    # MP3: ffmpeg writes the tags and CHAP/CTOC frames (its comment as TXXX:comment); mutagen adds the cover
    mp3 = _tone(folder / "panel.mp3", "-c:a", "libmp3lame", "-b:a", "64k", metadata=meta)
    tagged = MP3(mp3)
    tagged.tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="Cover", data=art))
    tagged.save()
    made["MP3"] = mp3

    # WAV with an ID3 chunk, written by mutagen
    wav = _tone(folder / "panel-id3.wav")
    tagged = WAVE(wav)
    tagged.add_tags()
    _id3_frames(tagged.tags)
    tagged.tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="Cover", data=art))
    tagged.save()
    made["WAV"] = wav

    # AIFF: ffmpeg's ID3 chunk with tags and chapters; mutagen adds the cover
    aiff = _tone(folder / "panel.aiff", "-write_id3v2", "1", metadata=meta)
    tagged = AIFF(aiff)
    tagged.tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="Cover", data=art))
    tagged.save()
    made["AIFF"] = aiff

    # FLAC, Ogg Vorbis, Opus: ffmpeg's Vorbis comments; mutagen adds CHAPTERnnn comments and the picture
    for kind, name, codec, cls in (
        ("FLAC", "panel.flac", ("-c:a", "flac"), FLAC),
        ("Ogg", "panel.ogg", ("-c:a", "libvorbis"), OggVorbis),
        ("Opus", "panel.opus", ("-c:a", "libopus"), OggOpus),
    ):
        path = _tone(folder / name, *codec, "-map_chapters", "-1", metadata=meta)
        tagged = cls(path)
        for key in [k for k in tagged.tags.keys() if k.lower().startswith("chapter")]:  # noqa: SIM118 (a Vorbis comment iterates as pairs)
            del tagged.tags[key]
        _vorbis_chapters(tagged.tags)
        if cls is FLAC:
            tagged.add_picture(_picture(art))
        else:
            tagged.tags["METADATA_BLOCK_PICTURE"] = [base64.b64encode(_picture(art).write()).decode("ascii")]
        tagged.save()
        made[kind] = path

    # M4A: ffmpeg's atoms and chapters (QuickTime track and Nero chpl); mutagen adds the cover
    m4a = _tone(folder / "panel.m4a", "-c:a", "aac", "-b:a", "64k", metadata=meta)
    tagged = MP4(m4a)
    tagged.tags["covr"] = [MP4Cover(art, imageformat=MP4Cover.FORMAT_JPEG)]
    tagged.save()
    made["M4A"] = m4a

    # WAV with only RIFF INFO (what ffmpeg and many recorders write): mutagen does not read it, probe does
    made["WAV-INFO"] = _tone(folder / "panel-info.wav", metadata=meta)
    made["art"] = folder / "art.jpg"
    return made


@pytest.mark.parametrize("kind", ["MP3", "WAV", "AIFF", "FLAC", "Ogg", "Opus", "M4A"])
def test_every_format_gives_its_tags_art_and_chapters(fixtures, kind):
    info = probe.probe(fixtures[kind])
    assert info.format == kind
    assert abs(info.duration - 3.0) < 0.1 and info.channels == 2
    for name, value in TAGS.items():
        assert info.tag(name) == value, name
    assert (info.track, info.disc) == (7, 2)
    assert info.art == fixtures["art"].read_bytes()
    assert info.art_mime == "image/jpeg"
    assert probe.image_size(info.art) == (64, 48)
    expected = (
        CHAPTERS if kind in ("WAV", "FLAC", "Ogg", "Opus") else [(start, title, "") for start, title, _ in CHAPTERS]
    )  # links: where the format carries them
    assert [(c.start, c.title, c.url) for c in info.chapters] == expected


def test_riff_info_of_a_wav(fixtures):
    info = probe.probe(fixtures["WAV-INFO"])
    assert info.format == "WAV"
    for name, value in TAGS.items():
        assert info.tag(name) == value, name
    assert info.track == 7 and info.disc is None  # RIFF INFO has no disc number
    assert info.chapters == () and info.art is None


def test_png_size():
    from tests.conftest import PNG_1PX

    assert probe.image_size(PNG_1PX) == (1, 1)
    assert probe.image_size(b"GIF89a....") is None


def test_info_command_prints_what_probe_reads(fixtures, capsys):
    assert main(["info", str(fixtures["MP3"])]) == 0
    out = capsys.readouterr().out
    for text in (
        "MP3 (mp3)",
        "0:03",
        "44100 Hz",
        "Fixture “Title”",
        "Ann Example; Bo Example",
        "7 / 2",
        "64×48 px",
        "image/jpeg",
        "00:00:01.500",
        "Second topic",
    ):
        assert text in out, text
    assert main(["info", str(fixtures["art"].with_name("missing.wav"))]) == 2
    assert "no such file" in capsys.readouterr().err
