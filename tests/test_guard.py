"""The guard: every change subscribers would notice stops the build; an --allow-… makes it on purpose."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from pipeline import cache
from pipeline import config as config_module
from pipeline.build import build
from pipeline.cli import main
from pipeline.show import feed, guard, ledger
from tests.conftest import PNG_1PX, checksums, make_audio, show_with, write_notes
from tests.records import published, show_config

BUILD = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
ITUNES = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd"}


def _items():
    return [published("second", "Second", 12), published("first", "First", 3)]


def _book(items) -> ledger.Ledger:
    entries = {
        i.episode.slug: ledger.Entry(i.guid, i.pub_date.isoformat(), i.media_url, i.media.length, i.media.sha256)
        for i in items
    }
    return ledger.Ledger(episodes=entries)


def _site_feed(tmp_path: Path, items) -> list[guard.FeedItem]:
    path = tmp_path / "feed.xml"
    path.write_bytes(feed.render(show_config(), items, BUILD, None))
    return guard.read_items(path)


def _problems(errors) -> list[str]:
    return [f"{e.problem} — {e.fix}" for e in errors]


def _check(book, site, items, allow=None):
    """The guard on what subscribers would hold of these episodes."""
    return guard.check(book, site, [item.identity for item in items], allow or guard.Allow())


def test_an_unchanged_build_passes(tmp_path):
    items = _items()
    assert _check(_book(items), _site_feed(tmp_path, items), items) == []


def test_a_vanished_episode_is_caught_and_can_be_withdrawn():
    items = _items()
    problems = _problems(_check(_book(items), [], items[:1]))
    assert len(problems) == 1
    assert (
        "episode 'first' (GUID 00000000-0000-4000-8000-000000000003) was published but is not in this build"
        in problems[0]
    )
    assert "--allow-remove first" in problems[0]
    assert _check(_book(items), [], items[:1], guard.Allow(remove=frozenset({"first"}))) == []
    assert _check(_book(items), [], items[:1], guard.Allow(remove=frozenset({items[1].guid}))) == []  # or by GUID


def test_a_changed_guid_is_caught():
    items = _items()
    changed = [items[0], replace(items[1], guid="new-guid")]
    problems = _problems(_check(_book(items), [], changed))
    assert problems == [
        "episode 'first' would change its GUID from 00000000-0000-4000-8000-000000000003 to new-guid: every app would download it again as new"
        " — restore the ledger from version control; to give it a new GUID on purpose, build with --allow-new-guid first"
    ]
    assert _check(_book(items), [], changed, guard.Allow(new_guid=frozenset({"first"}))) == []


def test_a_moved_enclosure_is_caught():
    items = _items()
    moved = [items[0], replace(items[1], media_path="audio/first.mp3")]
    problems = _problems(_check(_book(items), [], moved))
    assert len(problems) == 1
    assert (
        "would move its audio from https://pod.example.com/show/media/first.mp3 to https://pod.example.com/show/audio/first.mp3"
        in problems[0]
    )
    assert "--allow-move first" in problems[0]
    assert _check(_book(items), [], moved, guard.Allow(move=frozenset({"first"}))) == []


def test_a_moved_pubdate_is_caught_but_the_same_instant_is_not():
    items = _items()
    later = items[1].pub_date + timedelta(days=1)
    redated = [items[0], replace(items[1], pub_date=later)]
    problems = _problems(_check(_book(items), [], redated))
    assert len(problems) == 1
    assert (
        "would change its pubDate from Sun, 03 May 2026 08:30:00 +0000 to Mon, 04 May 2026 08:30:00 +0000"
        in problems[0]
    )
    assert "`date: 2026-05-03T08:30:00+00:00`" in problems[0] and "--allow-redate first" in problems[0]
    assert _check(_book(items), [], redated, guard.Allow(redate=frozenset({"first"}))) == []
    same_instant = [items[0], replace(items[1], pub_date=items[1].pub_date.astimezone(timezone(timedelta(hours=2))))]
    assert _check(_book(items), [], same_instant) == []


def test_a_duplicate_guid_is_caught_and_no_flag_allows_it():
    items = _items()
    twins = [items[0], replace(items[1], guid=items[0].guid)]
    allow_all = guard.Allow(*(frozenset({"first", "second"}),) * 4)
    for allow in (guard.Allow(), allow_all):
        problems = _problems(_check(ledger.Ledger(), [], twins, allow))
        assert (
            len(problems) == 1
            and "episodes 'second', 'first' share the GUID 00000000-0000-4000-8000-000000000002" in problems[0]
        )


def test_the_site_feed_catches_guids_when_the_ledger_is_lost(tmp_path):
    items = _items()
    site = _site_feed(tmp_path, items)
    reminted = [replace(i, guid=f"fresh-{n}") for n, i in enumerate(items)]
    problems = _problems(_check(ledger.Ledger(), site, reminted))
    assert len(problems) == 2
    assert (
        "episode 'second' was published with GUID 00000000-0000-4000-8000-000000000002 but would now be fresh-0"
        in problems[0]
    )
    assert "`panelpress import`" in problems[0]
    assert "--allow-new-guid" not in problems[0], "an episode in the public feed is never offered a new GUID"
    assert _check(ledger.Ledger(), site, reminted, guard.Allow(new_guid=frozenset({"first", "second"}))) == []


def test_the_site_feed_catches_a_vanished_episode_the_ledger_forgot(tmp_path):
    items = _items()
    site = _site_feed(tmp_path, items)
    problems = _problems(_check(ledger.Ledger(), site, items[:1]))
    assert len(problems) == 1
    assert (
        "the published episode 'First' (GUID 00000000-0000-4000-8000-000000000003) is in the published feed but not in this build"
        in problems[0]
    )
    assert "--allow-remove 00000000-0000-4000-8000-000000000003" in problems[0]
    assert _check(ledger.Ledger(), site, items[:1], guard.Allow(remove=frozenset({items[1].guid}))) == []


def test_the_site_feed_catches_moves_and_dates_too(tmp_path):
    items = _items()
    site = _site_feed(tmp_path, items)
    changed = [replace(items[0], media_path="x/second.mp3", pub_date=items[0].pub_date + timedelta(hours=1)), items[1]]
    problems = _problems(_check(ledger.Ledger(), site, changed))
    assert len(problems) == 2 and "--allow-move second" in problems[0] and "--allow-redate second" in problems[1]


def test_a_damaged_site_feed_is_reported(tmp_path):
    path = tmp_path / "feed.xml"
    path.write_text("<rss><channel><item>")
    with pytest.raises(guard.GuardError) as caught:
        guard.read_items(path)
    assert "cannot be read as a feed" in caught.value.problem


# --- through the real build -----------------------------------------------------------------


@pytest.fixture
def show(tmp_path, audio_dir) -> Path:
    episodes = {
        "one": ("stereo.wav", "title: One\ndate: 2026-03-01 10:00:00+00:00"),
        "two": ("mono.flac", "title: Two\ndate: 2026-03-08 10:00:00+00:00"),
    }
    folder = show_with(tmp_path / "show", audio_dir, episodes)
    assert main(["build", "--show", str(folder)]) == 0
    return folder


def _ledger(show: Path) -> dict:
    return json.loads((show / config_module.LEDGER_NAME).read_text())


def _refused(show: Path, capsys, *flags: str) -> str:
    """Build and expect a refusal that touched nothing; return the messages."""
    site, book = checksums(show / "public"), (show / config_module.LEDGER_NAME).read_text()
    capsys.readouterr()
    assert main(["build", "--show", str(show), *flags]) == 1
    out = capsys.readouterr()
    assert "Nothing was published" in out.out
    assert checksums(show / "public") == site and (show / config_module.LEDGER_NAME).read_text() == book
    return out.err


def test_redating_a_published_episode_needs_allow_redate(show, capsys):
    write_notes(show, "one", "title: One\ndate: 2026-03-02 10:00:00+00:00")
    err = _refused(show, capsys)
    assert (
        "refused:" in err
        and "'one' would change its pubDate from Sun, 01 Mar 2026 10:00:00 +0000 to Mon, 02 Mar 2026 10:00:00 +0000"
        in err
    )
    assert main(["build", "--show", str(show), "--allow-redate", "one"]) == 0
    dates = etree.parse(str(show / "public" / "feed.xml")).xpath("//item/pubDate/text()")
    assert "Mon, 02 Mar 2026 10:00:00 +0000" in dates
    assert _ledger(show)["episodes"]["one"]["first_published"] == "2026-03-02T10:00:00+00:00"
    assert main(["build", "--show", str(show)]) == 0  # the new date is now the published one


def test_moving_the_site_needs_allow_move(show, capsys):
    toml = show / config_module.CONFIG_NAME
    toml.write_text(toml.read_text().replace("https://pod.example.com/show/", "https://cdn.example.com/pod/"))
    err = _refused(show, capsys)
    assert (
        "'one' would move its audio from https://pod.example.com/show/media/one.mp3 to https://cdn.example.com/pod/media/one.mp3"
        in err
    )
    assert "--allow-move one" in err and "--allow-move two" in err
    assert main(["build", "--show", str(show), "--allow-move", "one"]) == 1  # one allowed is not both
    assert main(["build", "--show", str(show), "--allow-move", "one", "--allow-move", "two"]) == 0
    urls = etree.parse(str(show / "public" / "feed.xml")).xpath("//item/enclosure/@url")
    assert urls == ["https://cdn.example.com/pod/media/two.mp3", "https://cdn.example.com/pod/media/one.mp3"]
    assert main(["build", "--show", str(show)]) == 0


def test_media_url_for_a_published_show_moves_its_audio_only_with_allow_move_and_keeps_the_guids(show, capsys):
    before = _ledger(show)["episodes"]
    with (show / config_module.CONFIG_NAME).open("a") as toml:
        toml.write('\n[deploy]\nmedia_to = "s3://media/pod/"\nmedia_url = "https://media.example.net/pod/"\n')
    err = _refused(show, capsys)
    assert (
        "'one' would move its audio from https://pod.example.com/show/media/one.mp3 to https://media.example.net/pod/media/one.mp3: the audio's address changed ([show] site_url or [deploy] media_url)"
        in err
    )
    assert "--allow-move '*' (every episode)" in err and "the GUIDs stay" in err
    assert main(["build", "--show", str(show), "--allow-move", "*"]) == 0
    feed = feedparser.parse((show / "public" / "feed.xml").read_bytes())
    assert [e.enclosures[0].href for e in feed.entries] == [
        "https://media.example.net/pod/media/two.mp3",
        "https://media.example.net/pod/media/one.mp3",
    ]
    after = _ledger(show)["episodes"]
    assert {slug: e["guid"] for slug, e in after.items()} == {slug: e["guid"] for slug, e in before.items()}
    assert after["one"]["enclosure_url"] == "https://media.example.net/pod/media/one.mp3"
    page = (show / "public" / "episodes" / "one.html").read_text()
    assert 'src="https://media.example.net/pod/media/one.mp3"' in page  # the page's player too
    assert main(["build", "--show", str(show)]) == 0  # the new address is now the published one


def test_removing_a_published_episode_needs_allow_remove(show, capsys):
    guid_two = _ledger(show)["episodes"]["two"]["guid"]
    (show / "episodes" / "two.flac").unlink()
    err = _refused(show, capsys)
    assert f"episode 'two' (GUID {guid_two}) was published but is not in this build" in err
    assert main(["build", "--show", str(show), "--allow-remove", "two"]) == 0
    assert [e.title for e in feedparser.parse(show / "public" / "feed.xml").entries] == ["One"]
    assert "two" not in _ledger(show)["episodes"]
    assert not (show / "public" / "media" / "two.mp3").exists()
    assert main(["build", "--show", str(show)]) == 0


def test_a_draft_or_rescheduled_published_episode_is_caught(show, capsys):
    write_notes(show, "two", "title: Two\ndate: 2026-03-08 10:00:00+00:00\ndraft: true")
    assert "'two'" in _refused(show, capsys)


def test_a_duplicate_guid_in_the_ledger_stops_the_build(show, capsys):
    data = _ledger(show)
    data["episodes"]["two"]["guid"] = data["episodes"]["one"]["guid"]
    (show / config_module.LEDGER_NAME).write_text(json.dumps(data))
    err = _refused(show, capsys)
    assert "share the GUID" in err


def test_replacing_the_audio_keeps_the_guid_and_updates_length_and_duration(show, tmp_path):
    before = _ledger(show)["episodes"]["one"]
    make_audio(tmp_path / "longer.wav", seconds=7)
    shutil.copy(tmp_path / "longer.wav", show / "episodes" / "one.wav")
    assert main(["build", "--show", str(show)]) == 0
    after = _ledger(show)["episodes"]["one"]
    assert after["guid"] == before["guid"] and after["first_published"] == before["first_published"]
    assert after["length"] > before["length"] and after["sha256"] != before["sha256"]
    tree = etree.parse(str(show / "public" / "feed.xml"))
    item = tree.xpath("//item[title='One']")[0]
    assert item.findtext("guid") == before["guid"]
    assert (
        int(item.find("enclosure").get("length"))
        == (show / "public" / "media" / "one.mp3").stat().st_size
        == after["length"]
    )
    assert item.findtext("itunes:duration", namespaces=ITUNES) == "7"


def test_a_scheduled_episode_waits_for_its_date(show):
    make_audio(show / "episodes" / "three.wav", seconds=2)
    write_notes(show, "three", "title: Three\ndate: 2026-06-01 09:00:00+00:00")
    cfg = config_module.load(show)
    before = build(cfg, now=datetime(2026, 6, 1, 8, 59, tzinfo=UTC))
    assert ("three", "scheduled for 2026-06-01T09:00+00:00") in before.skipped
    assert [e.title for e in feedparser.parse(show / "public" / "feed.xml").entries] == ["Two", "One"]
    after = build(cfg, now=datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    assert after.ok and not after.skipped
    assert [e.title for e in feedparser.parse(show / "public" / "feed.xml").entries] == ["Three", "Two", "One"]


def _item_xml(show: Path, title: str) -> bytes:
    return etree.tostring(etree.parse(str(show / "public" / "feed.xml")).xpath(f"//item[title='{title}']")[0])


def test_a_published_episode_that_fails_stays_as_it_was_while_the_others_publish(show, capsys):
    site, entry, item = checksums(show / "public"), _ledger(show)["episodes"]["two"], _item_xml(show, "Two")
    (show / "show_notes" / "two.md").write_text("---\ntitle: [Two\n---\n")  # a typo in published notes
    make_audio(show / "episodes" / "three.wav", seconds=2)
    write_notes(show, "three", "title: Three\ndate: 2026-03-15 10:00:00+00:00")
    capsys.readouterr()
    assert main(["build", "--show", str(show)]) == 1  # the error is reported, the exit code says so
    out = capsys.readouterr()
    assert "two.md" in out.err and "kept: two failed in this build" in out.out
    assert [e.title for e in feedparser.parse(show / "public" / "feed.xml").entries] == ["Three", "Two", "One"]
    assert _item_xml(show, "Two") == item and _ledger(show)["episodes"]["two"] == entry
    now = checksums(show / "public")
    assert {rel: digest for rel, digest in now.items() if "two" in rel} == {
        rel: digest for rel, digest in site.items() if "two" in rel
    }
    assert "media/three.mp3" in now
    write_notes(show, "two", "title: Two\ndate: 2026-03-08 10:00:00+00:00")
    assert main(["build", "--show", str(show)]) == 0


def test_without_a_kept_version_a_failing_published_episode_stops_the_build(show, capsys):
    shutil.rmtree(config_module.load(show).cache_dir)  # a fresh cache: nothing to keep it with
    (show / "show_notes" / "two.md").write_text("---\ntitle: [Two\n---\n")
    err = _refused(show, capsys)
    assert "'two'" in err and "fix the episode's error above" in err


def test_a_failing_published_episode_can_be_withdrawn(show):
    (show / "show_notes" / "two.md").write_text("---\ntitle: [Two\n---\n")
    guid = _ledger(show)["episodes"]["two"]["guid"]
    assert main(["build", "--show", str(show), "--allow-remove", "two"]) == 1  # withdrawn, and its error still reported
    assert [e.title for e in feedparser.parse(show / "public" / "feed.xml").entries] == ["One"]
    assert not (show / "public" / "media" / "two.mp3").exists()
    state = cache.Store(config_module.load(show).cache_dir, _ledger(show)["podcast_guid"]).state()
    assert "two" not in state.published and guid not in {g for _, g in state.published.values()}  # nothing left to keep


def test_a_published_episode_whose_image_was_deleted_keeps_the_published_copy(show, capsys):
    (show / "show_notes" / "board.png").write_bytes(PNG_1PX)
    write_notes(show, "two", "title: Two\ndate: 2026-03-08 10:00:00+00:00", "![The board](board.png)")
    assert main(["build", "--show", str(show)]) == 0
    page = (show / "public" / "episodes" / "two.html").read_bytes()
    (show / "show_notes" / "board.png").unlink()  # the notes now name an image that is not there: an error
    make_audio(show / "episodes" / "three.wav", seconds=2)
    write_notes(show, "three", "title: Three\ndate: 2026-03-15 10:00:00+00:00")
    capsys.readouterr()
    assert main(["build", "--show", str(show)]) == 1
    out = capsys.readouterr()
    assert "board.png" in out.err and "kept: two" in out.out
    assert [e.title for e in feedparser.parse(show / "public" / "feed.xml").entries] == ["Three", "Two", "One"]
    assert (show / "public" / "episodes" / "two" / "board.png").read_bytes() == PNG_1PX
    assert (show / "public" / "episodes" / "two.html").read_bytes() == page


def test_a_failing_episode_whose_published_files_were_edited_by_hand_is_not_kept(show, capsys):
    (show / "show_notes" / "board.png").write_bytes(PNG_1PX)
    write_notes(show, "two", "title: Two\ndate: 2026-03-08 10:00:00+00:00", "![The board](board.png)")
    assert main(["build", "--show", str(show)]) == 0
    (show / "public" / "episodes" / "two" / "board.png").write_bytes(b"edited by hand")
    (show / "show_notes" / "two.md").write_text("---\ntitle: [Two\n---\n")
    err = _refused(show, capsys)  # keeping it would pass the edited file off as panelpress's own
    assert "'two'" in err
