"""`panelpress import`: a show moving to panelpress keeps its GUIDs, dates and podcast GUID."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from pipeline import config as config_module
from pipeline import namespace_rules
from pipeline.cli import main
from pipeline.episode import notes
from pipeline.show import ledger
from pipeline.show.podcastindex import PODCAST_NS
from tests.conftest import checksums, show_with, write_notes, write_show

SITE = "https://pod.example.com/show/"
OLD_PODCAST_GUID = "917393e3-1b1e-5cef-ace4-edaa54e1f810"

OLD_FEED = """\
<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:atom="http://www.w3.org/2005/Atom"
     xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel>
  <title>Old Show</title>
  <atom:link href="https://old.example.com/feed.rss" rel="self" type="application/rss+xml"/>
  {podcast_guid}
  <item>
    <title>First &amp; foremost</title>
    <guid isPermaLink="false">old-guid-1</guid>
    <pubDate>Mon, 02 Feb 2026 08:00:00 GMT</pubDate>
    <enclosure url="https://old.example.com/audio/Episode%201.mp3?source=rss" length="1234" type="audio/mpeg"/>
    <link>https://old.example.com/episode-1/</link>
    <description><![CDATA[<p>First paragraph.</p><p>Second <a href="https://example.com/">link</a></p>
      <ul><li>One <strong>bold</strong> point</li><li>Two_words</li></ul><p>See <a href="/notes/1">the old notes</a><br>thanks</p>
      <script>alert(1)</script>]]></description>
    <itunes:explicit>yes</itunes:explicit>
    <itunes:episode>1</itunes:episode>
  </item>
  <item>
    <title>By Title</title>
    <guid>https://old.example.com/?p=2</guid>
    <pubDate>Mon, 09 Feb 2026 08:00:00 +0000</pubDate>
    <enclosure url="https://old.example.com/audio/xyz123.mp3" length="99" type="audio/mpeg"/>
  </item>
  <item>
    <title>Lost one</title>
    <guid>old-guid-3</guid>
    <pubDate>Mon, 16 Feb 2026 08:00:00 +0000</pubDate>
    <enclosure url="https://old.example.com/audio/lost.mp3" length="5" type="audio/mpeg"/>
  </item>
</channel>
</rss>
"""


@pytest.fixture
def moving(tmp_path, audio_dir) -> tuple[Path, Path]:
    """A show folder with two of the three recordings an old feed published, and that feed as a file."""
    show = write_show(tmp_path / "show")
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / "episode-1.wav")
    shutil.copy(audio_dir / "mono.flac", show / "episodes" / "by-title.flac")
    write_notes(show, "by-title", "title: by   title\ndate: 2026-02-09")  # matched by title; the date lacks the time
    old = tmp_path / "old-feed.xml"
    old.write_text(OLD_FEED.format(podcast_guid=f"<podcast:guid>{OLD_PODCAST_GUID}</podcast:guid>"), encoding="utf-8")
    return show, old


def test_import_writes_guids_dates_and_the_podcast_guid(moving, capsys):
    show, old = moving
    assert main(["import", str(old), "--show", str(show)]) == 1  # one item matched no recording
    out = capsys.readouterr()
    assert "matched episode-1 by file name: 'First & foremost', GUID old-guid-1" in out.out
    assert (
        "its audio moves from https://old.example.com/audio/Episode%201.mp3?source=rss to https://pod.example.com/show/media/episode-1.mp3"
        in out.out
    )
    assert "matched by-title by title" in out.out
    assert "unmatched: 'Lost one' (GUID old-guid-3" in out.err
    assert (
        "before you build:" in out.err
        and "by-title.md: says 2026-02-09T00:00:00+00:00" in out.err
        and "--allow-redate by-title" in out.err
    )
    assert "2 imported, 1 unmatched" in out.out

    book = ledger.load(show / config_module.LEDGER_NAME)
    assert book.podcast_guid == OLD_PODCAST_GUID
    assert book.episodes["episode-1"] == ledger.Entry(
        "old-guid-1", "2026-02-02T08:00:00+00:00", SITE + "media/episode-1.mp3", 1234, ""
    )
    assert book.episodes["by-title"].guid == "https://old.example.com/?p=2"
    assert book.episodes["by-title"].first_published == "2026-02-09T08:00:00+00:00"


def test_import_writes_notes_for_recordings_that_have_none(moving):
    show, old = moving
    main(["import", str(old), "--show", str(show)])
    started = notes.read(show / "show_notes" / "episode-1.md")
    assert started.title == "First & foremost"
    assert started.date.isoformat() == "2026-02-02T08:00:00+00:00"
    assert (started.explicit, started.episode, started.draft) == (True, 1, False)
    assert started.summary == "First paragraph."
    assert started.body == (
        "First paragraph.\n\nSecond [link](https://example.com/)\n\n- One **bold** point\n- Two\\_words\n\n"
        "See [the old notes](https://old.example.com/notes/1)\\\nthanks"
    )  # links, lists and emphasis kept as Markdown; relative links made absolute; the script gone
    assert notes.read(show / "show_notes" / "by-title.md").title == "by   title"  # an existing file is never rewritten


def test_the_first_build_after_import_keeps_what_subscribers_have(moving, capsys):
    show, old = moving
    main(["import", str(old), "--show", str(show)])
    assert main(["build", "--show", str(show)]) == 1  # by-title's notes say another time of day
    assert "'by-title' would change its pubDate from Mon, 09 Feb 2026 08:00:00 +0000" in capsys.readouterr().err
    write_notes(show, "by-title", "title: By Title\ndate: 2026-02-09 08:00:00+00:00")
    assert main(["build", "--show", str(show)]) == 0
    feed = show / "public" / "feed.xml"
    parsed = feedparser.parse(feed)
    assert [(e.id, e.published) for e in parsed.entries] == [
        ("https://old.example.com/?p=2", "Mon, 09 Feb 2026 08:00:00 +0000"),
        ("old-guid-1", "Mon, 02 Feb 2026 08:00:00 +0000"),
    ]
    assert etree.parse(str(feed)).findtext(f"channel/{{{PODCAST_NS}}}guid") == OLD_PODCAST_GUID


def test_without_a_podcast_guid_the_old_feed_url_gives_it(moving):
    show, old = moving
    old.write_text(OLD_FEED.format(podcast_guid=""), encoding="utf-8")
    main(["import", str(old), "--show", str(show)])
    assert ledger.load(show / config_module.LEDGER_NAME).podcast_guid == namespace_rules.podcast_guid(
        "https://old.example.com/feed.rss"
    )


def test_a_ledger_guid_is_never_overwritten(moving, capsys):
    show, old = moving
    (show / config_module.LEDGER_NAME).write_text(
        json.dumps(
            {
                "episodes": {
                    "episode-1": {"guid": "mine", "first_published": "", "enclosure_url": "", "length": 0, "sha256": ""}
                }
            }
        )
    )
    assert main(["import", str(old), "--show", str(show)]) == 1
    assert "not imported:" in capsys.readouterr().err
    assert ledger.load(show / config_module.LEDGER_NAME).episodes["episode-1"].guid == "mine"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<rss><channel>", "cannot be read as a feed"),
        ("<feed/>", "is not an RSS feed"),
        ("ID3\x03 not a feed", "cannot be read as a feed: it holds no XML"),
    ],
)
def test_a_bad_feed_file_is_refused(moving, capsys, text, expected):
    show, old = moving
    old.write_text(text)
    assert main(["import", str(old), "--show", str(show)]) == 2
    assert expected in capsys.readouterr().err
    assert not (show / config_module.LEDGER_NAME).exists()


def test_import_round_trip_restores_a_lost_ledger(tmp_path, audio_dir, capsys):
    episodes = {
        "alpha": ("stereo.wav", "title: Alpha\ndate: 2026-01-10 07:30:00+01:00"),
        "beta": ("tagged.mp3", "title: Beta\ndate: 2026-01-17"),
    }
    show = show_with(tmp_path / "show", audio_dir, episodes)
    assert main(["build", "--show", str(show)]) == 0
    original = ledger.load(show / config_module.LEDGER_NAME)

    def restored() -> None:
        found = ledger.load(show / config_module.LEDGER_NAME)
        assert found.podcast_guid == original.podcast_guid
        for slug, entry in original.episodes.items():
            got = found.episodes[slug]
            assert (got.guid, got.enclosure_url, got.length) == (entry.guid, entry.enclosure_url, entry.length)
            assert ledger._instant(got.first_published) == ledger._instant(entry.first_published)

    (show / config_module.LEDGER_NAME).unlink()  # lost: the build takes the GUIDs back from its own published feed
    capsys.readouterr()
    assert main(["build", "--show", str(show)]) == 0
    assert "took the GUID of 'alpha'" in capsys.readouterr().out
    restored()

    (show / config_module.LEDGER_NAME).unlink()  # and `import` does it by hand, from any copy of the feed
    assert main(["import", str(show / "public" / "feed.xml"), "--show", str(show)]) == 0
    restored()
    assert main(["build", "--show", str(show)]) == 0
    assert [e.id for e in feedparser.parse(show / "public" / "feed.xml").entries] == [
        original.episodes[s].guid for s in ("beta", "alpha")
    ]


def test_imported_notes_never_name_a_picture_that_is_not_there(moving):
    show, old = moving
    text = old.read_text(encoding="utf-8").replace(
        "    <link>https://old.example.com/episode-1/</link>\n", ""
    )  # <link> is optional
    text = text.replace(
        "<p>First paragraph.</p>", '<p>First paragraph.</p><p><img src="guest.jpg" alt="Ann, our guest"></p>'
    )
    old.write_text(text, encoding="utf-8")
    main(["import", str(old), "--show", str(show)])
    body = notes.read(show / "show_notes" / "episode-1.md").body  # no "image is not a file" error
    assert "Ann, our guest" in body and "guest.jpg" not in body


# --- feeds as apps accept them: gPodder's own test feeds, Atom, undeclared prefixes, broken markup ----------------

DATA = Path(__file__).parent / "data"
FEEDS = sorted([*(DATA / "podcastparser").glob("*.rss"), *(DATA / "feeds").glob("*.*")])


def _import(show: Path, feed: Path, capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["import", str(feed), "--show", str(show)])
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.mark.parametrize("feed", FEEDS, ids=lambda path: path.name)
def test_every_test_feed_is_imported_or_refused_in_words(tmp_path, audio_dir, capsys, feed):
    show = write_show(tmp_path / "show")
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / "episode-1.wav")
    code, said = _import(show, feed, capsys)
    assert code in (0, 1, 2), said
    assert "Traceback" not in said and "unexpectedly" not in said
    if code == 2:
        assert f"{feed.name}: cannot be read as a feed" in said


def test_an_atom_entry_keeps_its_id_and_its_published_date(tmp_path, audio_dir, capsys):
    show = write_show(tmp_path / "show")
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / "robots.wav")
    write_notes(show, "robots", "title: Atom-Powered Robots Run Amok")
    code, said = _import(show, DATA / "podcastparser" / "atom_published_updated.rss", capsys)
    assert code == 1, said  # imported; but the notes have no date, and the first build would refuse without one
    assert (
        "matched robots by title: 'Atom-Powered Robots Run Amok', GUID urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
        in said
    )
    entry = ledger.load(show / config_module.LEDGER_NAME).episodes["robots"]
    assert entry.guid == "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    assert entry.first_published == "2003-12-13T18:30:02+00:00"  # published, not the later updated
    assert "robots.md: says no date, the old feed published it at 2003-12-13T18:30:02+00:00" in said


def test_an_atom_podcast_feed_gives_guids_dates_audio_and_notes(tmp_path, audio_dir, capsys):
    show = write_show(tmp_path / "show")
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / "episode-1.wav")
    code, said = _import(show, DATA / "feeds" / "atom_enclosures.xml", capsys)
    assert code == 1  # one entry has no recording here
    assert "matched episode-1 by file name: 'Atom Episode', GUID tag:old.example.com,2026:episode-1" in said
    assert (
        "unmatched: 'Not Here' (GUID tag:old.example.com,2026:episode-9, https://old.example.com/audio/nine.mp3)"
        in said
    )
    book = ledger.load(show / config_module.LEDGER_NAME)
    assert book.podcast_guid == namespace_rules.podcast_guid("https://old.example.com/atom.xml")
    entry = book.episodes["episode-1"]
    assert (entry.guid, entry.first_published, entry.length) == (
        "tag:old.example.com,2026:episode-1",
        "2026-02-02T08:00:00+01:00",
        4321,
    )
    written = notes.read(show / "show_notes" / "episode-1.md")
    assert (written.title, written.summary, written.explicit, written.draft) == (
        "Atom Episode",
        "One plain sentence.",
        False,
        False,
    )
    assert written.date.isoformat() == "2026-02-02T08:00:00+01:00"
    assert "[old notes](https://old.example.com/notes/1)" in written.body  # relative to the entry's page


def test_a_feed_using_itunes_without_declaring_it_is_read_and_repaired(tmp_path, audio_dir, capsys):
    show = write_show(tmp_path / "show")
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / "episode-1.wav")
    code, said = _import(show, DATA / "feeds" / "itunes_no_xmlns.rss", capsys)
    assert code == 0, said
    assert (
        "repaired: data/feeds/itunes_no_xmlns.rss: uses the prefixes itunes:, media: without declaring them"
        in said.replace(str(DATA.parent) + "/", "")
    )
    entry = ledger.load(show / config_module.LEDGER_NAME).episodes["episode-1"]
    assert (entry.guid, entry.first_published) == ("old-guid-ns-1", "2026-02-03T07:15:00+01:00")
    written = notes.read(show / "show_notes" / "episode-1.md")
    assert (written.explicit, written.episode, written.episode_type) == (
        True,
        12,
        "bonus",
    )  # its itunes: elements were read


def test_broken_markup_is_read_past_but_a_guid_it_touches_is_not_taken(tmp_path, audio_dir, capsys):
    show = write_show(tmp_path / "show")
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / "episode-1.wav")
    shutil.copy(audio_dir / "mono.flac", show / "episodes" / "episode-2.flac")
    feed = DATA / "feeds" / "broken_markup.rss"
    code, said = _import(show, feed, capsys)
    assert code == 1
    assert (
        "broken_markup.rss: is not well-formed XML; it was read past the errors at line 10 (Entity 'nbsp' not defined), line 14"
        in said
    )
    assert (
        "not imported:" in said
        and "line 12: item 2 ('Second') has its GUID on line 14, where the markup is broken" in said
    )
    assert "correct the old feed file there, then import again" in said
    book = ledger.load(show / config_module.LEDGER_NAME)
    assert sorted(book.episodes) == ["episode-1"] and book.episodes["episode-1"].guid == "old-guid-broken-1"


def test_a_feed_cut_short_is_refused(tmp_path, audio_dir, capsys):
    show = write_show(tmp_path / "show")
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / "episode-1.wav")
    code, said = _import(show, DATA / "feeds" / "cut_short.rss", capsys)
    assert code == 2
    assert (
        "cut_short.rss: cannot be read as a feed: it ends before its last element" in said
        and "save the old feed again, completely" in said
    )
    assert not (show / config_module.LEDGER_NAME).exists()


# --- what the next build would refuse, import refuses first (writing nothing), or takes in a form it accepts -------


def _rss(*items: tuple[str, str, str, str, str]) -> str:
    """An old feed of items: (title, GUID, RFC 2822 date, enclosure file name, description as HTML)."""
    rows = "".join(
        f"<item><title>{title}</title><guid>{guid}</guid><pubDate>{date}</pubDate>"
        f'<enclosure url="https://old.example.com/audio/{name}" length="10" type="audio/mpeg"/>'
        f"<description>{description}</description></item>\n"
        for title, guid, date, name, description in items
    )
    return f'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Old</title>\n{rows}</channel></rss>\n'


ONE = ("One", "guid-1", "Mon, 02 Feb 2026 08:00:00 +0000", "one.mp3", "First.")
TWO = ("Two", "guid-2", "Mon, 09 Feb 2026 08:00:00 +0000", "two.mp3", "Second.")


@pytest.fixture
def two_recordings(tmp_path, audio_dir) -> Path:
    show = write_show(tmp_path / "show")
    for slug in ("one", "two"):
        shutil.copy(audio_dir / "stereo.wav", show / "episodes" / f"{slug}.wav")
    return show


REFUSED = {
    "two items share a GUID": (
        [ONE, (*TWO[:1], "guid-1", *TWO[2:])],
        {},
        "item 1 ('One') (for 'one') and item 2 ('Two') (for 'two') share the GUID guid-1",
    ),
    "an item has the GUID of another episode of the ledger": (
        [(*TWO[:1], "mine", *TWO[2:])],
        {"one": "mine"},
        "the ledger's episode 'one' and item 1 ('Two') (for 'two') share the GUID mine",
    ),
    "two items have one recording's audio": (
        [ONE, ("One again", "guid-3", *ONE[2:])],
        {},
        "item 1 ('One') and item 2 ('One again') both match the recording 'one'",
    ),
}


@pytest.mark.parametrize("member", list(REFUSED))
def test_an_import_the_next_build_would_refuse_is_refused_writing_nothing(two_recordings, tmp_path, capsys, member):
    items, ledger_guids, said = REFUSED[member]
    show = two_recordings
    if ledger_guids:
        entries = {
            slug: {"guid": guid, "first_published": "", "enclosure_url": "", "length": 0, "sha256": ""}
            for slug, guid in ledger_guids.items()
        }
        (show / config_module.LEDGER_NAME).write_text(json.dumps({"episodes": entries}))
    before = checksums(show)
    old = tmp_path / "old.xml"
    old.write_text(_rss(*items), encoding="utf-8")
    code, out = _import(show, old, capsys)
    assert code == 2, out
    assert said in out and "nothing was written" in out and "Traceback" not in out
    assert checksums(show) == before, "no notes, no ledger"


def test_what_import_takes_the_next_build_publishes_as_subscribers_have_it(two_recordings, tmp_path, capsys):
    show = two_recordings
    tomorrow = (datetime.now(UTC) + timedelta(days=3)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    items = [
        (ONE[0], ONE[1], ONE[2], ONE[3], "Hello &amp;#27;[31m red &amp;#1; text."),  # escapes a feed cannot carry
        ONE,  # the same item twice (an old host's bug): taken once
        (*TWO[:2], tomorrow, *TWO[3:]),  # dated in the future: not imported
    ]
    old = tmp_path / "old.xml"
    old.write_text(_rss(*items), encoding="utf-8")
    code, said = _import(show, old, capsys)
    assert code == 1, said  # 'two' was not imported
    assert "item 2 ('One') repeats item 1 ('One')" in said and "it was taken once" in said
    assert "item 1 ('One') holds characters a feed cannot carry; they were left out of one.md" in said
    assert "item 3 ('Two') is dated" in said and "in the future" in said
    book = ledger.load(show / config_module.LEDGER_NAME)
    assert sorted(book.episodes) == ["one"] and book.episodes["one"].guid == "guid-1"
    assert notes.read(show / "show_notes" / "one.md").body == "Hello [31m red  text."  # the escapes left out
    assert not (show / "show_notes" / "two.md").exists()
    assert main(["build", "--show", str(show)]) == 0, capsys.readouterr()  # never refused after an import
    parsed = feedparser.parse(show / "public" / "feed.xml")
    assert [(e.id, e.title) for e in parsed.entries] == [("guid-1", "One")]


def test_an_item_whose_title_several_recordings_have_is_not_guessed(two_recordings, tmp_path, capsys):
    show = two_recordings
    write_notes(show, "one", "title: Same\ndate: 2026-02-02")
    write_notes(show, "two", "title: Same\ndate: 2026-02-09")
    old = tmp_path / "old.xml"
    old.write_text(_rss(("Same", "guid-9", ONE[2], "elsewhere.mp3", "Notes.")), encoding="utf-8")
    code, said = _import(show, old, capsys)
    assert code == 1 and "has the title of 2 recordings' notes (one, two)" in said
    assert ledger.load(show / config_module.LEDGER_NAME).episodes == {}
