"""discover: recordings in episodes/ paired with their notes by slug; clashing names are failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import config
from pipeline.episode.discover import AUDIO_EXTENSIONS, Recording, discover
from pipeline.errors import PanelpressError
from pipeline.layout import web_slug
from pipeline.records import Failure
from tests.conftest import checksums, make_audio, write_show


def _touch(path: Path, content: bytes = b"not read by discover") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_every_supported_extension_is_found(show: Path):
    episodes = show / "episodes"
    for i, ext in enumerate(AUDIO_EXTENSIONS):
        _touch(episodes / f"ep{i}{ext}")
    recordings, failures = discover(config.load(show))
    assert failures == []
    assert {r.path.suffix for r in recordings} == set(AUDIO_EXTENSIONS)
    assert set(AUDIO_EXTENSIONS) >= {".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".aif", ".aiff"}
    assert len(recordings) == len(AUDIO_EXTENSIONS)


def test_upper_case_extension_is_found(show: Path):
    _touch(show / "episodes" / "Loud.WAV")
    recordings, _ = discover(config.load(show))
    assert [r.path.name for r in recordings] == ["Loud.WAV"]


def test_other_files_are_ignored(show: Path):
    episodes = show / "episodes"
    for name in ("README.md", "notes.txt", "cover.jpg", ".DS_Store", "episode.wav.bak", "take1.mp4", "wav"):
        _touch(episodes / name)
    (episodes / "folder.wav").mkdir()  # a folder with an audio-like name is not a recording
    _touch(episodes / "folder.wav" / "inside.wav")  # nor is anything below episodes/
    real = make_audio(episodes / "real.wav", seconds=0.5)
    recordings, failures = discover(config.load(show))
    assert failures == []
    assert [r.path for r in recordings] == [real]


def test_discover_reads_and_writes_nothing_in_episodes(show: Path):
    make_audio(show / "episodes" / "a.wav", seconds=0.5)
    _touch(show / "episodes" / "README.md")
    before = checksums(show)
    discover(config.load(show))
    assert checksums(show) == before


def test_notes_are_paired_by_stem(show: Path):
    cfg = config.load(show)
    a = _touch(show / "episodes" / "management-vs-leadership.wav")
    b = _touch(show / "episodes" / "Panel Two.flac")
    recordings, failures = discover(cfg)
    assert failures == []
    assert recordings == [  # sorted by web slug: management-vs-leadership, panel-two
        Recording(slug="management-vs-leadership", path=a, notes_path=cfg.notes_dir / "management-vs-leadership.md"),
        Recording(slug="Panel Two", path=b, notes_path=cfg.notes_dir / "Panel Two.md"),
    ]
    # The notes path is where the notes live whether or not they exist yet.
    assert not recordings[1].notes_path.exists()


def test_recordings_are_sorted(show: Path):
    for name in ("c.wav", "a.mp3", "b.flac"):
        _touch(show / "episodes" / name)
    recordings, _ = discover(config.load(show))
    assert [r.slug for r in recordings] == ["a", "b", "c"]


def test_same_slug_twice_is_a_failure(show: Path):
    _touch(show / "episodes" / "a.wav")
    _touch(show / "episodes" / "a.flac")
    other = _touch(show / "episodes" / "b.mp3")
    recordings, failures = discover(config.load(show))
    assert [r.path for r in recordings] == [other]  # the others still go on
    assert len(failures) == 1
    failure = failures[0]
    assert isinstance(failure, Failure)
    assert failure.slug == "a"
    assert isinstance(failure.error, PanelpressError)
    message = str(failure.error)
    assert "a.wav" in message and "a.flac" in message
    assert "2 recordings" in message
    assert "rename" in failure.error.fix


def test_names_that_differ_only_in_web_form_clash(show: Path):
    _touch(show / "episodes" / "Ep 1.wav")
    _touch(show / "episodes" / "ep-1.mp3")
    recordings, failures = discover(config.load(show))
    assert recordings == []
    assert [f.slug for f in failures] == ["ep-1"]
    assert "Ep 1.wav" in str(failures[0].error) and "ep-1.mp3" in str(failures[0].error)


def test_no_episodes_folder_is_empty(tmp_path: Path):
    folder = write_show(tmp_path / "show")
    (folder / "episodes").rmdir()
    assert discover(config.load(folder)) == ([], [])


def test_empty_episodes_folder(show: Path):
    assert discover(config.load(show)) == ([], [])


@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        ("Management vs Leadership", "management-vs-leadership"),
        ("management-vs-leadership", "management-vs-leadership"),
        ("Café Müller", "cafe-muller"),
        ("naïve résumé", "naive-resume"),
        ("  Ep. 12 -- Final!  ", "ep-12-final"),
        ("2026_03_04 panel", "2026-03-04-panel"),
        ("", "episode"),
        ("!!!", "episode"),
        ("日本語", "episode"),
    ],
)
def test_web_slug(slug: str, expected: str):
    assert web_slug(slug) == expected


@pytest.mark.parametrize("slug", ["Management vs Leadership", "Café Müller", "  x  ", "a/b\\c?d#e", "日本語"])
def test_web_slug_is_url_safe_and_idempotent(slug: str):
    result = web_slug(slug)
    assert result and all(c in "abcdefghijklmnopqrstuvwxyz0123456789-" for c in result)
    assert not result.startswith("-") and not result.endswith("-") and "--" not in result
    assert web_slug(result) == result
