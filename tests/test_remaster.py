"""`panelpress remaster`: every episode's audio produced again through the build's own engine and guard; GUIDs,
addresses and dates stay as published, and the host is told what changed per episode."""

from __future__ import annotations

import os
import re
import sys

import feedparser

from pipeline import config as config_module
from pipeline import layout
from pipeline.build import build as run_build
from pipeline.cli import main
from tests.conftest import SPEECH, make_audio, write_notes, write_show

_started: list[list[str]] = []
sys.addaudithook(
    lambda event, args: (
        [seen.append(os.fsdecode(args[0])) for seen in _started] if event == "subprocess.Popen" else None
    )
)


def _items(show):
    """What apps hold of each episode: GUID → (enclosure URL, length, pubDate)."""
    feed = feedparser.parse((show / "public" / layout.FEED_FILE).read_bytes())
    return {e.id: (e.enclosures[0].href, int(e.enclosures[0].length), e.published) for e in feed.entries}


def _show(tmp_path):
    show = write_show(tmp_path / "show", normalize=True)
    for number, slug in enumerate(("first", "second"), start=1):
        make_audio(
            show / "episodes" / f"{slug}.wav", seconds=5, source=SPEECH.format(seed=number), volume_db=-4 * number
        )
        write_notes(show, slug, f"title: {slug.title()}\ndate: 2026-01-0{number}")
    assert main(["build", "--show", str(show)]) == 0
    return show


def test_a_remaster_after_a_loudness_change_republishes_every_episode_with_the_same_guids(tmp_path, capsys):
    show = _show(tmp_path)
    before = _items(show)
    toml = show / config_module.CONFIG_NAME
    toml.write_text(toml.read_text().replace("[audio]\n", "[audio]\nloudness = -19.0\n"))
    result = run_build(config_module.load(show), remaster=True)
    assert result.ok and len(result.published) == 2
    after = _items(show)
    assert set(after) == set(before), "the same GUIDs"
    for guid, (url, _length, published) in before.items():
        assert after[guid][0] == url and after[guid][2] == published, "the same addresses and dates"
        media = show / "public" / "media" / url.rsplit("/", 1)[-1]
        assert after[guid][1] == media.stat().st_size, "the length of the file as published (CBR: often the same)"
    for entry in result.remastered:  # what it was and what it is, as the host is told
        assert abs(entry.before.output_i + 16) <= 0.3 and abs(entry.after.output_i + 19) <= 0.3
        assert entry.before.input_i == entry.after.input_i and entry.before.sha256 != entry.after.sha256
    result = run_build(config_module.load(show))
    assert result.published == () and result.report is None, "and the next build has nothing to do"


def test_a_remaster_makes_the_audio_again_even_when_nothing_changed(tmp_path, capsys):
    show = _show(tmp_path)
    feed = (show / "public" / layout.FEED_FILE).read_bytes()
    seen: list[str] = []
    _started.append(seen)
    try:
        result = run_build(config_module.load(show), remaster=True)
    finally:
        _started.remove(seen)
    assert any("ffmpeg" in program for program in seen), "mastered again, not taken from the cache"
    assert {entry.slug for entry in result.remastered} == {"first", "second"}
    assert all(entry.before == entry.after for entry in result.remastered), "ffmpeg is deterministic: the same bytes"
    assert result.report is None and (show / "public" / layout.FEED_FILE).read_bytes() == feed, "nothing to publish"
    capsys.readouterr()
    assert main(["remaster", "--show", str(show)]) == 0
    out = capsys.readouterr().out
    assert "2 episodes remastered: 0 with new audio, 2 the same to the byte." in out
    row = next(
        line for line in out.split("remastered: as published")[1].splitlines() if line.startswith("│ first")
    )  # loudness, bytes and duration, each "= now"
    assert re.search(r"= -\d+\.\d .*= \d{2,3},\d{3} .*= 0:05", row), row
