"""Paged archives (`[feed] items`, RFC 5005): feed.xml keeps the newest items, archive documents the rest; every
item is reachable by following the links, as real podcast parsers read them; a full archive page never changes;
the ledger, the guard and `check` count archived episodes as published."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import feedparser
import podcastparser
import pytest

from pipeline import check, layout
from pipeline import config as config_module
from pipeline.check.feed import FEED_BYTES_LIMIT
from pipeline.cli import main
from pipeline.errors import ConfigError
from tests.conftest import make_audio, write_notes, write_show

SITE = "https://pod.example.com/show/"
FH = "http://purl.org/syndication/history/1.0"


def _add(show: Path, numbers: range, recording: Path, body: str = "Notes body.") -> None:
    for number in numbers:
        shutil.copy(recording, show / "episodes" / f"ep{number:02d}.wav")
        write_notes(
            show,
            f"ep{number:02d}",
            f"title: Episode {number}\ndate: 2026-{1 + (number - 1) // 28:02d}-{1 + (number - 1) % 28:02d}",
            body,
        )


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> Path:
    return make_audio(tmp_path_factory.mktemp("audio") / "one.wav", seconds=1.2)


@pytest.fixture
def paged(tmp_path, recording) -> Path:
    """A published show of 23 episodes with `[feed] items = 10`."""
    show = write_show(tmp_path / "show", extra_build="publish_new = true")
    toml = show / config_module.CONFIG_NAME
    toml.write_text(toml.read_text().replace("publish_new = false\n", "") + "[feed]\nitems = 10\n")
    _add(show, range(1, 24), recording)
    assert main(["build", "--show", str(show)]) == 0
    return show


def _document(show: Path, url: str) -> bytes:
    assert url.startswith(SITE)
    return (show / "public" / url.removeprefix(SITE)).read_bytes()


def _walk(show: Path) -> list[tuple[str, feedparser.FeedParserDict, dict]]:
    """Every document from the feed on, following rel="prev-archive" as feedparser reads the links, each also read
    by gPodder's podcastparser."""
    found, url = [], SITE + layout.FEED_FILE
    while url:
        data = _document(show, url)
        parsed = feedparser.parse(data)
        assert not parsed.bozo, (url, parsed.get("bozo_exception"))
        gpodder = podcastparser.parse(url, io.BytesIO(data))
        found.append((url, parsed, gpodder))
        url = next((link.href for link in parsed.feed.get("links", []) if link.rel == "prev-archive"), "")
        assert url not in [u for u, _, _ in found], "the links never loop"
    return found


def test_every_item_is_reachable_by_following_the_archive_links(paged):
    documents = _walk(paged)
    assert [url.removeprefix(SITE) for url, _, _ in documents] == [
        "feed.xml",
        "archive/feed-2.xml",
        "archive/feed-1.xml",
    ]
    titles = [entry.title for _, parsed, _ in documents for entry in parsed.entries]
    assert titles == [f"Episode {n}" for n in range(23, 0, -1)], "each item once, newest first"
    for _, parsed, gpodder in documents:
        assert len(gpodder["episodes"]) == len(parsed.entries)
    book = json.loads((paged / config_module.LEDGER_NAME).read_text())
    assert sorted(entry.id for _, parsed, _ in documents for entry in parsed.entries) == sorted(
        e["guid"] for e in book["episodes"].values()
    )
    index = (paged / "public" / layout.INDEX_PAGE).read_text()
    assert all(f"Episode {n}<" in index for n in range(1, 24)), "the pages keep every episode"


def test_archives_are_marked_and_linked_both_ways_as_rfc_5005_asks(paged):
    from lxml import etree

    feed = etree.fromstring((paged / "public" / layout.FEED_FILE).read_bytes())
    assert feed.find(f"channel/{{{FH}}}archive") is None, "the feed itself is no archive"
    for number, (prev, nxt) in {1: ("", "archive/feed-2.xml"), 2: ("archive/feed-1.xml", "")}.items():
        root = etree.fromstring((paged / "public" / layout.archive(number)).read_bytes())
        channel = root.find("channel")
        assert channel.find(f"{{{FH}}}archive") is not None
        links = {link.get("rel"): link.get("href") for link in channel.iterfind("{http://www.w3.org/2005/Atom}link")}
        assert links["current"] == SITE + "feed.xml" and links["self"] == SITE + layout.archive(number)
        assert links.get("prev-archive", "") == (SITE + prev if prev else "") and links.get("next-archive", "") == (
            SITE + nxt if nxt else ""
        )
        assert b"<?xml-stylesheet" not in (paged / "public" / layout.archive(number)).read_bytes(), (
            "no page asks to subscribe to an archive"
        )
    assert b'<?xml-stylesheet type="text/xsl" href="feed.xsl"?>' in (paged / "public" / layout.FEED_FILE).read_bytes()


def test_publishing_an_episode_changes_only_the_newest_archive_page(paged, recording):
    full = (paged / "public" / layout.archive(1)).read_bytes()
    for number in range(24, 31):  # seven more: the newest page fills (10), and an empty one follows it
        _add(paged, range(number, number + 1), recording)
        assert main(["build", "--show", str(paged)]) == 0
        assert (paged / "public" / layout.archive(1)).read_bytes() == full, "a full archive page never changes"
    second = (paged / "public" / layout.archive(2)).read_bytes()
    _add(paged, range(31, 34), recording)
    assert main(["build", "--show", str(paged)]) == 0
    assert (paged / "public" / layout.archive(2)).read_bytes() == second, "nor does the next one, once full"
    assert [url.removeprefix(SITE) for url, _, _ in _walk(paged)] == [
        "feed.xml",
        "archive/feed-3.xml",
        "archive/feed-2.xml",
        "archive/feed-1.xml",
    ]


def test_check_counts_archived_episodes_as_published_and_follows_the_links(paged, capsys):
    report = check.run(paged)
    assert not [p for p in report.problems if "artwork" not in p.problem and "itunes:image" not in p.problem], (
        report.problems
    )
    (paged / "public" / layout.archive(1)).unlink()
    problems = [p.message() for p in check.run(paged).problems]
    assert any("archive/feed-1.xml: is missing, but the archive archive/feed-2.xml links it" in p for p in problems), (
        problems
    )
    assert any("'ep01'" in p and "neither in the feed nor in its archives" in p for p in problems)


def test_a_lost_ledger_takes_the_guids_of_archived_episodes_back_from_the_archives(paged):
    ledger_path = paged / config_module.LEDGER_NAME
    before = {slug: entry["guid"] for slug, entry in json.loads(ledger_path.read_text())["episodes"].items()}
    ledger_path.unlink()
    shutil.rmtree(config_module.load(paged).cache_dir)
    assert main(["build", "--show", str(paged)]) == 0
    after = {slug: entry["guid"] for slug, entry in json.loads(ledger_path.read_text())["episodes"].items()}
    assert after == before


def test_the_published_items_are_kept_by_the_feeds_checksum_and_its_archives(paged, monkeypatch):
    """The items the guard reads from the published feed and its archives are kept in the cache when a build
    publishes them, as a parser reads them back from the files (behind an analytics prefix too), by the feed's
    checksum and the archives' fingerprints: the next build parses nothing, and a lost ledger takes its GUIDs back
    from them as from the files (an archive touched since, its content the same, keeps them)."""
    from pipeline.show import guard

    with (paged / config_module.CONFIG_NAME).open("a") as toml:
        toml.write('\n[deploy]\nprefix = "https://op3.dev/e,pg={guid}/"\n')
    assert main(["build", "--show", str(paged)]) == 0  # every enclosure behind the prefix
    config = config_module.load(paged)
    feed = paged / "public" / layout.FEED_FILE
    parsed = guard.published_items(paged / "public", SITE, feed, feed.read_bytes(), config.media_url)
    kept = json.loads(next((config.cache_dir / "state").glob("*/feed-items.json")).read_text())["data"]["value"]
    assert len(parsed) == 23 and any("op3.dev" in line for line in feed.read_text().splitlines())
    assert kept["items"] == [
        [i.guid, i.title, i.enclosure_url, i.length, i.pub_date.isoformat(), i.link] for i in parsed
    ]
    reads = []
    published_items = guard.published_items
    monkeypatch.setattr(guard, "published_items", lambda *a, **k: reads.append(a) or published_items(*a, **k))
    ledger_path = paged / config_module.LEDGER_NAME
    before = {slug: entry["guid"] for slug, entry in json.loads(ledger_path.read_text())["episodes"].items()}
    write_notes(paged, "ep22", "title: Episode 22, renamed\ndate: 2026-01-22")
    assert main(["build", "--show", str(paged)]) == 0 and reads == []
    write_notes(paged, "ep21", "title: Episode 21, renamed\ndate: 2026-01-21")
    ledger_path.unlink()
    (paged / "public" / "archive" / "feed-1.xml").touch()
    assert main(["build", "--show", str(paged)]) == 0 and reads == []
    after = {slug: entry["guid"] for slug, entry in json.loads(ledger_path.read_text())["episodes"].items()}
    assert after == before


def test_check_warns_of_a_feed_larger_than_apps_take(tmp_path, recording):
    show = write_show(tmp_path / "show", extra_build="publish_new = true")
    (show / config_module.CONFIG_NAME).write_text(
        (show / config_module.CONFIG_NAME).read_text().replace("publish_new = false\n", "")
    )
    _add(
        show,
        range(1, 4),
        recording,
        body="\n\n".join(f"Paragraph {n} of a long transcript pasted into the notes." * 20 for n in range(400)),
    )
    assert main(["build", "--show", str(show)]) == 0
    assert (show / "public" / layout.FEED_FILE).stat().st_size > FEED_BYTES_LIMIT
    warnings = [w.message() for w in check.run(show).warnings]
    assert any("holds 3 items in" in w and "set `items = 100` under [feed]" in w for w in warnings), warnings


@pytest.mark.parametrize("items", [5, -1, 10001])
def test_the_page_size_is_checked(tmp_path, items):
    show = write_show(tmp_path / "show")
    (show / config_module.CONFIG_NAME).write_text(
        (show / config_module.CONFIG_NAME).read_text() + f"[feed]\nitems = {items}\n"
    )
    with pytest.raises(ConfigError, match=r"\[feed\] items"):
        config_module.load(show)
