"""Ordinary names: a show folder (and recordings, and tracks) named as hosts name them, with colons, quotes,
brackets, semicolons, commas, `=`, backslashes, `%`, `$`, a leading `-`, white space, line breaks and letters beyond
ASCII, builds through the real CLI exactly as a plainly named one: every path reaches ffmpeg (its inputs, outputs and
the files its filter graphs write) as it is."""

from __future__ import annotations

import io
import string
import subprocess
from pathlib import Path

import feedparser
import podcastparser
import pytest
from mutagen.mp4 import MP4

from pipeline.audio.ffmpeg import ffmpeg, file_arg, filter_path
from pipeline.cli import main
from tests.conftest import SPEECH, make_audio, write_notes, write_show
from tests.speech import needs_espeak, say

FEED_URL = "https://pod.example.com/show/feed.xml"
PANELISTS = "panelists: [Dana Whitfield, Sam Okafor]"
# Each name is a parent folder of the show: every path panelpress hands ffmpeg (recordings, jingles, the cache's work
# files that its meters write) holds it.
NAMES = [
    "Season 2: Leadership",
    "It's a Panel",
    "Panel [live]",
    "Panel; Live",
    '-Panel, a=b \\ 100% $HOME "quoted"',
    " Pänel 日本\nzweite Zeile ",
]


def _build(capsys, show: Path) -> str:
    code = main(["build", "--show", str(show)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert code == 0, out + err
    return out


def _feed(show: Path) -> list:
    """The items of the site's feed, as both podcast-client parsers read them (they must agree)."""
    raw = (show / "public" / "feed.xml").read_bytes()
    parsed = feedparser.parse(raw)
    assert not parsed.bozo, parsed.get("bozo_exception")
    gpodder = podcastparser.parse(FEED_URL, io.BytesIO(raw))
    assert [e.title for e in parsed.entries] == [e["title"] for e in gpodder["episodes"]]
    return parsed.entries


def _seconds(path: Path, cwd: Path | None = None) -> float:
    """The length of a file as decoded to its end (not as its header says)."""
    log = subprocess.run(
        [ffmpeg(), "-nostdin", "-hide_banner", "-i", file_arg(path), "-f", "null", "-"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    stamp = log.rsplit("time=", 1)[1].split()[0]
    hours, minutes, seconds = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


@pytest.mark.parametrize("name", NAMES)
def test_a_show_in_a_folder_of_any_name_builds_mastered_mixed_and_in_opus(capsys, tmp_path, name):
    show = write_show(tmp_path / name / "show", normalize=True, extra_audio='intro = "intro.wav"\nopus = true')
    make_audio(show / "intro.wav", seconds=1.5, channels=1)  # a jingle: one more input of every mastering graph
    make_audio(show / "episodes" / "solo.wav", seconds=4, channels=1, source=SPEECH.format(seed=1))
    write_notes(show, "solo", "title: Solo\ndate: 2026-01-05\nchapters:\n  - 0:00 Hello\n  - 0:02 Bye")
    # A panel of tracks whose own names are hostile too (a leading dash, a quote, a colon, brackets, a semicolon).
    make_audio(show / "episodes" / "panel" / "-dana; [1].wav", seconds=4, channels=1, source=SPEECH.format(seed=2))
    make_audio(show / "episodes" / "panel" / "sam's: mic,2.wav", seconds=4, channels=1, source=SPEECH.format(seed=3))
    write_notes(
        show,
        "panel",
        f"title: Panel\ndate: 2026-01-12\n{PANELISTS}\ntracks:\n"
        "  '-dana; [1].wav': Dana Whitfield\n  \"sam's: mic,2.wav\": Sam Okafor",
    )
    out = _build(capsys, show)
    assert "2 published" in out
    assert sorted(entry.title for entry in _feed(show)) == ["Panel", "Solo"]
    media = show / "public" / "media"
    for slug in ("solo", "panel"):  # the jingle and the recording, whole
        assert abs(_seconds(media / f"{slug}.mp3") - 5.5) < 0.2, slug
        assert abs(_seconds(media / f"{slug}.opus") - 5.5) < 0.2, slug


@needs_espeak
def test_chapters_the_clean_edition_and_a_made_transcript_in_a_folder_of_any_name(capsys, tmp_path):
    """An AAC show (chapters muxed by ffmpeg from a metadata file beside the audio) with a clean edition (a second
    encode reading its mask files, and the two editions compared by ffmpeg), and a transcript made offline (the
    recording decoded by ffmpeg for the recogniser)."""
    show = write_show(
        tmp_path / "Season 2: It's [live]; a,b=c 100%" / "-show",
        extra_show='language = "en"',
        extra_audio='format = "m4a"',
    )
    with (show / "panelpress.toml").open("a") as handle:
        handle.write('\n[clean]\nedition = true\nmode = "bleep"\n\n[transcripts]\nmake = true\n')
    pieces = say(show / "episodes" / "swear.wav", ["Welcome to the panel.", 0.5, "What the", 0.08, "fuck", 0.6, "Bye."])
    (show / "episodes" / "swear.vtt").write_text(
        f"WEBVTT\n\n00:00:00.000 --> 00:00:0{pieces[-1].end + 0.1:.3f}\n<v Ann>Welcome to the panel. What the fuck. Bye.\n"
    )
    write_notes(
        show,
        "swear",
        "title: Swear\ndate: 2026-02-01\nexplicit: true\npanelists: [Ann]\nchapters:\n  - 0:00 Hello\n  - 0:01 Words",
    )
    say(show / "episodes" / "talk.wav", ["Hello and welcome.", 0.6, "Thank you."])
    write_notes(show, "talk", "title: Talk\ndate: 2026-02-02")
    _build(capsys, show)
    assert "made by panelpress with faster-whisper" in (show / "show_notes" / "talk.vtt").read_text()
    media = show / "public" / "media"
    chapters = MP4(media / "swear.m4a").chapters
    assert [chapter.title for chapter in chapters] == ["Hello", "Words"]
    clean = [path for path in media.glob("*.m4a") if path.stem not in ("swear", "talk")]
    assert len(clean) == 1 and abs(_seconds(clean[0]) - _seconds(media / "swear.m4a")) < 0.1
    assert (show / "public" / "feed-clean.xml").is_file()


def test_a_file_named_like_an_option_or_a_protocol_is_still_a_file(tmp_path):
    """What ffmpeg would read as an option (`-y`) or a protocol (`pipe:`, `data:`, `concat:` before a colon) is a file
    once `file:` is in front of it, relative names too."""
    make_audio(tmp_path / "in.wav", seconds=1)
    for name in ("-y.wav", "-i.wav", "pipe:1.wav", "data:,.wav", "concat:a|b.wav"):
        done = subprocess.run(
            [ffmpeg(), "-nostdin", "-v", "error", "-i", file_arg(Path("in.wav")), "-y", file_arg(Path(name))],
            cwd=tmp_path,
            capture_output=True,
        )
        assert done.returncode == 0 and done.stdout == b"", done.stderr  # (pipe:1 would have written to stdout)
        assert _seconds(Path(name), cwd=tmp_path) == pytest.approx(1, abs=0.05), name


@pytest.mark.parametrize(
    "name",
    [
        "".join(ch for ch in string.punctuation if ch != "/"),  # every ASCII mark: : ' [ ] , ; = \\ % $ " …
        " leading and trailing ",
        "tab\there\nand a line break",
        "ends in a backslash\\",
        "-starts with a dash",
        "Ünïcödé 日本語",
        "x:y",
    ],
)
def test_a_path_inside_a_filter_graph_reaches_the_filter_as_it_is(tmp_path, name):
    """Both levels of ffmpeg's filter-graph syntax: a recording read by `amovie`, and a meter's file written by
    `ametadata`, in a folder of that name."""
    folder = tmp_path / name
    source = make_audio(folder / "in.wav", seconds=0.5)
    meter = folder / "meter.txt"
    graph = f"amovie={filter_path(source)},ebur128=metadata=1,ametadata=mode=print:file={filter_path(meter)}"
    done = subprocess.run(
        [ffmpeg(), "-nostdin", "-v", "error", "-filter_complex", graph, "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "lavfi.r128.I=" in meter.read_text() and sorted(p.name for p in folder.iterdir()) == ["in.wav", "meter.txt"]
