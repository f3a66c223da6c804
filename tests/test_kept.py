"""Kept: the last published version of each episode, written as JSON and read back exactly, or not at all."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline import kept
from pipeline.records import Attachment, Chapter, LoudnessReport

from .records import published

SHOW = "917393e3-1b1e-5cef-ace4-edaa54e1f810"


def _item(guid: str = "00000000-0000-4000-8000-000000000001"):
    item = published("one", "One & “two” 🎙", 1, chapters=(Chapter(0.0, "Hello", url="https://example.com/", line=7),), files=("photo.png",))
    episode = replace(item.episode, chapters=(Chapter(12.5, "Later"),))
    files = (
        Attachment("episodes/one.vtt", "text/vtt", b"WEBVTT\n\n\x00\xff", rel="captions", language="en"),
        Attachment("episodes/one/photo.png", "image/png", Path("/show/show_notes/photo.png"), source="photo.png"),
    )
    report = LoudnessReport(-24.2, float("-inf"), 11.6, -16.05, -2.63, 8.57, 11.05, "ebur128-sim-limit-v1", 3)
    return replace(item, guid=guid, episode=episode, attachments=files, report=report, chapters=(Chapter(1.0, "A"),), image="episodes/one.png")


@pytest.mark.parametrize("guid", ["00000000-0000-4000-8000-000000000001", "https://old.example.com/?p=2", "tag:soundcloud,2010:tracks/1", "../../escaped"])
def test_a_kept_episode_reads_back_exactly_whatever_its_guid(tmp_path: Path, guid: str):
    item = _item(guid)
    kept.save(tmp_path, SHOW, [item], {guid})
    assert kept.load(tmp_path, SHOW, guid) == item
    assert [p.parent.parent.name for p in tmp_path.rglob("*.json")] == ["published"]  # inside the cache, whatever the GUID


def test_episodes_no_longer_in_the_feed_are_forgotten_and_other_shows_are_not_touched(tmp_path: Path):
    one, two = _item("guid-1"), _item("guid-2")
    kept.save(tmp_path, SHOW, [one, two], {"guid-1", "guid-2"})
    kept.save(tmp_path, "another show", [one], {"guid-1"})
    kept.save(tmp_path, SHOW, [], {"guid-2"})
    assert kept.load(tmp_path, SHOW, "guid-1") is None and kept.load(tmp_path, SHOW, "guid-2") == two
    assert kept.load(tmp_path, "another show", "guid-1") == one


def test_a_damaged_or_foreign_record_is_not_trusted(tmp_path: Path):
    kept.save(tmp_path, SHOW, [_item("guid-1")], {"guid-1"})
    (path,) = tmp_path.rglob("*.json")
    data = json.loads(path.read_text())
    for broken in (
        {**data, "format": "another version of records.py"},
        {**data, "item": {"record": "Path", "fields": {}}},  # only the records of records.py are ever built
        {**data, "item": {**data["item"], "fields": {**data["item"]["fields"], "guid": "guid-2"}}},  # not the episode asked for
    ):
        path.write_text(json.dumps(broken))
        assert kept.load(tmp_path, SHOW, "guid-1") is None
    path.write_text("{not json")
    assert kept.load(tmp_path, SHOW, "guid-1") is None
