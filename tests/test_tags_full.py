"""tag: the published MP3 (and M4A) re-read with mutagen and with ffmpeg: every frame, chapters after an intro shift,
the JSON chapters file beside it, and bad chapter lists stopping an episode before any audio work."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from mutagen.id3 import ID3
from mutagen.mp4 import MP4

from pipeline import config
from pipeline.audio import mastering
from pipeline.audio.ffmpeg import ffmpeg
from pipeline.cli import main
from pipeline.episode import chapters, notes, probe
from pipeline.episode.discover import Recording
from pipeline.episode.stages import Setup, Work, tag
from pipeline.records import Episode
from pipeline.show import ledger
from tests.conftest import PNG_1PX, make_audio, tag_mp3, write_notes, write_show
from tests.test_chapters import JSON_CHAPTERS_SCHEMA

SITE = "https://pod.example.com/show/"
# Encoders add a few ms of priming that ffmpeg subtracts from chapter times it reads back.
FFMPEG_SLACK = 0.06

NOTES = """
title: Chapters & “quotes”
date: 2026-04-03
summary: The summary, in the tags twice.
panelists:
  - name: Ann Host
    role: host
  - Bo Guest
season: 1
episode: 3
image: cover.png
chapters:
  - start: 0
    title: Welcome
  - start: "00:00:02.500"
    title: First topic
    url: https://example.com/first
    image: topic.png
  - 00:00:05 Questions
"""


def ffmpeg_chapters(path: Path) -> list[tuple[float, float, str]]:
    """ffmpeg's own view of a file's chapters (`-f ffmetadata`): start, end (seconds) and title."""
    out = subprocess.run(
        [ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(path), "-f", "ffmetadata", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = []
    for section in out.split("[CHAPTER]")[1:]:
        values = dict(line.split("=", 1) for line in section.strip().splitlines() if "=" in line)
        num, den = (int(x) for x in values["TIMEBASE"].split("/"))
        found.append((int(values["START"]) * num / den, int(values["END"]) * num / den, values.get("title", "")))
    return found


def _publishing(show: Path) -> Path:
    """Let new recordings publish straight away (the template's publish_new is false)."""
    toml = show / config.CONFIG_NAME
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("publish_new = false", "publish_new = true"), encoding="utf-8"
    )
    return show


def _show(tmp_path: Path, extra_audio: str = "") -> Path:
    show = _publishing(write_show(tmp_path / "show", extra_audio=extra_audio))
    make_audio(show / "episodes" / "Chapters Panel.wav", seconds=7)
    write_notes(show, "Chapters Panel", NOTES)
    (show / "show_notes" / "cover.png").write_bytes(PNG_1PX)
    (show / "show_notes" / "topic.png").write_bytes(PNG_1PX + b"topic")  # different bytes: told apart in the tags
    return show


@pytest.fixture(scope="module")
def mp3_show(tmp_path_factory) -> Path:
    show = _show(tmp_path_factory.mktemp("mp3"))
    assert main(["build", "--show", str(show)]) == 0
    return show


def test_published_mp3_has_every_frame(mp3_show):
    media = mp3_show / "public" / "media" / "chapters-panel.mp3"
    raw = ID3(media, translate=False)  # the frames as stored, not upgraded to v2.4 on reading
    assert raw.version == (2, 3, 0)
    guid = ledger.load(mp3_show / config.LEDGER_NAME).episodes["Chapters Panel"].guid

    def text(frame_id: str) -> str:
        return str(raw[frame_id].text[0])

    assert text("TIT2") == "Chapters & “quotes”"
    assert text("TPE1") == "Ann Host; Bo Guest"
    assert text("TALB") == "Test Panel"
    assert text("TPE2") == "Test Author"
    assert (text("TYER"), text("TDAT")) == ("2026", "0304")  # v2.3 dates: year, then DDMM
    assert "TDRC" not in raw  # a v2.4-only frame has no place in a v2.3 tag
    assert str(ID3(media)["TDRC"].text[0]) == "2026-04-03"  # and a v2.4 reader sees the whole date
    assert text("TCON") == "Podcast"
    assert raw.getall("COMM")[0].text == ["The summary, in the tags twice."] and raw.getall("COMM")[0].lang == "eng"
    assert text("TDES") == "The summary, in the tags twice."
    assert (text("TRCK"), text("TPOS")) == ("3", "1")
    assert raw["WOAS"].url == SITE + "episodes/chapters-panel.html"
    assert raw["WFED"].url == SITE + "feed.xml"
    assert raw["PCST"].value == 1
    assert text("TGID") == guid
    assert abs(int(text("TLEN")) - 7000) <= 100
    cover = raw.getall("APIC")
    assert (
        len(cover) == 1 and cover[0].data == PNG_1PX and cover[0].mime == "image/png" and cover[0].type == 3
    )  # the episode's art

    toc = raw.getall("CTOC")[0]
    assert toc.element_id == "toc" and toc.flags & 3 == 3  # top level, ordered
    chaps = {c.element_id: c for c in raw.getall("CHAP")}
    assert list(toc.child_element_ids) == ["chp0", "chp1", "chp2"] == sorted(chaps)
    duration_ms = int(text("TLEN"))
    assert [(chaps[i].start_time, chaps[i].end_time) for i in toc.child_element_ids] == [
        (0, 2500),
        (2500, 5000),
        (5000, duration_ms),
    ]
    assert [str(chaps[i].sub_frames["TIT2"].text[0]) for i in toc.child_element_ids] == [
        "Welcome",
        "First topic",
        "Questions",
    ]
    first = chaps["chp1"].sub_frames
    assert first.getall("WXXX")[0].url == "https://example.com/first"
    assert first.getall("APIC")[0].data == PNG_1PX + b"topic"
    assert not chaps["chp0"].sub_frames.getall("WXXX") and not chaps["chp0"].sub_frames.getall("APIC")

    seen = ffmpeg_chapters(media)
    assert [title for _, _, title in seen] == ["Welcome", "First topic", "Questions"]
    for (start, end, _), expected in zip(seen, [(0.0, 2.5), (2.5, 5.0), (5.0, 7.0)]):
        assert abs(start - expected[0]) <= FFMPEG_SLACK and abs(end - expected[1]) <= FFMPEG_SLACK + 0.1


def test_json_chapters_and_images_are_published(mp3_show):
    site = mp3_show / "public"
    data = json.loads((site / "episodes" / "chapters-panel.chapters.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, JSON_CHAPTERS_SCHEMA)
    assert data["version"] == "1.2.0" and data["title"] == "Chapters & “quotes”" and data["podcastName"] == "Test Panel"
    assert data["chapters"] == [
        {"startTime": 0, "title": "Welcome"},
        {
            "startTime": 2.5,
            "title": "First topic",
            "img": SITE + "episodes/chapters-panel.chapter-2.png",
            "url": "https://example.com/first",
        },
        {"startTime": 5, "title": "Questions"},
    ]
    assert (site / "episodes" / "chapters-panel.chapter-2.png").read_bytes() == PNG_1PX + b"topic"
    assert (site / "episodes" / "chapters-panel.png").read_bytes() == PNG_1PX
    page = (site / "episodes" / "chapters-panel.html").read_text(encoding="utf-8")
    assert 'href="../media/chapters-panel.mp3#t=2.5" data-start="2.5">0:02</a>' in page
    assert '<img class="episode-art" src="../episodes/chapters-panel.png"' in page


def test_an_intro_shifts_the_tagged_chapters(mp3_show, tmp_path):
    """The mastered timeline moved 5 s (an intro): CHAP times, the JSON file and the page follow it."""
    settings = config.load(mp3_show)
    recording = mp3_show / "episodes" / "Chapters Panel.wav"
    info = probe.probe(recording)
    episode = Episode(
        slug="Chapters Panel", recording=recording, notes=notes.read(mp3_show / "show_notes" / "Chapters Panel.md")
    )
    episode = replace(episode, chapters=chapters.resolve(episode, info))
    mastered = mastering.master(info, settings.audio, tmp_path / "cache")
    shifted = replace(mastered, offset=5.0, duration=mastered.duration + 5.0)  # as if a 5 s intro had been added
    setup = Setup(
        config=replace(settings, build=replace(settings.build, cache=str(tmp_path / "cache"))),
        now=datetime.now(UTC),
    )
    work = Work(
        source=Recording(episode.slug, recording, episode.notes.path),
        guid="guid-1",
        notes=episode.notes,
        info=info,
        episode=episode,
        mastered=shifted,
    )
    item = tag(work, setup, lambda name, total: lambda done: None).item

    assert [(c.start, c.title) for c in item.chapters] == [(0.0, "Welcome"), (7.5, "First topic"), (10.0, "Questions")]
    chaps = {c.element_id: c for c in ID3(item.media.path, translate=False).getall("CHAP")}
    end_ms = int(round(shifted.duration * 1000))
    assert [(chaps[i].start_time, chaps[i].end_time) for i in ("chp0", "chp1", "chp2")] == [
        (0, 7500),
        (7500, 10000),
        (10000, end_ms),
    ]
    document = next(a for a in item.attachments if a.mime == "application/json+chapters")
    assert [c["startTime"] for c in json.loads(document.read())["chapters"]] == [0, 7.5, 10]
    # ffmpeg reads the CHAP frames too (its chapters may not end past the real audio, so only starts are compared)
    assert [round(start) for start, _, _ in ffmpeg_chapters(item.media.path)] == [0, 7, 10]


def test_m4a_output_has_atoms_and_chapters(tmp_path):
    show = _show(tmp_path, extra_audio='format = "m4a"')
    assert main(["build", "--show", str(show)]) == 0
    media = show / "public" / "media" / "chapters-panel.m4a"
    guid = ledger.load(show / config.LEDGER_NAME).episodes["Chapters Panel"].guid
    mp4 = MP4(media)
    tags = mp4.tags
    assert tags["\xa9nam"] == ["Chapters & “quotes”"]
    assert tags["\xa9ART"] == ["Ann Host; Bo Guest"]
    assert tags["\xa9alb"] == ["Test Panel"] and tags["aART"] == ["Test Author"]
    assert tags["\xa9day"] == ["2026-04-03"] and tags["\xa9gen"] == ["Podcast"]
    assert tags["\xa9cmt"] == tags["desc"] == ["The summary, in the tags twice."]
    assert tags["trkn"] == [(3, 0)] and tags["disk"] == [(1, 0)]
    assert tags["pcst"] is True and tags["stik"] == [21]
    assert tags["egid"] == [guid] and tags["purl"] == [SITE + "feed.xml"]
    assert bytes(tags["covr"][0]) == PNG_1PX
    assert [(c.start, c.title) for c in mp4.chapters] == [(0.0, "Welcome"), (2.5, "First topic"), (5.0, "Questions")]
    seen = ffmpeg_chapters(media)
    assert [title for _, _, title in seen] == ["Welcome", "First topic", "Questions"]
    assert all(abs(start - expected) <= FFMPEG_SLACK for (start, _, _), expected in zip(seen, (0.0, 2.5, 5.0)))
    assert abs(mp4.info.length - 7.0) < 0.2
    assert (
        json.loads((show / "public" / "episodes" / "chapters-panel.chapters.json").read_bytes())["chapters"][2][
            "startTime"
        ]
        == 5
    )
    # tagging twice gives the same bytes: the feed's length and the ledger's checksum stay put
    first = media.read_bytes()
    shutil.rmtree(show / ".panelpress-cache" / "tagged")
    assert main(["build", "--show", str(show)]) == 0
    assert media.read_bytes() == first


def test_recording_chapters_and_cover_flow_into_starter_notes_and_the_feed(tmp_path):
    show = _publishing(write_show(tmp_path / "show"))
    recording = show / "episodes" / "tagged-panel.mp3"
    make_audio(recording, seconds=6, codec_args=("-c:a", "libmp3lame", "-b:a", "64k"))
    tag_mp3(recording, "Tagged Title", "Ann Example", "2026-03-04", "From the tags.")
    tags = ID3(recording)
    from mutagen.id3 import CHAP, CTOC, TIT2, TPOS, TRCK, CTOCFlags

    tags.add(TRCK(encoding=3, text="4"))
    tags.add(TPOS(encoding=3, text="2"))
    tags.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=["c0", "c1"],
            sub_frames=[],
        )
    )
    tags.add(CHAP(element_id="c0", start_time=0, end_time=3000, sub_frames=[TIT2(encoding=3, text="Hello")]))
    tags.add(CHAP(element_id="c1", start_time=3000, end_time=6000, sub_frames=[TIT2(encoding=3, text="Goodbye")]))
    tags.save(recording)

    assert main(["build", "--show", str(show)]) == 0
    text = (show / "show_notes" / "tagged-panel.md").read_text(encoding="utf-8")
    assert "image: tagged-panel.png" in text and "season: 2" in text and "episode: 4" in text
    assert re.search(r"chapters:\n- start: 00:00:00\n  title: Hello\n- start: 00:00:03\n  title: Goodbye\n", text)
    assert (show / "show_notes" / "tagged-panel.png").read_bytes() == PNG_1PX
    published = ID3(show / "public" / "media" / "tagged-panel.mp3", translate=False)
    assert [
        str(c.sub_frames["TIT2"].text[0]) for c in sorted(published.getall("CHAP"), key=lambda c: c.start_time)
    ] == ["Hello", "Goodbye"]
    assert json.loads((show / "public" / "episodes" / "tagged-panel.chapters.json").read_bytes())["chapters"][1] == {
        "startTime": 3,
        "title": "Goodbye",
    }


@pytest.mark.parametrize(
    ("chapter_lines", "line", "problem"),
    [
        (
            "  - 00:00 Welcome\n  - 00:03 Topic\n  - 00:02 Back\n",
            7,
            "chapter 3 ('Back') starts at 00:00:02, not after chapter 2 (00:00:03)",
        ),
        ("  - 00:01 Welcome\n", 5, "chapter 1 ('Welcome') starts at 00:00:01, not at 0"),
        ("  - 00:00 Welcome\n  - 00:30 Past the end\n", 6, "past the end of the recording"),
    ],
)
def test_a_bad_chapter_list_fails_its_episode_before_audio_work(tmp_path, capsys, chapter_lines, line, problem):
    show = write_show(tmp_path / "show")
    make_audio(show / "episodes" / "bad.wav", seconds=4)
    make_audio(show / "episodes" / "good.wav", seconds=4)
    notes_path = show / "show_notes" / "bad.md"
    notes_path.write_text(
        f"---\ntitle: Bad\ndate: 2026-01-02\nchapters:\n{chapter_lines}---\n\nBody.\n", encoding="utf-8"
    )
    write_notes(show, "good", "title: Good\ndate: 2026-01-03")
    assert main(["build", "--show", str(show)]) == 1
    err = capsys.readouterr().err
    assert f"show_notes/bad.md: line {line}: " in err and problem in err
    assert (show / "public" / "media" / "good.mp3").is_file()  # the other episode still published
    masters = list((show / ".panelpress-cache" / "master").glob("*.mp3"))
    assert len(masters) == 1  # only the good one was mastered: the bad list was caught first
