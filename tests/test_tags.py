"""tags.tag: a mastered MP3 + a TagSet → a tagged copy (ID3v2.3) in the cache, deterministic and cached by content."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest
from mutagen.id3 import ID3
from mutagen.mp3 import MP3

from pipeline.episode import tags
from pipeline.records import Mastered, Media
from tests.conftest import PNG_1PX, make_audio

TAGS = tags.TagSet(
    title="Management vs Leadership",
    artist="Ann Example, Bo Example",
    album="Test Panel",
    album_artist="Test Author",
    date="2026-03-04",
    comment="Two views on leading teams — with ümlauts.",
    guid="0b7c5e0e-4f7e-4d36-9a51-3f0f7c1a2b3c",
    page_url="https://pod.example.com/show/management-vs-leadership/",
    feed_url="https://pod.example.com/show/feed.xml",
    duration_ms=3000,
    art=PNG_1PX,
    art_mime="image/png",
)


@pytest.fixture(scope="module")
def mastered_mp3(tmp_path_factory) -> Path:
    """A real MP3 as the master stage leaves it (made once; copied by tests that need their own)."""
    folder = tmp_path_factory.mktemp("mastered")
    return make_audio(folder / "master.mp3", seconds=3, codec_args=("-c:a", "libmp3lame", "-b:a", "64k"))


@pytest.fixture
def mastered(mastered_mp3: Path, tmp_path: Path) -> Mastered:
    path = tmp_path / "cache" / "mastered" / "abc123.mp3"
    path.parent.mkdir(parents=True)
    path.write_bytes(mastered_mp3.read_bytes())
    return Mastered(path=path, key="abc123", duration=3.0)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_tag_writes_every_frame(mastered: Mastered, tmp_path: Path):
    media = tags.tag(mastered, TAGS, tmp_path / "cache", "management-vs-leadership.mp3")
    id3 = ID3(media.path)
    assert id3.version == (2, 3, 0)
    assert id3["TIT2"].text == [TAGS.title]
    assert id3["TPE1"].text == [TAGS.artist]
    assert id3["TALB"].text == [TAGS.album]
    assert id3["TPE2"].text == [TAGS.album_artist]
    assert id3["TCON"].text == ["Podcast"]
    assert str(id3["TDRC"].text[0]) == "2026-03-04"
    comments = id3.getall("COMM")
    assert len(comments) == 1 and comments[0].text == [TAGS.comment] and comments[0].lang == "eng"
    assert id3["TLEN"].text == ["3000"]
    assert id3["PCST"].value == 1
    assert id3["TGID"].text == [TAGS.guid]
    assert id3["WOAS"].url == TAGS.page_url
    assert id3["WFED"].url == TAGS.feed_url
    pictures = id3.getall("APIC")
    assert len(pictures) == 1
    assert pictures[0].data == PNG_1PX
    assert pictures[0].mime == "image/png"
    assert pictures[0].type == 3  # front cover


def test_tagged_file_is_still_audio(mastered: Mastered, tmp_path: Path):
    media = tags.tag(mastered, TAGS, tmp_path / "cache", "ep.mp3")
    audio = MP3(media.path)
    assert audio.info.length == pytest.approx(3.0, abs=0.1)
    assert audio.info.channels == 2


def test_frames_from_the_master_are_replaced(mastered: Mastered, tmp_path: Path):
    # ffmpeg wrote its own ID3v2.4 tag (TSSE "Lavf…") into the master; the tagged file has only ours.
    assert "TSSE" in ID3(mastered.path)
    media = tags.tag(mastered, TAGS, tmp_path / "cache", "ep.mp3")
    assert "TSSE" not in ID3(media.path)
    assert len(ID3(media.path).getall("TIT2")) == 1


def test_media_record_describes_the_final_file(mastered: Mastered, tmp_path: Path):
    media = tags.tag(mastered, TAGS, tmp_path / "cache", "management-vs-leadership.mp3")
    assert isinstance(media, Media)
    assert media.path.is_file()
    assert media.path.parent == tmp_path / "cache" / "tagged"
    assert media.filename == "management-vs-leadership.mp3"
    assert media.mime == "audio/mpeg"
    assert media.length == media.path.stat().st_size
    assert media.length > mastered.path.stat().st_size  # the tags (and art) are counted
    assert media.sha256 == sha(media.path)
    assert media.duration == mastered.duration


def test_no_partial_files_are_left(mastered: Mastered, tmp_path: Path):
    media = tags.tag(mastered, TAGS, tmp_path / "cache", "ep.mp3")
    assert [p.name for p in media.path.parent.iterdir()] == [media.path.name]


def test_tag_twice_is_byte_identical_and_reuses_the_path(mastered: Mastered, tmp_path: Path):
    first = tags.tag(mastered, TAGS, tmp_path / "cache", "ep.mp3")
    content, mtime = first.path.read_bytes(), first.path.stat().st_mtime_ns
    second = tags.tag(mastered, TAGS, tmp_path / "cache", "ep.mp3")
    assert second.path == first.path
    assert second.path.read_bytes() == content
    assert second.path.stat().st_mtime_ns == mtime  # cached: not written again
    assert second == first


def test_tagging_is_deterministic_across_caches(mastered: Mastered, tmp_path: Path):
    first = tags.tag(mastered, TAGS, tmp_path / "cache-a", "ep.mp3")
    second = tags.tag(mastered, TAGS, tmp_path / "cache-b", "ep.mp3")
    assert first.path.name == second.path.name
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.sha256 == second.sha256 and first.length == second.length


def test_changed_title_gives_a_new_file_and_leaves_the_master_alone(mastered: Mastered, tmp_path: Path):
    master_before = sha(mastered.path)
    first = tags.tag(mastered, TAGS, tmp_path / "cache", "ep.mp3")
    first_bytes = first.path.read_bytes()
    second = tags.tag(mastered, replace(TAGS, title="A New Title"), tmp_path / "cache", "ep.mp3")
    assert second.path != first.path
    assert second.sha256 != first.sha256
    assert ID3(second.path)["TIT2"].text == ["A New Title"]
    assert first.path.read_bytes() == first_bytes  # the old tagged file is not rewritten
    assert sha(mastered.path) == master_before
    assert "TIT2" not in ID3(mastered.path)  # the master never gets our tags


@pytest.mark.parametrize(
    "change",
    [
        {"artist": "Cy"},
        {"album": "Other"},
        {"album_artist": "Other"},
        {"date": "2026-03-05"},
        {"comment": "Other"},
        {"guid": "other"},
        {"page_url": "https://x.example/"},
        {"feed_url": "https://x.example/feed.xml"},
        {"duration_ms": 3001},
        {"art": PNG_1PX + b"\0"},
        {"art_mime": "image/jpeg"},
    ],
)
def test_every_value_is_part_of_the_digest(change: dict):
    assert replace(TAGS, **change).digest() != TAGS.digest()


def test_digest_is_stable():
    assert TAGS.digest() == replace(TAGS).digest()
    assert len(TAGS.digest()) == 64


def test_other_master_key_gives_another_file(mastered: Mastered, tmp_path: Path):
    first = tags.tag(mastered, TAGS, tmp_path / "cache", "ep.mp3")
    second = tags.tag(replace(mastered, key="def456"), TAGS, tmp_path / "cache", "ep.mp3")
    assert second.path != first.path


def test_optional_frames_are_left_out_when_empty(mastered: Mastered, tmp_path: Path):
    media = tags.tag(
        mastered, replace(TAGS, artist="", comment="", art=None, art_mime=""), tmp_path / "cache", "ep.mp3"
    )
    id3 = ID3(media.path)
    assert "TPE1" not in id3
    assert id3.getall("COMM") == []
    assert id3.getall("APIC") == []
    assert id3["TIT2"].text == [TAGS.title]
    assert id3.version == (2, 3, 0)


def test_text_frames_use_v23_encodings(mastered: Mastered, tmp_path: Path):
    # ID3v2.3 knows only Latin-1 (0) and UTF-16 (1); UTF-8 (3) is v2.4-only.
    media = tags.tag(mastered, TAGS, tmp_path / "cache", "ep.mp3")
    raw = ID3(media.path, translate=False)
    encodings = {frame.FrameID: frame.encoding for frame in raw.values() if hasattr(frame, "encoding")}
    assert {"TIT2", "TPE1", "COMM", "TGID"} <= set(encodings)
    assert set(encodings.values()) <= {0, 1}
    assert raw["TIT2"].text == [TAGS.title]
    assert raw["COMM::eng"].text == [TAGS.comment]


def test_date_is_written_as_v23_frames(mastered: Mastered, tmp_path: Path):
    media = tags.tag(mastered, TAGS, tmp_path / "cache", "ep.mp3")
    raw = ID3(media.path, translate=False)  # the frames as stored, not upgraded to v2.4 on read
    assert raw.version == (2, 3, 0)
    assert "TDRC" not in raw
    assert raw["TYER"].text == ["2026"]
    assert raw["TDAT"].text == ["0403"]  # DDMM
