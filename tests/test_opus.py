"""The Opus edition (`[audio] opus = true`): encoded from the mastered file, loudness-checked on its decoded output,
tagged, published beside the MP3 as a podcast:alternateEnclosure with its integrity hash, and cached."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess

from lxml import etree
from mutagen.oggopus import OggOpus
from PIL import Image

from pipeline.audio.ffmpeg import ffmpeg
from pipeline.cli import main
from pipeline.show.podcastindex import PODCAST_NS
from tests.conftest import SPEECH, make_audio, write_notes, write_show

P = f"{{{PODCAST_NS}}}"
SITE = "https://pod.example.com/show/"


def _loudness(path) -> tuple[float, float]:
    """Integrated loudness and true peak of a file as ffmpeg's EBU R128 meter reads it decoded (independently of panelpress)."""
    log = subprocess.run(
        [ffmpeg(), "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    summary = log[log.rindex("Summary:") :]
    return float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1)), float(
        re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1)
    )


def test_the_opus_edition_is_published_beside_the_mp3(tmp_path, capsys):
    show = write_show(tmp_path / "show", normalize=True, extra_show='artwork = "cover.jpg"', extra_audio="opus = true")
    Image.new("RGB", (1400, 1400), (200, 60, 40)).save(show / "cover.jpg")
    make_audio(show / "episodes" / "panel.wav", seconds=12, channels=1, source=SPEECH.format(seed=5))
    write_notes(
        show, "panel", "title: The panel\ndate: 2026-03-02\nchapters:\n  - 0:00 Hello\n  - 0:04 Middle\n  - 0:08 End"
    )
    assert main(["build", "--show", str(show)]) == 0
    assert "Opus" in capsys.readouterr().out  # its loudness is reported with the MP3's (a row of the table)

    site = show / "public"
    opus, mp3 = site / "media" / "panel.opus", site / "media" / "panel.mp3"
    item = etree.parse(str(site / "feed.xml")).find("channel/item")
    editions = item.findall(f"{P}alternateEnclosure")
    assert [e.get("type") for e in editions] == ["audio/mpeg", "audio/ogg"]
    default, alternate = editions
    assert default.get("default") == "true" and default.find(f"{P}source").get("uri") == item.find("enclosure").get(
        "url"
    )
    assert (
        alternate.get("default") is None
        and alternate.get("codecs") == "opus"
        and alternate.get("title") == "Opus 48 kbps"
    )
    assert alternate.find(f"{P}source").get("uri") == SITE + "media/panel.opus"
    assert int(alternate.get("length")) == opus.stat().st_size
    info = OggOpus(opus)
    assert abs(int(alternate.get("bitrate")) - opus.stat().st_size * 8 / info.info.length) < 100
    for edition, file in ((default, mp3), (alternate, opus)):  # Subresource Integrity of what is published
        integrity = edition.find(f"{P}integrity")
        assert integrity.get("type") == "sri"
        assert (
            integrity.get("value") == "sha256-" + base64.b64encode(hashlib.sha256(file.read_bytes()).digest()).decode()
        )

    # mono stays mono; tagged like the MP3 (title, chapters, cover)
    assert info.info.channels == 1 and abs(info.info.length - 12) < 0.1
    assert (
        info.tags["TITLE"] == ["The panel"]
        and info.tags["CHAPTER002NAME"] == ["Middle"]
        and info.tags["CHAPTER003"] == ["00:00:08.000"]
    )
    assert "METADATA_BLOCK_PICTURE" in info.tags
    # what listeners hear: on the show's target, under its ceiling
    integrated, peak = _loudness(opus)
    assert abs(integrated - -16.0) <= 0.5 and peak <= -1.0

    capsys.readouterr()
    assert main(["check", "--show", str(show)]) == 0, capsys.readouterr().out

    masters = sorted((show / ".panelpress-cache" / "master").glob("*.mp3"))
    made = opus.stat().st_mtime_ns
    assert main(["build", "--show", str(show)]) == 0
    assert opus.stat().st_mtime_ns == made  # nothing to do: nothing written

    toml = show / "panelpress.toml"
    toml.write_text(toml.read_text().replace("opus = true", "opus = false"))
    assert main(["build", "--show", str(show)]) == 0
    assert not opus.exists() and etree.parse(str(site / "feed.xml")).find(f"channel/item/{P}alternateEnclosure") is None
    assert sorted((show / ".panelpress-cache" / "master").glob("*.mp3")) == masters  # the MP3 was not mastered again


def test_a_damaged_opus_file_in_the_site_is_a_problem_of_check(tmp_path, capsys):
    show = write_show(tmp_path / "show", extra_audio="opus = true\nopus_bitrate = 24")
    make_audio(show / "episodes" / "panel.wav", seconds=3)
    write_notes(show, "panel", "title: The panel\ndate: 2026-03-02")
    assert main(["build", "--show", str(show)]) == 0
    assert 'title="Opus 24 kbps"' in (show / "public" / "feed.xml").read_text()
    opus = show / "public" / "media" / "panel.opus"
    data = bytearray(opus.read_bytes())
    data[-1] ^= 0xFF  # same length, other bytes
    opus.write_bytes(bytes(data))
    capsys.readouterr()
    assert main(["check", "--show", str(show)]) == 1
    out = capsys.readouterr().out
    assert (
        "item 1 ('The panel'): alternate enclosure 2 (Opus 24 kbps): its integrity hash does not match public/media/panel.opus"
        in out
    )
