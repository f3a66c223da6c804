"""Chapters: times, chapters files, checks with file and line, the intro shift, and the JSON chapters file."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import jsonschema
import pytest
import yaml

from pipeline.episode import chapters, notes, starter
from pipeline.errors import ChapterError, NotesError
from pipeline.records import AudioInfo, Chapter, Episode
from pipeline.show import pages
from tests.conftest import PNG_1PX, write_notes
from tests.records import published, show_config

# The Podcasting 2.0 JSON chapters format, version 1.2 (podcast-namespace docs/examples/chapters/jsonChapters.md).
JSON_CHAPTERS_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["version", "chapters"],
    "properties": {
        "version": {"type": "string", "pattern": r"^1\.2(\.[0-9]+)?$"},
        "author": {"type": "string"},
        "title": {"type": "string"},
        "podcastName": {"type": "string"},
        "description": {"type": "string"},
        "fileName": {"type": "string"},
        "waypoints": {"type": "boolean"},
        "chapters": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["startTime"],
                "additionalProperties": False,
                "properties": {
                    "startTime": {"type": "number", "minimum": 0},
                    "endTime": {"type": "number", "minimum": 0},
                    "title": {"type": "string"},
                    "img": {"type": "string", "pattern": "^https?://"},
                    "url": {"type": "string", "pattern": "^https?://"},
                    "toc": {"type": "boolean"},
                    "location": {"type": "object", "required": ["name", "geo"]},
                },
            },
        },
    },
}


def _info(path: Path, duration: float = 600.0, marks: tuple[Chapter, ...] = ()) -> AudioInfo:
    return AudioInfo(
        path=path,
        format="WAV",
        codec="pcm",
        duration=duration,
        sample_rate=44100,
        channels=2,
        bitrate=0,
        chapters=marks,
    )


# --- times ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (0, 0.0),
        (95, 95.0),
        (1.5, 1.5),
        ("00:00:00", 0.0),
        ("01:30", 90.0),
        ("1:02:03.5", 3723.5),
        ("75:30", 4530.0),
        ("12.25", 12.25),
    ],
)
def test_parse_time(value, seconds):
    assert chapters.parse_time(value) == seconds


@pytest.mark.parametrize("value", ["1:60", "1:60:00", "soon", "-1", -1, "1:2:3:4", True, "", "1.2.3"])
def test_parse_time_rejects(value):
    with pytest.raises(ValueError):
        chapters.parse_time(value)


def test_timestamp_round_trips():
    for seconds in (0.0, 59.5, 3723.25, 36000.0):
        assert chapters.parse_time(chapters.timestamp(seconds)) == seconds
    assert chapters.timestamp(3723.5) == "01:02:03.500"
    assert chapters.timestamp(90) == "00:01:30"


# --- chapters files ------------------------------------------------------------------------------------------


def test_audacity_labels(tmp_path):
    path = tmp_path / "panel.chapters.txt"
    path.write_text(
        "0.000000\t0.000000\tWelcome\n\\\t100.0\t2000.0\n95.500000\t120.000000\tFirst topic\n610.25\t610.25\tQ&A\n",
        encoding="utf-8",
    )
    found = chapters.read_file(path)
    assert [(c.start, c.title, c.line) for c in found] == [
        (0.0, "Welcome", 1),
        (95.5, "First topic", 3),
        (610.25, "Q&A", 4),
    ]


def test_plain_timestamps_with_links(tmp_path):
    path = tmp_path / "panel.chapters.txt"
    path.write_text(
        "\ufeff# chapters of the panel\n00:00:00 Welcome\n\n01:35 - First topic <https://example.com/first>\n1:10:00 Questions\n",
        encoding="utf-8",
    )
    found = chapters.read_file(path)
    assert [(c.start, c.title, c.url, c.line) for c in found] == [
        (0.0, "Welcome", "", 2),
        (95.0, "First topic", "https://example.com/first", 4),
        (4200.0, "Questions", "", 5),
    ]


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("00:00 Welcome\nFirst topic at ten\n", 2, "'First topic at ten' is not a chapter"),
        ("00:05 Welcome\n01:00 Topic\n", 1, "chapter 1 ('Welcome') starts at 00:00:05, not at 0"),
        (
            "00:00 Welcome\n05:00 Topic\n04:00 Back\n",
            3,
            "chapter 3 ('Back') starts at 00:04:00, not after chapter 2 (00:05:00)",
        ),
        ("00:00 Welcome\n05:00 Topic\n05:00 Same\n", 3, "not after chapter 2"),
        ("0.0\t0.0\tWelcome\n60.0\t60.0\t \n", 2, "chapter 2 has no title"),
    ],
)
def test_bad_chapters_file_names_file_and_line(tmp_path, text, line, problem):
    path = tmp_path / "panel.chapters.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ChapterError) as caught:
        chapters.read_file(path)
    err = caught.value
    assert err.path == path and err.line == line
    assert problem in err.problem and err.problem.startswith(f"line {line}: ")
    assert f"panel.chapters.txt: line {line}: " in err.message()
    assert err.fix


# --- notes front matter --------------------------------------------------------------------------------------


def test_notes_chapters_in_every_form(tmp_path):
    (tmp_path / "show_notes").mkdir()
    (tmp_path / "show_notes" / "topic.png").write_bytes(PNG_1PX)
    path = write_notes(
        tmp_path,
        "panel",
        """
        title: Panel
        date: 2026-01-02
        image: topic.png
        chapters:
          - start: 0
            title: Welcome
          - start: 01:30
            title: First topic
            url: https://example.com/first
            image: topic.png
          - start: "00:10:00.5"
            title: Second topic
            image: https://cdn.example.com/second.jpg
          - 1:00:00 Questions <https://example.com/q>
          - start: 3725
            title: 2026
        """,
    )
    parsed = notes.read(path)
    lines = path.read_text().splitlines()
    assert lines[5] == "  - start: 0" and lines[14].startswith("  - 1:00:00 Questions")
    assert parsed.image == "topic.png" and notes.image_file(parsed) == tmp_path / "show_notes" / "topic.png"
    assert [(c.start, c.title, c.url, c.image, c.line) for c in parsed.chapters] == [
        (0.0, "Welcome", "", "", 6),
        (90.0, "First topic", "https://example.com/first", "topic.png", 8),
        (600.5, "Second topic", "", "https://cdn.example.com/second.jpg", 12),
        (3600.0, "Questions", "https://example.com/q", "", 15),
        (3725.0, "2026", "", "", 16),
    ]


@pytest.mark.parametrize(
    ("entries", "line", "problem"),
    [
        ("  - start: 00:00:10\n    title: Late start\n", 5, "chapter 1 ('Late start') starts at 00:00:10, not at 0"),
        (
            "  - 0:00 Welcome\n  - start: 05:00\n    title: B\n  - start: 04:59\n    title: C\n",
            8,
            "chapter 3 ('C') starts at 00:04:59, not after chapter 2 (00:05:00)",
        ),
        ("  - 0:00 Welcome\n  - start: soon\n    title: B\n", 6, "chapter start 'soon' is not a time"),
        ("  - 0:00 Welcome\n  - title: No start\n", 6, "chapter has no start"),
        ("  - 0:00 Welcome\n  - start: 60\n", 6, "chapter at 00:01:00 has no title"),
        (
            "  - 0:00 Welcome\n  - start: 60\n    title: B\n    link: https://x.example\n",
            6,
            "chapter has unknown keys ['link']",
        ),
        (
            "  - 0:00 Welcome\n  - start: 60\n    title: B\n    url: not a link\n",
            6,
            "chapter url 'not a link' is not a web address",
        ),
        (
            "  - 0:00 Welcome\n  - start: 60\n    title: B\n    image: missing.jpg\n",
            6,
            "chapter image 'missing.jpg' does not exist",
        ),
        ("  - 0:00 Welcome\n  - just words\n", 6, "chapter 'just words' is not a start time and a title"),
    ],
)
def test_bad_notes_chapters_name_the_notes_file_and_line(tmp_path, entries, line, problem):
    path = tmp_path / "show_notes" / "panel.md"
    path.parent.mkdir()
    path.write_text(f"---\ntitle: Panel\ndate: 2026-01-02\nchapters:\n{entries}---\n\nBody.\n", encoding="utf-8")
    assert path.read_text().splitlines()[line - 1].startswith("  - ")  # the line named is the entry's first line
    with pytest.raises(ChapterError) as caught:
        notes.read(path)
    err = caught.value
    assert isinstance(err, NotesError)
    assert err.path == path and err.line == line and problem in err.problem
    assert err.message().startswith(f"{path}: line {line}: ")


def test_episode_image_must_be_a_local_jpeg_or_png(tmp_path):
    for value, problem in (
        ("cover.gif", "is not a JPEG or PNG file"),
        ("cover.jpg", "does not exist"),
        ("https://x.example/a.jpg", "does not exist"),
    ):
        path = write_notes(tmp_path, "panel", f"title: Panel\nimage: {value}")
        with pytest.raises(NotesError) as caught:
            notes.read(path)
        assert problem in caught.value.problem


# --- precedence and the end of the audio ---------------------------------------------------------------------


def _episode(tmp_path: Path, front_chapters: str = "") -> Episode:
    path = write_notes(tmp_path, "panel", "title: Panel\ndate: 2026-01-02\n" + front_chapters)
    recording = tmp_path / "episodes" / "panel.wav"
    recording.parent.mkdir(exist_ok=True)
    return Episode(slug="panel", recording=recording, notes=notes.read(path))


OWN = (Chapter(0.0, "Own start"), Chapter(30.0, "Own end"))


def test_notes_win_over_chapters_file_and_recording(tmp_path):
    episode = _episode(tmp_path, "chapters:\n  - 0:00 From notes\n  - 2:00 Notes two")
    (tmp_path / "episodes" / "panel.chapters.txt").write_text("0:00 From file\n", encoding="utf-8")
    found = chapters.resolve(episode, _info(episode.recording, marks=OWN))
    assert [c.title for c in found] == ["From notes", "Notes two"]


def test_chapters_file_wins_over_recording(tmp_path):
    episode = _episode(tmp_path)
    (tmp_path / "episodes" / "panel.chapters.txt").write_text("0:00 From file\n1:00 File two\n", encoding="utf-8")
    assert [c.title for c in chapters.resolve(episode, _info(episode.recording, marks=OWN))] == [
        "From file",
        "File two",
    ]


def test_recording_chapters_are_the_last_source(tmp_path):
    episode = _episode(tmp_path)
    assert chapters.resolve(episode, _info(episode.recording, marks=OWN)) == OWN
    assert chapters.resolve(episode, _info(episode.recording)) == ()


def test_a_chapter_past_the_end_names_its_file_and_line(tmp_path):
    episode = _episode(tmp_path, "chapters:\n  - 0:00 Welcome\n  - 9:59 Nearly\n  - 10:00 Too late")
    with pytest.raises(ChapterError) as caught:
        chapters.resolve(episode, _info(episode.recording, duration=600.0))
    assert caught.value.path == episode.notes.path and caught.value.line == 7
    assert "chapter 3 ('Too late') starts at 00:10:00, past the end of the recording (00:10:00)" in caught.value.problem

    (tmp_path / "episodes" / "panel.chapters.txt").write_text("0:00 Welcome\n\n20:00 Too late\n", encoding="utf-8")
    bare = _episode(tmp_path)
    with pytest.raises(ChapterError) as caught:
        chapters.resolve(bare, _info(bare.recording, duration=600.0))
    assert caught.value.path.name == "panel.chapters.txt" and caught.value.line == 3


def test_unusable_recording_chapters_say_how_to_replace_them(tmp_path):
    episode = _episode(tmp_path)
    with pytest.raises(ChapterError) as caught:
        chapters.resolve(episode, _info(episode.recording, marks=(Chapter(2.0, "Late"),)))
    assert caught.value.path == episode.recording
    assert "its own chapters are unusable" in caught.value.problem and "panel.md" in caught.value.fix


# --- the mastered timeline -----------------------------------------------------------------------------------

MARKS = (Chapter(0.0, "Welcome"), Chapter(60.0, "Topic"), Chapter(300.0, "Questions"))


def test_an_intro_shifts_all_but_the_first_chapter():
    moved = chapters.shift(MARKS, 12.5, 612.5)
    assert [(c.start, c.title) for c in moved] == [(0.0, "Welcome"), (72.5, "Topic"), (312.5, "Questions")]
    assert chapters.ends(moved, 612.5) == [72.5, 312.5, 612.5]


def test_trimmed_silence_pulls_chapters_earlier():
    moved = chapters.shift(MARKS, -2.0, 598.0)
    assert [c.start for c in moved] == [0.0, 58.0, 298.0]
    # a chapter pulled to (or before) the start begins the audio in place of the ones before it
    moved = chapters.shift((Chapter(0.0, "Silence"), Chapter(1.5, "Welcome"), Chapter(60.0, "Topic")), -2.0, 598.0)
    assert [(c.start, c.title) for c in moved] == [(0.0, "Welcome"), (58.0, "Topic")]


def test_chapters_past_the_mastered_end_are_dropped():
    assert [c.title for c in chapters.shift(MARKS, 0.0, 300.0)] == ["Welcome", "Topic"]
    assert chapters.shift((), 5.0, 10.0) == ()


# --- the JSON chapters file ----------------------------------------------------------------------------------


def test_json_chapters_file_validates_against_the_format(tmp_path):
    (tmp_path / "topic.png").write_bytes(PNG_1PX)
    marks = (
        Chapter(0.0, "Welcome"),
        Chapter(72.5, "Topic “one”", url="https://example.com/one", image="topic.png"),
        Chapter(312.0, "Questions", image="https://cdn.example.com/q.jpg"),
    )
    files = chapters.publish(marks, tmp_path, "panel", "https://pod.example.com/show/", "Panel", "Test Panel")
    document, image = files
    assert document.path == "episodes/panel.chapters.json" and document.mime == "application/json+chapters"
    data = json.loads(document.content)
    jsonschema.validate(data, JSON_CHAPTERS_SCHEMA)
    assert data == {
        "version": "1.2.0",
        "title": "Panel",
        "podcastName": "Test Panel",
        "chapters": [
            {"startTime": 0, "title": "Welcome"},
            {
                "startTime": 72.5,
                "title": "Topic “one”",
                "img": "https://pod.example.com/show/episodes/panel.chapter-2.png",
                "url": "https://example.com/one",
            },
            {"startTime": 312, "title": "Questions", "img": "https://cdn.example.com/q.jpg"},
        ],
    }
    assert (image.path, image.mime, image.content) == ("episodes/panel.chapter-2.png", "image/png", PNG_1PX)
    assert chapters.publish((), tmp_path, "panel", "https://x/", "P", "S") == ()


def test_schema_rejects_what_the_format_forbids():
    for bad in (
        {"chapters": []},
        {"version": "1.2.0", "chapters": [{"title": "no start"}]},
        {"version": "1.2.0", "chapters": [{"startTime": "0"}]},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, JSON_CHAPTERS_SCHEMA)


# --- starter notes -------------------------------------------------------------------------------------------


def test_starter_notes_carry_chapters_numbers_and_cover(tmp_path):
    recording = tmp_path / "episodes" / "panel.mp3"
    recording.parent.mkdir()
    info = replace(
        _info(recording, marks=(Chapter(0.0, "Welcome"), Chapter(95.25, "Topic: one", url="https://example.com/1"))),
        tags=(("title", "Tagged"),),
        art=PNG_1PX,
        art_mime="image/png",
        track=7,
        disc=2,
    )
    notes_path = tmp_path / "show_notes" / "panel.md"
    assert starter.save_cover(notes_path, info) == "panel.png"
    assert (tmp_path / "show_notes" / "panel.png").read_bytes() == PNG_1PX
    (tmp_path / "show_notes" / "panel.png").write_bytes(
        PNG_1PX + b"the host's own"
    )  # a picture: images are checked by content
    assert starter.save_cover(notes_path, info) == "panel.png"  # never overwritten
    assert (tmp_path / "show_notes" / "panel.png").read_bytes().endswith(b"the host's own")
    assert starter.save_cover(notes_path, replace(info, art=b"GIF89a")) == ""

    text = starter.starter_text("panel", info, date(2026, 1, 2), draft=True, image="panel.png")
    starter.write_starter(notes_path, text)
    front = yaml.safe_load(text.split("---")[1])
    assert front["season"] == 2 and front["episode"] == 7 and front["image"] == "panel.png"
    assert front["chapters"] == [
        {"start": "00:00:00", "title": "Welcome"},
        {"start": "00:01:35.250", "title": "Topic: one", "url": "https://example.com/1"},
    ]
    parsed = notes.read(notes_path)
    assert [(c.start, c.title, c.url) for c in parsed.chapters] == [
        (0.0, "Welcome", ""),
        (95.25, "Topic: one", "https://example.com/1"),
    ]

    # a chapters file beside the recording stays the source: the starter does not copy the recording's chapters
    chapters.file_for(recording).write_text("0:00 From file\n", encoding="utf-8")
    assert "chapters" not in yaml.safe_load(
        starter.starter_text("panel", info, date(2026, 1, 2), draft=True).split("---")[1]
    )


# --- the page ------------------------------------------------------------------------------------------------


def test_page_lists_chapters_that_seek_the_player():
    item = replace(
        published("panel", "Panel", 3),
        chapters=(
            Chapter(0.0, "Welcome"),
            Chapter(95.5, "Topic <one>", url="https://example.com/1"),
            Chapter(3725.0, "Questions"),
        ),
        image="episodes/panel.png",
    )
    page = pages.render(show_config(), [item], None)["episodes/panel.html"]
    # Without JavaScript a time opens the audio there (#t=); with it, the page's player seeks (data-start).
    assert 'href="../media/panel.mp3#t=0" data-start="0">0:00</a>' in page
    assert (
        'href="../media/panel.mp3#t=95.5" data-start="95.5">1:35</a>' in page
    )  # cut to the second, as players show it
    assert 'data-start="3725">1:02:05</a>' in page
    assert '<a href="https://example.com/1" rel="nofollow">Topic &lt;one&gt;</a>' in page
    assert "<audio controls" in page and "data-player" in page and 'src="../assets/site.js?v=' in page
    assert '<img class="episode-art" src="../episodes/panel.png"' in page
    plain = pages.render(show_config(), [published("panel", "Panel", 3)], None)["episodes/panel.html"]
    assert 'id="chapters"' not in plain and '<img class="episode-art"' not in plain
