"""Transcripts: strict VTT/SRT parsing with line numbers, conversion both ways, JSON, publishing through a build."""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

import feedparser
import pytest
import webvtt

from pipeline.cli import main
from pipeline.episode import transcript
from pipeline.errors import TranscriptError
from tests.conftest import make_audio, write_notes, write_show

PANEL_VTT = """\
WEBVTT
Kind: captions
Language: en

NOTE recorded live; the intro is trimmed

STYLE
::cue(v) { color: teal }

intro
00:00:00.500 --> 00:00:02.000 align:start
<v Ann Host>Hello &amp; welcome to
<i>the panel</i> &lt;live&gt;

00:00:02.000 --> 00:00:03.250
<v.loud Bo Guest>Thanks, Ann.</v>

00:03.300 --> 00:03.900
A voice from the room.
"""

PANEL_SRT = """\
1
00:00:00,500 --> 00:00:02,000
Ann: Hello & welcome to
the panel

2
00:00:02,000 --> 00:00:03,250
Bo Guest: Thanks, Ann.

3
00:00:03,300 --> 00:00:03,900
Still Bo, who carries on.

4
00:00:03,900 --> 00:00:04,000
Note: a prefix that is no panelist stays text.
"""


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_vtt_cues_speakers_and_plain_text(tmp_path):
    first, second, third = transcript.read(_write(tmp_path, "ep.vtt", PANEL_VTT), duration=5.0).cues
    assert (first.start, first.end, first.speaker, first.line) == (500, 2000, "Ann Host", 11)
    assert first.text == "Hello & welcome to\nthe panel <live>"  # markup gone, entities decoded
    assert (second.start, second.end, second.speaker, second.text, second.line) == (
        2000,
        3250,
        "Bo Guest",
        "Thanks, Ann.",
        15,
    )
    assert (third.start, third.end, third.speaker, third.text, third.line) == (
        3300,
        3900,
        "",
        "A voice from the room.",
        18,
    )


def test_vtt_hours_are_optional(tmp_path):
    found = transcript.read(
        _write(
            tmp_path,
            "ep.vtt",
            "WEBVTT\n\n00:01.000 --> 01:02.500\nshort form\n\n01:00:00.000 --> 01:00:01.000\nlong form\n",
        ),
        duration=3601,
    )
    assert [(c.start, c.end) for c in found.cues] == [(1000, 62500), (3600000, 3601000)]


def test_srt_speaker_prefixes_are_panelists_only_and_carry_on(tmp_path):
    found = transcript.read(_write(tmp_path, "ep.srt", PANEL_SRT), duration=5.0, speakers=["Ann Host", "Bo Guest"])
    assert [c.speaker for c in found.cues] == ["Ann", "Bo Guest", "Bo Guest", "Bo Guest"]
    assert found.cues[0].text == "Hello & welcome to\nthe panel"
    assert found.cues[3].text == "Note: a prefix that is no panelist stays text."
    assert [c.line for c in found.cues] == [2, 7, 11, 15]


def test_srt_without_panelists_keeps_prefixes_as_text(tmp_path):
    found = transcript.read(_write(tmp_path, "ep.srt", PANEL_SRT), duration=5.0)
    assert {c.speaker for c in found.cues} == {""}
    assert found.cues[1].text == "Bo Guest: Thanks, Ann."


def test_a_byte_order_mark_and_windows_line_ends_are_fine(tmp_path):
    text = "\ufeffWEBVTT\r\n\r\n00:00:01.000 --> 00:00:02.000\r\n<v Ann>Hi\r\n"
    found = transcript.read(_write(tmp_path, "ep.vtt", text.encode("utf-8")), duration=3)
    assert [(c.speaker, c.text) for c in found.cues] == [("Ann", "Hi")]


def _cues(tmp_path: Path):
    two = (
        PANEL_VTT.rsplit("\n00:03.300", 1)[0]
        + "\n\n00:00:03.250 --> 00:00:04.000\nno voice &amp; <b>bold</b> --&gt; arrow-ish\n"
    )
    return transcript.read(_write(tmp_path, "ep.vtt", two), duration=5.0).cues


def test_vtt_to_srt_to_vtt_round_trip(tmp_path):
    cues = _cues(tmp_path)
    srt = transcript.to_srt(cues)
    back, problems = transcript.parse(srt, ".srt", tmp_path / "x.srt", speakers=["Ann Host", "Bo Guest"])
    assert problems == []
    # Unvoiced cues after a voiced one inherit it in SRT (the "Name:" convention carries on): compare the voiced ones.
    strip = lambda cs: [(c.start, c.end, c.text, c.speaker) for c in cs]  # noqa: E731
    assert strip(back)[:2] == strip(cues)[:2]
    assert strip(back)[2][:3] == strip(cues)[2][:3]
    vtt = transcript.to_vtt(back)
    again, problems = transcript.parse(vtt, ".vtt", tmp_path / "y.vtt")
    assert problems == [] and strip(again) == strip(back)
    assert transcript.to_vtt(again) == vtt  # stable after one conversion


def test_published_files_are_read_by_webvtt_py(tmp_path):
    """An independent, well-kept reader (webvtt-py) agrees on times, voices and text."""
    cues = _cues(tmp_path)
    vtt = webvtt.from_string(transcript.to_vtt(cues))
    assert [(c.start, c.end, c.voice, html.unescape(c.text)) for c in vtt] == [
        ("00:00:00.500", "00:00:02.000", "Ann Host", "Hello & welcome to\nthe panel <live>"),
        ("00:00:02.000", "00:00:03.250", "Bo Guest", "Thanks, Ann."),
        ("00:00:03.250", "00:00:04.000", None, "no voice & bold --> arrow-ish"),
    ]
    srt_path = _write(tmp_path, "out.srt", transcript.to_srt(cues))
    srt = webvtt.from_srt(str(srt_path))
    assert [(c.start, c.end, c.raw_text) for c in srt] == [
        ("00:00:00.500", "00:00:02.000", "Ann Host: Hello & welcome to\nthe panel <live>"),
        ("00:00:02.000", "00:00:03.250", "Bo Guest: Thanks, Ann."),
        ("00:00:03.250", "00:00:04.000", "no voice & bold --> arrow-ish"),
    ]


def test_json_transcript_is_the_podcasting_2_0_format(tmp_path):
    data = json.loads(transcript.to_json(_cues(tmp_path)))
    assert data["version"] == "1.0.0"
    assert data["segments"][0] == {
        "speaker": "Ann Host",
        "startTime": 0.5,
        "endTime": 2.0,
        "body": "Hello & welcome to the panel <live>",
    }
    assert data["segments"][2] == {
        "startTime": 3.25,
        "endTime": 4.0,
        "body": "no voice & bold --> arrow-ish",
    }  # no speaker: none invented
    assert transcript.json_problems(data, tmp_path / "t.json", 5.0) == []


def test_shift_moves_cues_onto_the_mastered_timeline(tmp_path):
    cues = _cues(tmp_path)
    later = transcript.shift(cues, offset=1.5, duration=10.0)
    assert [(c.start, c.end) for c in later] == [(2000, 3500), (3500, 4750), (4750, 5500)]
    earlier = transcript.shift(cues, offset=-2.2, duration=1.5)  # silence trimmed, and the audio now ends at 1.5 s
    assert [(c.start, c.end, c.speaker) for c in earlier] == [(0, 1050, "Bo Guest"), (1050, 1500, "")]


def test_attachments_are_vtt_srt_and_json_with_language(tmp_path):
    found = transcript.Transcript(tmp_path / "ep.vtt", _cues(tmp_path))
    files = transcript.attachments(found, "ep", offset=1.0, duration=10.0, language="de")
    assert [(a.path, a.mime, a.rel, a.language) for a in files] == [
        ("episodes/ep.vtt", "text/vtt", "captions", "de"),
        ("episodes/ep.srt", "application/x-subrip", "", "de"),
        ("episodes/ep.transcript.json", "application/json", "", "de"),
    ]
    assert b"00:00:01.500 --> 00:00:03.000" in files[0].content
    assert b"00:00:01,500 --> 00:00:03,000" in files[1].content
    assert json.loads(files[2].content)["segments"][0]["startTime"] == 1.5


BAD = {
    "no header": (
        "ep.vtt",
        "00:00:01.000 --> 00:00:02.000\nhi\n",
        1,
        "must start with `WEBVTT`",
        "add a first line `WEBVTT`",
    ),
    "bad vtt timestamp": (
        "ep.vtt",
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nok\n\n00:00:3.000 --> 00:00:04.000\nbad\n",
        6,
        "'00:00:3.000' is not a timestamp",
        "HH:MM:SS.mmm",
    ),
    "comma in vtt": (
        "ep.vtt",
        "WEBVTT\n\n00:00:01,000 --> 00:00:02,000\nsrt habit\n",
        3,
        "'00:00:01,000' is not a timestamp",
        "HH:MM:SS.mmm",
    ),
    "no arrow spaces": (
        "ep.vtt",
        "WEBVTT\n\n00:00:01.000-->00:00:02.000\nhi\n",
        3,
        "is not a cue timing line",
        "spaces around the arrow",
    ),
    "period in srt": (
        "ep.srt",
        "1\n00:00:01.000 --> 00:00:02.000\nvtt habit\n",
        2,
        "'00:00:01.000' is not a timestamp",
        "HH:MM:SS,mmm",
    ),
    "end before start": (
        "ep.vtt",
        "WEBVTT\n\n00:00:03.000 --> 00:00:02.000\nbackwards\n",
        3,
        "cue ends at 00:00:02.000, not after it starts (00:00:03.000)",
        "swap start and end",
    ),
    "zero length": (
        "ep.srt",
        "1\n00:00:02,000 --> 00:00:02,000\nblink\n",
        2,
        "not after it starts",
        "correct the end time",
    ),
    "out of order": (
        "ep.vtt",
        "WEBVTT\n\n00:00:02.000 --> 00:00:03.000\nsecond\n\n00:00:01.000 --> 00:00:02.000\nfirst\n",
        6,
        "before the cue at line 3 (00:00:02.000)",
        "keep the cues in time order",
    ),
    "past the end": (
        "ep.srt",
        "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:05,000 --> 00:00:08,100\ntoo late\n",
        6,
        "cue ends at 00:00:08.100, after the recording ends (00:00:06.000)",
        "belongs to this recording",
    ),
    "missing blank line": (
        "ep.vtt",
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\none\n00:00:02.000 --> 00:00:03.000\ntwo\n",
        5,
        "cue text contains '-->'",
        "blank line before each cue",
    ),
    "stray text": (
        "ep.vtt",
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\none\n\nsecond paragraph of one\n",
        6,
        "'second paragraph of one' is not part of a cue",
        "a blank line ends a cue's text",
    ),
    "srt without number": (
        "ep.srt",
        "00:00:01,000 --> 00:00:02,000\nhi\n",
        1,
        "expected a cue number, then a timing line",
        "write each cue as a number",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_each_problem_names_the_file_the_line_and_the_fix(tmp_path, case):
    name, text, line, problem, fix = BAD[case]
    path = _write(tmp_path, name, text)
    with pytest.raises(TranscriptError) as caught:
        transcript.read(path, duration=6.0)
    err = caught.value
    assert err.path == path
    assert f"line {line}: " in err.problem and problem in err.problem, err.problem
    assert fix in err.fix
    assert str(path) in str(err)


def test_every_problem_is_found_in_line_order_and_read_mentions_the_rest(tmp_path):
    path = _write(
        tmp_path,
        "ep.vtt",
        "WEBVTT\n\n00:00:03.000 --> 00:00:02.000\nbackwards\n\n00:00:0x.000 --> 00:00:04.000\nbad\n\n00:00:01.000 --> 00:00:30.000\nlate\n",
    )
    _, problems = transcript.check(path, 10.0)
    assert [p.line for p in problems] == [3, 6, 9, 9]
    with pytest.raises(TranscriptError, match=r"line 3: .*\(and 3 more problems: run `panelpress check`\)"):
        transcript.read(path, 10.0)


def test_a_little_past_the_end_is_tolerated(tmp_path):
    path = _write(tmp_path, "ep.srt", "1\n00:00:05,000 --> 00:00:07,900\nfade out\n")
    assert len(transcript.read(path, duration=6.0).cues) == 1  # 1.9 s over: within the tolerance
    path.write_text("1\n00:00:05,000 --> 00:00:08,100\nfade out\n")
    with pytest.raises(TranscriptError, match="after the recording ends"):
        transcript.read(path, duration=6.0)


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("ep.vtt", b"\xff\xfeW\x00E\x00", "is not UTF-8 text"),
        ("ep.vtt", b"", "line 1: a WebVTT file must start with `WEBVTT`"),
        ("ep.vtt", b"WEBVTT\n\nNOTE only a note\n", "holds no cues"),
        ("ep.srt", b"\n\n", "holds no cues"),
    ],
)
def test_unreadable_or_empty_files(tmp_path, name, content, problem):
    path = _write(tmp_path, name, content)
    with pytest.raises(TranscriptError, match=problem):
        transcript.read(path, duration=6.0)


def test_two_transcripts_for_one_episode_are_an_error(show):
    from pipeline import config

    settings = config.load(show)
    (show / "episodes" / "ep.vtt").write_text("WEBVTT\n")
    assert transcript.source(settings, "ep") == show / "episodes" / "ep.vtt"
    (show / "show_notes" / "ep.srt").write_text("1\n")
    with pytest.raises(TranscriptError, match=r"has 2 transcripts \(episodes/ep.vtt, show_notes/ep.srt\)"):
        transcript.source(settings, "ep")


# --- through a real build ----------------------------------------------------------------------


def _show_with_transcripts(tmp_path: Path, audio_dir: Path) -> Path:
    show = write_show(tmp_path / "show", extra_show='language = "en-GB"')
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / "First Panel.wav")
    make_audio(show / "episodes" / "second.wav", seconds=2)
    write_notes(
        show,
        "First Panel",
        "title: First\ndate: 2026-01-05\npanelists:\n  - {name: Ann Host, role: host}\n  - Bo Guest",
    )
    write_notes(show, "second", "title: Second\ndate: 2026-01-06")
    (show / "show_notes" / "First Panel.srt").write_text(PANEL_SRT, encoding="utf-8")
    return show


def test_a_build_publishes_the_transcript_and_shows_it(tmp_path, audio_dir):
    show = _show_with_transcripts(tmp_path, audio_dir)
    assert main(["build", "--show", str(show)]) == 0
    site = show / "public"
    vtt = webvtt.read(str(site / "episodes" / "first-panel.vtt"))
    assert [(c.voice, html.unescape(c.text)) for c in vtt][:2] == [
        ("Ann", "Hello & welcome to\nthe panel"),
        ("Bo Guest", "Thanks, Ann."),
    ]
    assert (
        (site / "episodes" / "first-panel.srt").read_text().startswith("1\n00:00:00,500 --> 00:00:02,000\nAnn: Hello")
    )
    data = json.loads((site / "episodes" / "first-panel.transcript.json").read_text())
    assert data["segments"][1] == {"speaker": "Bo Guest", "startTime": 2.0, "endTime": 3.25, "body": "Thanks, Ann."}
    page = (site / "episodes" / "first-panel.html").read_text()
    section = page[page.index('<section class="transcript"') :]
    assert (
        '<p data-start="0.5"><a class="seek" href="../media/first-panel.mp3#t=0.5" data-start="0.5">0:00</a> <strong class="speaker">Ann</strong>'
        in section
    )
    assert (
        '<a class="seek" href="../media/first-panel.mp3#t=2" data-start="2">0:02</a> <strong class="speaker">Bo Guest</strong>'
        in section
    )
    assert section.count('class="speaker"') == 2  # a name is shown when the speaker changes
    assert "Hello &amp; welcome to" in section
    assert 'class="transcript"' not in (site / "episodes" / "second.html").read_text()
    assert len(feedparser.parse(site / "feed.xml").entries) == 2


def test_a_bad_transcript_holds_back_only_itself(tmp_path, audio_dir, capsys):
    show = _show_with_transcripts(tmp_path, audio_dir)
    (show / "show_notes" / "First Panel.srt").write_text(
        PANEL_SRT.replace("00:00:02,000 --> 00:00:03,250", "00:00:02,000 --> 00:00:01,250")
    )
    assert main(["build", "--show", str(show)]) == 1
    err = capsys.readouterr().err
    assert "not published:" in err and "First Panel.srt: line 7: cue ends at 00:00:01.250" in err
    site = show / "public"
    assert len(feedparser.parse(site / "feed.xml").entries) == 2  # both episodes are out
    assert not (site / "episodes" / "first-panel.vtt").exists()
    assert 'class="transcript"' not in (site / "episodes" / "first-panel.html").read_text()
