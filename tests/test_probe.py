"""probe: stream facts, tags and art of real recordings made with ffmpeg; unreadable files are AudioErrors."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pipeline.episode.probe import probe
from pipeline.errors import AudioError, PanelpressError
from pipeline.records import AudioInfo
from tests.conftest import PNG_1PX, checksums, make_audio

# name, ffmpeg codec args, channels, rate, seconds, expected (format, codec)
FORMATS = [
    ("speech.m4a", ("-c:a", "aac"), 2, 44100, 2.0, ("M4A", "aac")),
    ("speech.ogg", ("-c:a", "libvorbis"), 2, 44100, 2.0, ("Ogg", "vorbis")),
    ("speech.opus", ("-c:a", "libopus"), 1, 48000, 2.0, ("Opus", "opus")),
    ("speech.aiff", (), 2, 44100, 2.0, ("AIFF", "pcm")),
    ("speech.aif", (), 1, 22050, 1.5, ("AIFF", "pcm")),
    ("speech.aac", ("-c:a", "aac"), 2, 44100, 2.0, ("AAC", "aac")),
]


@pytest.fixture(scope="module")
def formats_dir(tmp_path_factory) -> Path:
    """One short recording per extra container, made once for this module."""
    folder = tmp_path_factory.mktemp("formats")
    for name, args, channels, rate, seconds, _ in FORMATS:
        make_audio(folder / name, seconds=seconds, channels=channels, rate=rate, codec_args=args)
    return folder


def test_stereo_wav(audio_dir: Path):
    info = probe(audio_dir / "stereo.wav")
    assert isinstance(info, AudioInfo)
    assert info.path == audio_dir / "stereo.wav"
    assert (info.format, info.codec) == ("WAV", "pcm")
    assert info.channels == 2
    assert info.sample_rate == 44100
    assert info.duration == pytest.approx(4.0, abs=0.01)
    assert info.bitrate == 44100 * 16 * 2
    assert info.tags == ()
    assert info.art is None and info.art_mime == ""


def test_mono_flac(audio_dir: Path):
    info = probe(audio_dir / "mono.flac")
    assert (info.format, info.codec) == ("FLAC", "flac")
    assert info.channels == 1
    assert info.sample_rate == 48000
    assert info.duration == pytest.approx(3.0, abs=0.01)
    assert info.art is None


def test_tagged_mp3(audio_dir: Path):
    info = probe(audio_dir / "tagged.mp3")
    assert (info.format, info.codec) == ("MP3", "mp3")
    assert info.channels == 2
    assert info.sample_rate == 44100
    assert info.duration == pytest.approx(5.0, abs=0.1)
    assert info.bitrate == pytest.approx(96000, rel=0.02)
    assert info.tag("title") == "Tagged Title"
    assert info.tag("artist") == "Ann Example; Bo Example"
    assert info.tag("date") == "2026-03-04"
    assert info.tag("comment") == "From the tags."
    assert info.tag("album") == ""  # absent tags read as ''
    assert info.art == PNG_1PX
    assert info.art_mime == "image/png"


def test_probe_does_not_touch_the_recordings(audio_dir: Path):
    before = checksums(audio_dir)
    for name in ("stereo.wav", "mono.flac", "tagged.mp3"):
        probe(audio_dir / name)
    assert checksums(audio_dir) == before


@pytest.mark.parametrize(("name", "args", "channels", "rate", "seconds", "kind"), FORMATS, ids=[f[0] for f in FORMATS])
def test_other_containers(formats_dir: Path, name, args, channels, rate, seconds, kind):
    info = probe(formats_dir / name)
    assert (info.format, info.codec) == kind
    assert info.channels == channels
    assert info.duration == pytest.approx(seconds, abs=0.06)
    assert info.bitrate > 0


@pytest.mark.parametrize("name", ["speech.m4a", "speech.ogg", "speech.aiff", "speech.aif", "speech.aac"])
def test_other_containers_sample_rate(formats_dir: Path, name: str):
    expected = next(f[3] for f in FORMATS if f[0] == name)
    assert probe(formats_dir / name).sample_rate == expected


def test_flac_vorbis_comments_and_picture(tmp_path: Path):
    from mutagen.flac import FLAC, Picture

    path = make_audio(
        tmp_path / "tagged.flac",
        seconds=1,
        codec_args=(
            "-metadata",
            "title=Flac Title",
            "-metadata",
            "artist=Ann; Bo",
            "-metadata",
            "date=2025-12-01",
            "-metadata",
            "description=From vorbis comments.",
        ),
    )
    flac = FLAC(path)
    picture = Picture()
    picture.type, picture.mime, picture.data = 3, "image/png", PNG_1PX
    flac.add_picture(picture)
    flac.save()
    info = probe(path)
    assert info.tag("title") == "Flac Title"
    assert info.tag("artist") == "Ann; Bo"
    assert info.tag("date") == "2025-12-01"
    assert info.tag("comment") == "From vorbis comments."
    assert info.art == PNG_1PX and info.art_mime == "image/png"


def test_m4a_tags(tmp_path: Path):
    path = make_audio(
        tmp_path / "tagged.m4a",
        seconds=1,
        codec_args=(
            "-c:a",
            "aac",
            "-metadata",
            "title=M4A Title",
            "-metadata",
            "artist=Cy",
            "-metadata",
            "date=2024-02-29",
            "-metadata",
            "comment=From atoms.",
        ),
    )
    info = probe(path)
    assert info.format == "M4A"
    assert info.tag("title") == "M4A Title"
    assert info.tag("artist") == "Cy"
    assert info.tag("date") == "2024-02-29"
    assert info.tag("comment") == "From atoms."


# --- errors --------------------------------------------------------------------------------


def probe_error(path: Path) -> AudioError:
    """Probe a file that must fail; return the AudioError after the common checks."""
    with pytest.raises(AudioError) as caught:
        probe(path)
    err = caught.value
    assert isinstance(err, PanelpressError)
    assert err.path == path
    assert str(path) in str(err), "the message must name the file"
    assert err.fix
    return err


def test_empty_file(tmp_path: Path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    err = probe_error(path)
    assert "empty" in err.problem


def test_text_file_renamed_wav(tmp_path: Path):
    path = tmp_path / "notes.wav"
    path.write_text("These are my show notes, not a recording.\n" * 20, encoding="utf-8")
    err = probe_error(path)
    assert "not a recording panelpress can read" in err.problem
    assert "WAV" in err.fix


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_bytes_named_mp3(tmp_path: Path, seed: int):
    path = tmp_path / f"noise{seed}.mp3"
    path.write_bytes(random.Random(seed).randbytes(8192))
    err = probe_error(path)
    assert "panelpress can read" in err.problem


def test_random_bytes_named_flac(tmp_path: Path):
    path = tmp_path / "noise.flac"
    path.write_bytes(random.Random(7).randbytes(4096))
    probe_error(path)


def test_wav_header_without_audio(tmp_path: Path):
    path = make_audio(tmp_path / "silent.wav", seconds=0)
    assert path.stat().st_size > 0
    err = probe_error(path)
    assert err.problem == "holds no audio (duration 0)"


def test_truncated_flac_header(audio_dir: Path, tmp_path: Path):
    path = tmp_path / "cut.flac"
    path.write_bytes((audio_dir / "mono.flac").read_bytes()[:20])
    assert "panelpress can read" in probe_error(path).problem
