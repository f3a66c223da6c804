"""`panelpress check`: a clean build passes; every defect planted in a really built site is caught by name."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from pipeline.check.feed import date_problem
from pipeline.cli import main
from tests.conftest import checksums, make_audio, write_notes, write_show
from tests.speech import needs_espeak, say

SITE_URL = "https://pod.example.com/show/"
VTT = "WEBVTT\n\n00:00:00.500 --> 00:00:02.000\n<v Ann>Hello.\n\n00:00:02.000 --> 00:00:03.500\n<v Bo>Hi, Ann.\n"


@pytest.fixture(scope="module")
def built_show(tmp_path_factory, audio_dir) -> Path:
    """A show built once by the real CLI: two episodes, one with a transcript, square artwork."""
    show = write_show(tmp_path_factory.mktemp("check") / "show", extra_show='artwork = "cover.jpg"')
    Image.new("RGB", (1400, 1400), (30, 90, 160)).save(show / "cover.jpg")
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / "first.wav")
    make_audio(show / "episodes" / "second.wav", seconds=2)
    write_notes(show, "first", "title: First & foremost\ndate: 2026-01-05\nexplicit: true\npanelists: [Ann, Bo]")
    write_notes(show, "second", "title: Second\ndate: 2026-02-10 18:30:00+01:00")
    (show / "episodes" / "first.vtt").write_text(VTT)
    assert main(["build", "--show", str(show)]) == 0
    return show


@pytest.fixture
def show(built_show, tmp_path) -> Path:
    """A private copy of the built show, to plant a defect in."""
    return Path(shutil.copytree(built_show, tmp_path / "show"))


def _check(show: Path, capsys, *args: str) -> tuple[int, list[str]]:
    code = main(["check", "--show", str(show), *args])
    return code, capsys.readouterr().out.splitlines()


def test_a_clean_build_passes(show, capsys):
    before = checksums(show)
    code, out = _check(show, capsys)
    assert out == ["all good"]
    assert code == 0
    outside_cache = lambda sums: {rel: d for rel, d in sums.items() if not rel.startswith(".panelpress-cache/")}  # noqa: E731
    assert outside_cache(checksums(show)) == outside_cache(before), (
        "check writes nothing but its own memory in the cache"
    )
    assert _check(show, capsys) == (0, ["all good"]), "and the next check, with that memory, agrees"


def _edit_feed(show: Path, change: Callable[[str], str]) -> None:
    feed = show / "public" / "feed.xml"
    text = feed.read_text(encoding="utf-8")
    changed = change(text)
    assert changed != text, "the defect was not planted"
    feed.write_text(changed, encoding="utf-8")


def _first(pattern: str, repl: str) -> Callable[[str], str]:
    return lambda text: re.sub(pattern, repl, text, count=1)


def _replace_art(show: Path) -> None:
    Image.new("RGB", (1600, 1400), "white").save(show / "cover.jpg")


def _length_plus_one(text: str) -> str:
    return re.sub(r'length="(\d+)"', lambda m: f'length="{int(m.group(1)) + 1}"', text, count=1)


def _duplicate_guid(text: str) -> str:
    guids = re.findall(r"<guid isPermaLink=\"false\">([^<]+)</guid>", text)
    return text.replace(guids[1], guids[0])


PODCAST_NS = 'xmlns:podcast="https://podcastindex.org/namespace/1.0" '


def _link_missing_transcript(text: str) -> str:
    if "xmlns:podcast=" not in text:  # the feed declares the namespace once it links transcripts itself
        text = text.replace("<rss ", "<rss " + PODCAST_NS, 1)
    link = f'<podcast:transcript url="{SITE_URL}episodes/nowhere.vtt" type="text/vtt" rel="captions"/>'
    return text.replace("</item>", link + "</item>", 1)


DEFECTS = {
    # name: (plant(show), expected text in a problem line)
    "wrong enclosure length": (
        lambda s: _edit_feed(s, _length_plus_one),
        "public/feed.xml: item 1 ('Second'): enclosure length is",
    ),
    "yes/no explicit in an item": (
        lambda s: _edit_feed(
            s, _first(r"<itunes:explicit>true</itunes:explicit>", "<itunes:explicit>yes</itunes:explicit>")
        ),
        "<itunes:explicit> is 'yes'; Apple accepts only true or false",
    ),
    "yes/no explicit in the channel": (
        lambda s: _edit_feed(
            s, _first(r"<itunes:explicit>false</itunes:explicit>", "<itunes:explicit>no</itunes:explicit>")
        ),
        "the channel's <itunes:explicit> is 'no'; Apple accepts only true or false",
    ),
    "missing guid": (
        lambda s: _edit_feed(s, _first(r"\s*<guid[^>]*>[^<]*</guid>", "")),
        "item 1 ('Second') has no <guid>",
    ),
    "duplicate guid": (lambda s: _edit_feed(s, _duplicate_guid), "2 items share the GUID"),
    "changed guid": (
        lambda s: _edit_feed(
            s, _first(r"<guid isPermaLink=\"false\">[^<]+</guid>", '<guid isPermaLink="false">not-the-one</guid>')
        ),
        "item 1 ('Second') has the GUID not-the-one, but the ledger gave it",
    ),
    "bad pubDate": (
        lambda s: _edit_feed(s, _first(r"<pubDate>[^<]*</pubDate>", "<pubDate>2026-02-10</pubDate>")),
        "<pubDate> '2026-02-10' is not an RFC 2822 date",
    ),
    "wrong weekday": (
        lambda s: _edit_feed(s, _first(r"<pubDate>Tue, ", "<pubDate>Mon, ")),
        "names the wrong weekday (it is a Tuesday)",
    ),
    "moved pubDate": (
        lambda s: _edit_feed(s, _first(r"<pubDate>Tue, 10 Feb", "<pubDate>Wed, 11 Feb")),
        "differs from the notes' date (2026-02-10T18:30:00+01:00)",
    ),
    "title edited": (
        lambda s: _edit_feed(s, _first(r"<title>Second</title>", "<title>Seconds</title>")),
        "item 1 ('Seconds'): the title differs from the notes ('Second')",
    ),
    "double-escaped ampersand": (
        lambda s: _edit_feed(s, lambda t: t.replace("First &amp; foremost", "First &amp;amp; foremost")),
        "the title differs from the notes ('First & foremost')",
    ),
    "wrong duration": (
        lambda s: _edit_feed(
            s, _first(r"<itunes:duration>\d+</itunes:duration>", "<itunes:duration>99</itunes:duration>")
        ),
        "<itunes:duration> is '99', but the audio lasts 2 s",
    ),
    "no artwork element": (
        lambda s: _edit_feed(s, _first(r"\s*<itunes:image [^>]*/>", "")),
        "the channel has no <itunes:image>, which Apple Podcasts requires",
    ),
    "non-square art": (_replace_art, "cover.jpg: is 1600×1400 pixels, not square"),
    "missing transcript file": (
        lambda s: (s / "public" / "episodes" / "first.vtt").unlink(),
        "public/episodes/first.vtt: is missing, but",
    ),  # the feed links it (podcast:transcript), so its item is named
    "broken published transcript": (
        lambda s: (s / "public" / "episodes" / "first.srt").write_text("1\n00:00:03,000 --> 00:00:01,000\nbackwards\n"),
        "public/episodes/first.srt: line 2: cue ends at 00:00:01.000, not after it starts",
    ),
    "linked transcript missing": (
        lambda s: _edit_feed(s, _link_missing_transcript),
        "public/episodes/nowhere.vtt: is missing, but item 1 ('Second') of the feed needs it",
    ),
    "missing media": (
        lambda s: (s / "public" / "media" / "second.mp3").unlink(),
        "public/media/second.mp3: is missing, but item 1 ('Second') of the feed points at it",
    ),
    "item missing from the feed": (
        lambda s: _edit_feed(s, lambda t: re.sub(r"<item>.*?</item>", "", t, count=1, flags=re.S)),
        "episode 'second' (GUID",
    ),
    "not well-formed": (
        lambda s: _edit_feed(s, lambda t: t.replace("</channel>", "")),
        "public/feed.xml: is not well-formed XML",
    ),
    "bad notes": (
        lambda s: (s / "show_notes" / "second.md").write_text("---\ntitle: [unclosed\n---\n"),
        "show_notes/second.md: front matter is not valid YAML",
    ),
    "bad transcript source": (
        lambda s: (s / "episodes" / "first.vtt").write_text(VTT.replace("00:00:03.500", "00:00:09.000")),
        "episodes/first.vtt: line 6: cue ends at 00:00:09.000, after the recording ends (00:00:04.000)",
    ),
    "orphan transcript": (
        lambda s: (s / "show_notes" / "frist.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nhi\n"),
        "show_notes/frist.srt: belongs to no recording",
    ),
}


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_check_catches_each_planted_defect(show, capsys, defect):
    plant, expected = DEFECTS[defect]
    plant(show)
    code, out = _check(show, capsys)
    assert code == 1
    problems, summary = out[:-1], out[-1]
    assert any(expected in line for line in problems), "\n".join(out)
    assert all(" — " in line for line in problems), "every line says what to do"
    assert summary == f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    assert len(problems) <= EXPECTED_LINES.get(defect, 1), "one defect, one line (no cascade)"


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_what_an_earlier_check_remembers_never_hides_a_defect(show, capsys, defect):
    assert _check(show, capsys) == (0, ["all good"])  # remembered: the feed's items and published files as good
    plant, expected = DEFECTS[defect]
    plant(show)
    code, out = _check(show, capsys)
    assert code == 1 and any(expected in line for line in out[:-1]), "\n".join(out)


def test_a_change_the_site_does_not_show_yet_is_reported_once(show, capsys):
    write_notes(show, "second", "title: Second, renamed\ndate: 2026-02-10 18:30:00+01:00")
    code, out = _check(show, capsys)
    assert (
        code == 1
        and out[0]
        == "show_notes/second.md: episode 'second' changed since the last build (show_notes/second.md): the site does not show it yet — build with `panelpress build`"
    )
    assert out[1:] == ["1 problem"]
    assert main(["build", "--show", str(show)]) == 0
    capsys.readouterr()
    assert _check(show, capsys) == (0, ["all good"])


# Defects that are more than one problem, each worth its own line.
EXPECTED_LINES = {"duplicate guid": 2, "bad pubDate": 1, "not well-formed": 1}


def test_a_missing_ledger_is_a_problem(show, capsys):
    (show / "panelpress-ledger.json").unlink()
    code, out = _check(show, capsys)
    assert code == 1 and any(
        "panelpress-ledger.json: is missing, so the feed's GUIDs cannot be checked" in line for line in out
    )


def test_a_damaged_ledger_is_a_problem_not_a_crash(show, capsys):
    (show / "panelpress-ledger.json").write_text("{ not json")
    code, out = _check(show, capsys)
    assert code == 1 and out[0].startswith("panelpress-ledger.json: the ledger is damaged")


def test_check_expects_what_a_build_publishes_a_changed_template_included(show, capsys):
    # A template is no episode's input: only the plan a build makes knows that the pages change with it.
    (show / "templates").mkdir()
    (show / "templates" / "site.css").write_text("body { color: rebeccapurple; }\n")
    code, out = _check(show, capsys)
    assert code == 1 and len(out) == 2, out
    assert (
        "as panelpress last wrote them, but a build now publishes another version" in out[0]
        and "assets/site.css" in out[0]
    )
    assert main(["build", "--show", str(show)]) == 0
    capsys.readouterr()
    assert _check(show, capsys) == (0, ["all good"]), "after the build, the site is the plan again"


def test_a_damaged_manifest_is_one_problem_and_the_rest_is_still_checked(show, capsys):
    (show / "public" / ".panelpress-manifest.json").write_text("{not json")
    (show / "public" / "media" / "second.mp3").unlink()
    code, out = _check(show, capsys)
    assert code == 1
    assert any(line.startswith("public/.panelpress-manifest.json: the manifest is damaged") for line in out), out
    assert any(line.startswith("public/media/second.mp3: is missing") for line in out), out


def test_a_bad_config_is_exit_2(show, capsys):
    toml = show / "panelpress.toml"
    toml.write_text(toml.read_text().replace("[audio]", "[audio]\nvolume = 3"))
    code, out = _check(show, capsys)
    assert code == 2
    assert out[0].startswith("panelpress.toml: unknown setting `audio.volume`") and out[1:] == ["1 problem"]


def test_a_show_not_yet_built_checks_its_sources(tmp_path, capsys):
    show = write_show(tmp_path / "show")
    make_audio(show / "episodes" / "ep.wav", seconds=2)
    write_notes(show, "ep", "title: Ep\ndate: 2026-01-01")
    code, out = _check(show, capsys)
    assert (code, out) == (0, ["all good"])
    assert not (show / "public").exists()


def test_out_points_check_at_another_site_folder(built_show, tmp_path, capsys):
    site = shutil.copytree(built_show / "public", tmp_path / "blog")
    (Path(site) / "media" / "first.mp3").write_bytes(b"not the episode")
    code, out = _check(built_show, capsys, "--out", str(site))
    assert code == 1
    assert (
        f"{site}/feed.xml: item 2 ('First & foremost'): enclosure length is" in out[0]
        and f"but {site}/media/first.mp3 is 15 bytes" in out[0]
    )
    assert out[1].startswith(f"{site}/media/first.mp3: is not the episode's audio") and out[1].endswith(
        "rebuild with `panelpress build`"
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("Tue, 10 Feb 2026 17:30:00 +0000", ""),
        ("10 Feb 2026 17:30 GMT", ""),
        ("Tue, 10 Feb 2026 17:30:00 +0000 ", ""),
        ("2026-02-10T17:30:00Z", "is not an RFC 2822 date"),
        ("Tue, 10 February 2026 17:30:00 +0000", "is not an RFC 2822 date"),
        ("Wed, 10 Feb 2026 17:30:00 +0000", "names the wrong weekday"),
        ("Tue, 31 Feb 2026 17:30:00 +0000", "is not a real date"),
    ],
)
def test_date_problem(value, problem):
    found = date_problem(value)
    assert (problem in found) if problem else found == ""


def test_addresses_under_media_url_map_back_to_the_site_folder(tmp_path, audio_dir, capsys):
    show = write_show(tmp_path / "show", extra_show='artwork = "cover.jpg"')
    Image.new("RGB", (1400, 1400), (30, 90, 160)).save(show / "cover.jpg")
    with (show / "panelpress.toml").open("a") as toml:
        toml.write('\n[deploy]\nmedia_to = "s3://media/pod/"\nmedia_url = "https://media.example.net/pod/"\n')
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / "first.wav")
    write_notes(show, "first", "title: First\ndate: 2026-01-05")
    (show / "episodes" / "first.vtt").write_text(VTT)
    assert main(["build", "--show", str(show)]) == 0
    feed = (show / "public" / "feed.xml").read_text()
    assert 'url="https://media.example.net/pod/media/first.mp3"' in feed
    assert 'url="https://media.example.net/pod/episodes/first.vtt"' in feed
    capsys.readouterr()
    assert _check(show, capsys) == (0, ["all good"])
    (show / "public" / "episodes" / "first.vtt").unlink()
    (show / "public" / "media" / "first.mp3").unlink()
    code, out = _check(show, capsys)
    assert code == 1
    assert any("public/media/first.mp3: is missing" in line for line in out), out
    assert any("first.vtt" in line for line in out), out


@needs_espeak
def test_check_shows_each_episodes_flagged_words_for_review(tmp_path, capsys):
    # [clean] edition: the build keeps every flagged word of the transcript in the episode's record, and check shows
    # them: a line per episode, and with --words a line per word (its time, and silenced, allowed, heard, …).
    show = write_show(tmp_path / "show", extra_show='language = "en"')
    with (show / "panelpress.toml").open("a") as handle:
        handle.write('\n[clean]\nedition = true\nmode = "mute"\n\n[explicit]\nallow_words = ["shit"]\n')
    pieces = say(show / "episodes" / "talk.wav", ["So what the", 0.08, "fuck", 0.08, "happened?", 0.6, "Oh shit."])
    (show / "episodes" / "talk.vtt").write_text(
        f"WEBVTT\n\n00:00:00.000 --> 00:00:0{pieces[2].end + 0.2:.3f}\nSo what the fuck happened?\n\n"
        f"00:00:0{pieces[3].start - 0.1:.3f} --> 00:00:0{pieces[3].end + 0.1:.3f}\nOh shit.\n"
    )
    write_notes(show, "talk", "title: Talk\ndate: 2026-03-01\nexplicit: true")
    assert main(["build", "--show", str(show)]) == 0
    capsys.readouterr()
    _, out = _check(show, capsys)
    assert "  talk: 2 flagged words (1 silenced, 1 allowed); its clean edition is published" in out
    assert not any("fuck" in line for line in out), "the words themselves only with --words"
    _, out = _check(show, capsys, "--words")
    said = [line.strip() for line in out if line.strip().startswith("0:00:0")]
    assert [line.split("  ")[1:] for line in said] == [
        ["fuck", "silenced (aligned)"],
        ["shit", "allowed: in [explicit] allow_words"],
    ]
