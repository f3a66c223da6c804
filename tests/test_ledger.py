"""ledger: stable GUIDs, a byte-stable committed file, and the guard (guard.check) that protects subscribers."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline import namespace_rules
from pipeline.errors import GuardError, PanelpressError
from pipeline.records import Episode, Media, Notes, Published
from pipeline.show import guard, ledger
from tests.conftest import write_notes

SITE = "https://pod.example.com/show/"
GUID_A = "6f1c1f43-8c5e-4b0a-9b6e-2f6f1f0b8a11"
GUID_B = "0d5c2a9e-3c1b-4e7f-8a6d-5b4c3a2f1e00"


def entry(guid: str, slug: str, length: int = 1234, sha: str = "0" * 64) -> ledger.Entry:
    return ledger.Entry(
        guid=guid,
        first_published="2026-03-04T00:00:00+00:00",
        enclosure_url=f"{SITE}episodes/{slug}.mp3",
        length=length,
        sha256=sha,
    )


BOOK = ledger.Ledger(
    podcast_guid="917393e3-1b1e-5cef-ace4-edaa54e1f810",
    feed_hash="f" * 64,
    last_build="2026-03-05T10:00:00+00:00",
    episodes={"b-ep": entry(GUID_B, "b-ep"), "a-ep": entry(GUID_A, "a-ep")},
)


def published(tmp_path: Path, slug: str, guid: str, media_path: str | None = None, site_url: str = SITE) -> Published:
    """A Published record whose Media describes a real small file written here."""
    notes_path = write_notes(tmp_path, slug, f"title: {slug}\ndate: 2026-03-04")
    audio = tmp_path / "cache" / f"{slug}.mp3"
    audio.parent.mkdir(parents=True, exist_ok=True)
    audio.write_bytes(slug.encode() * 100)
    content = audio.read_bytes()
    media = Media(
        path=audio,
        filename=f"{slug}.mp3",
        mime="audio/mpeg",
        length=len(content),
        duration=3.0,
        sha256=hashlib.sha256(content).hexdigest(),
    )
    notes = Notes(path=notes_path, title=slug, date=datetime(2026, 3, 4, tzinfo=UTC))
    episode = Episode(slug=slug, recording=tmp_path / "episodes" / f"{slug}.wav", notes=notes)
    return Published(
        episode=episode,
        media=media,
        guid=guid,
        pub_date=notes.date,
        explicit=False,
        site_url=site_url,
        media_path=media_path or f"episodes/{slug}.mp3",
        page_path=f"{slug}/",
    )


# --- guid ----------------------------------------------------------------------------------


def test_guid_of_a_known_slug_is_stable():
    assert ledger.guid(BOOK, "a-ep") == GUID_A
    assert ledger.guid(BOOK, "a-ep") == GUID_A
    assert ledger.guid(BOOK, "b-ep") == GUID_B


def test_guid_of_a_new_slug_is_a_fresh_uuid4():
    first = ledger.guid(BOOK, "new-ep")
    second = ledger.guid(BOOK, "new-ep")
    assert uuid.UUID(first).version == 4
    assert str(uuid.UUID(first)) == first  # canonical lower-case form
    assert first != second  # nothing is stored until the ledger records it
    assert first not in (GUID_A, GUID_B)


def test_guid_of_empty_ledger():
    assert uuid.UUID(ledger.guid(ledger.Ledger(), "a-ep")).version == 4


# --- save / load ---------------------------------------------------------------------------


def test_missing_ledger_loads_empty(tmp_path: Path):
    assert ledger.load(tmp_path / "panelpress-ledger.json") == ledger.Ledger()


def test_round_trip(tmp_path: Path):
    path = tmp_path / "panelpress-ledger.json"
    ledger.save(path, BOOK)
    loaded = ledger.load(path)
    assert loaded == BOOK
    assert loaded.episodes["a-ep"] == entry(GUID_A, "a-ep")


def test_save_is_byte_stable(tmp_path: Path):
    path = tmp_path / "panelpress-ledger.json"
    ledger.save(path, BOOK)
    first = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    ledger.save(path, BOOK)
    assert path.read_bytes() == first
    assert path.stat().st_mtime_ns == mtime  # unchanged content is not rewritten
    ledger.save(path, ledger.load(path))
    assert path.read_bytes() == first


def test_save_does_not_depend_on_insertion_order(tmp_path: Path):
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    ledger.save(one, BOOK)
    ledger.save(
        two,
        ledger.Ledger(BOOK.podcast_guid, BOOK.feed_hash, BOOK.last_build, dict(reversed(list(BOOK.episodes.items())))),
    )
    assert one.read_bytes() == two.read_bytes()
    data = json.loads(one.read_text(encoding="utf-8"))
    assert list(data["episodes"]) == ["a-ep", "b-ep"]
    assert one.read_text(encoding="utf-8").endswith("}\n")


def test_save_keeps_non_ascii_readable(tmp_path: Path):
    path = tmp_path / "panelpress-ledger.json"
    book = ledger.Ledger(episodes={"café": entry(GUID_A, "café")})
    ledger.save(path, book)
    assert "café" in path.read_text(encoding="utf-8")
    assert ledger.load(path) == book


def test_save_leaves_no_temp_file(tmp_path: Path):
    ledger.save(tmp_path / "panelpress-ledger.json", BOOK)
    assert [p.name for p in tmp_path.iterdir()] == ["panelpress-ledger.json"]


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"",
        b"[]",
        b"null",
        b'{"episodes": []}',
        b'{"episodes": {"a-ep": {"guid": "x"}}}',
        b'{"episodes": {"a-ep": {"guid": "x", "first_published": "", "enclosure_url": "", "length": 1, "sha256": "", "extra": 1}}}',
        b'{"episodes": {"a-ep": "x"}}',
        b"\xff\xfe\x00garbage",
    ],
)
def test_damaged_ledger_names_the_file(tmp_path: Path, content: bytes):
    path = tmp_path / "panelpress-ledger.json"
    path.write_bytes(content)
    with pytest.raises(PanelpressError) as caught:
        ledger.load(path)
    err = caught.value
    assert err.path == path
    assert str(path) in str(err)
    assert "damaged" in err.problem
    assert "version control" in err.fix


# --- guard ---------------------------------------------------------------------------------


def test_guard_passes_when_nothing_changes(tmp_path: Path):
    items = [published(tmp_path, "a-ep", GUID_A), published(tmp_path, "b-ep", GUID_B)]
    assert guard.check(BOOK, [], [i.identity for i in items]) == []


def test_guard_allows_new_episodes(tmp_path: Path):
    items = [
        published(tmp_path, "a-ep", GUID_A),
        published(tmp_path, "b-ep", GUID_B),
        published(tmp_path, "c-ep", str(uuid.uuid4())),
    ]
    assert guard.check(BOOK, [], [i.identity for i in items]) == []


def test_guard_reports_a_vanished_episode(tmp_path: Path):
    problems = guard.check(BOOK, [], [i.identity for i in [published(tmp_path, "a-ep", GUID_A)]])
    assert len(problems) == 1
    problem = problems[0]
    assert isinstance(problem, GuardError) and isinstance(problem, PanelpressError)
    assert "'b-ep'" in problem.problem and GUID_B in problem.problem
    assert "not in this build" in problem.problem
    assert problem.fix


def test_guard_reports_a_changed_guid(tmp_path: Path):
    other = "1e0f6a2b-7c3d-4e5f-9a8b-7c6d5e4f3a21"
    item = published(tmp_path, "a-ep", other)
    problems = guard.check(BOOK, [], [i.identity for i in [item, published(tmp_path, "b-ep", GUID_B)]])
    assert len(problems) == 1
    problem = problems[0]
    assert isinstance(problem, GuardError)
    assert problem.path == item.episode.notes.path
    assert "'a-ep'" in problem.problem and GUID_A in problem.problem and other in problem.problem
    assert "ledger" in problem.fix


def test_guard_reports_a_changed_enclosure_url_from_a_new_site_url(tmp_path: Path):
    item = published(tmp_path, "a-ep", GUID_A, site_url="https://new.example.com/")
    problems = guard.check(BOOK, [], [i.identity for i in [item, published(tmp_path, "b-ep", GUID_B)]])
    assert len(problems) == 1
    problem = problems[0]
    assert isinstance(problem, GuardError)
    assert problem.path == item.episode.recording
    assert f"{SITE}episodes/a-ep.mp3" in problem.problem
    assert "https://new.example.com/episodes/a-ep.mp3" in problem.problem
    assert "site_url" in problem.fix


def test_guard_reports_a_changed_enclosure_file_name(tmp_path: Path):
    item = published(tmp_path, "a-ep", GUID_A, media_path="episodes/a-ep-remastered.mp3")
    problems = guard.check(BOOK, [], [i.identity for i in [item, published(tmp_path, "b-ep", GUID_B)]])
    assert [p.path for p in problems] == [item.episode.recording]
    assert "a-ep-remastered.mp3" in problems[0].problem


def test_guard_ignores_a_new_length_and_checksum(tmp_path: Path):
    # Re-mastering changes the bytes; subscribers only need the GUID and the URL to stay.
    item = published(tmp_path, "a-ep", GUID_A)
    assert item.media.length != BOOK.episodes["a-ep"].length
    assert guard.check(BOOK, [], [i.identity for i in [item, published(tmp_path, "b-ep", GUID_B)]]) == []


def test_guard_reports_every_problem_in_slug_order(tmp_path: Path):
    problems = guard.check(BOOK, [], [i.identity for i in [published(tmp_path, "b-ep", GUID_A)]])
    assert len(problems) == 2
    assert "'a-ep'" in problems[0].problem and "not in this build" in problems[0].problem
    assert "'b-ep'" in problems[1].problem and "GUID" in problems[1].problem


def test_record_then_guard_round_trip(tmp_path: Path):
    items = [published(tmp_path, "a-ep", GUID_A), published(tmp_path, "new-ep", GUID_B)]
    book = ledger.record(
        ledger.Ledger(), items, "h" * 64, "2026-03-05T00:00:00+00:00", namespace_rules.podcast_guid(SITE + "feed.xml")
    )
    assert book.episodes["new-ep"].length == items[1].media.length
    assert book.episodes["new-ep"].sha256 == items[1].media.sha256
    assert book.episodes["new-ep"].enclosure_url == SITE + "episodes/new-ep.mp3"
    assert guard.check(book, [], [i.identity for i in items]) == []
    path = tmp_path / "panelpress-ledger.json"
    ledger.save(path, book)
    assert ledger.load(path) == book


def test_record_keeps_the_first_publish_date(tmp_path: Path):
    item = published(tmp_path, "a-ep", GUID_A)
    book = ledger.record(BOOK, [item], "h" * 64, "2027-01-01T00:00:00+00:00", "ignored")
    assert book.episodes["a-ep"].first_published == BOOK.episodes["a-ep"].first_published
    assert book.podcast_guid == BOOK.podcast_guid  # never replaced once set


# --- podcast:guid --------------------------------------------------------------------------


def test_podcast_guid_is_uuid5_of_the_bare_feed_url():
    expected = str(uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), "example.com/feed.xml"))
    assert namespace_rules.podcast_guid("https://example.com/feed.xml") == expected
    assert uuid.UUID(expected).version == 5


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/feed.xml/",
        "http://example.com/feed.xml",
        "https://example.com/feed.xml//",
        "example.com/feed.xml",
    ],
)
def test_podcast_guid_strips_scheme_and_trailing_slash(url: str):
    assert namespace_rules.podcast_guid(url) == namespace_rules.podcast_guid("https://example.com/feed.xml")


def test_podcast_guid_matches_the_podcast_namespace_example():
    # The example given by the Podcasting 2.0 namespace for <podcast:guid>.
    assert (
        namespace_rules.podcast_guid("https://mp3s.nashownotes.com/pc20rss.xml")
        == "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    )


def test_podcast_guid_differs_per_feed():
    assert namespace_rules.podcast_guid("https://example.com/a.xml") != namespace_rules.podcast_guid(
        "https://example.com/b.xml"
    )


def test_the_ledger_is_laid_out_as_indented_json(tmp_path):
    """The committed ledger is written without json's slow indenting encoder, and reads as if it were written by
    it: two-space indents, keys in a stable order, text as it is (not \\u escapes), the clean feed and a pending
    publish included."""
    book = replace(
        BOOK,
        episodes={**BOOK.episodes, "ç-ep": entry(GUID_A, 'ç "quoted"', length=0)},
        clean=ledger.Feed("c" * 8, "d" * 64, "2026-03-05T10:00:00+00:00", {"a-ep": entry(GUID_B, "a-ep-clean")}),
        pending=ledger.Pending("e" * 64, ("ç-ep",), (GUID_B,)),
    )
    path = tmp_path / "ledger.json"
    ledger.save(path, book)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["episodes"]["ç-ep"]["enclosure_url"].endswith('ç "quoted".mp3')
    assert path.read_text(encoding="utf-8") == json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    assert list(data["episodes"]) == sorted(data["episodes"])
    assert ledger.load(path) == book
