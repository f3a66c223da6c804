"""Every element of the feed by value: Apple's channel and item tags, Podcasting 2.0, sanitized notes."""

from __future__ import annotations

import io
import shutil
from dataclasses import replace
from datetime import UTC, datetime

import feedparser
import lxml.html
import podcastparser
import pytest
from lxml import etree

from pipeline import config as config_module
from pipeline import namespace_rules
from pipeline.cli import main
from pipeline.records import Attachment, Panelist
from pipeline.show import feed
from pipeline.show.podcastindex import PODCAST_NS
from tests.conftest import PNG_1PX, write_notes, write_show
from tests.records import SITE, published, show_config

NS = {
    "itunes": feed.ITUNES_NS,
    "podcast": PODCAST_NS,
    "content": "http://purl.org/rss/1.0/modules/content/",
    "atom": "http://www.w3.org/2005/Atom",
}
BUILD = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)


def _full_config(**show):
    cfg = show_config(
        copyright="© 2026 Test",
        type="serial",
        explicit=True,
        new_feed_url="https://new.example.com/feed.xml",
        block=True,
        complete=True,
        **show,
    )
    podcast = config_module.PodcastSettings(
        locked=True, funding_url="https://example.com/support", funding_text="Support us & <the> show", medium="podcast"
    )
    return replace(cfg, podcast=podcast)


def _rich_item():
    item = published(
        "rich",
        "Rich & <full>",
        14,
        explicit=False,
        season=2,
        episode=7,
        episode_type="bonus",
        summary="A plain summary: 1 < 2 & 3 > 2.",
        body="# Heading\n\nText *em* **strong** [rel](../notes.html) ![cover](pic.png)\n\n- one\n- two\n\n1. first\n\n> quote\n\n`code`\n\n<script>alert(1)</script> [js](javascript:alert(1))",
    )
    notes = replace(
        item.episode.notes,
        panelists=(
            Panelist("Ann Host", role="host", img="people/ann.jpg", href="https://ann.example.com/"),
            Panelist("Mo Moderator", role="moderator"),
            Panelist("Bo Guest"),
        ),
    )
    attachments = (
        Attachment("episodes/rich.vtt", "text/vtt", b"WEBVTT\n", rel="captions", language="en"),
        Attachment("episodes/rich.srt", "application/x-subrip", b""),
        Attachment("episodes/rich.json", "application/json", b"{}"),
        Attachment("episodes/rich.chapters.json", "application/json+chapters", b"{}"),
    )
    return replace(item, episode=replace(item.episode, notes=notes), attachments=attachments, image="episodes/rich.jpg")


def _render(cfg=None, items=None, guid=""):
    return feed.render(cfg or _full_config(), items or [_rich_item()], BUILD, "artwork.jpg", guid)


def test_channel_elements_by_value():
    xml = _render()
    channel = etree.fromstring(xml).find("channel")
    assert channel.findtext("title") == "Test Panel"
    assert channel.findtext("link") == SITE
    assert channel.findtext("description") == "A panel made by the tests."
    assert channel.findtext("language") == "en"
    assert channel.findtext("copyright") == "© 2026 Test"
    assert channel.findtext("generator") == "panelpress 0.1.0"
    assert channel.findtext("lastBuildDate") == "Wed, 20 May 2026 12:00:00 +0000"
    assert channel.find("atom:link", NS).attrib == {
        "href": SITE + "feed.xml",
        "rel": "self",
        "type": "application/rss+xml",
    }
    assert channel.findtext("itunes:author", namespaces=NS) == "Test Author"
    assert channel.findtext("itunes:owner/itunes:name", namespaces=NS) == "Test Author"
    assert channel.findtext("itunes:owner/itunes:email", namespaces=NS) == "owner@example.com"
    assert channel.find("itunes:image", NS).get("href") == SITE + "artwork.jpg"
    assert channel.find("itunes:category", NS).get("text") == "Business"
    assert channel.find("itunes:category/itunes:category", NS).get("text") == "Management"
    assert channel.findtext("itunes:explicit", namespaces=NS) == "true"
    assert channel.findtext("itunes:type", namespaces=NS) == "serial"
    assert channel.findtext("itunes:new-feed-url", namespaces=NS) == "https://new.example.com/feed.xml"
    assert channel.findtext("itunes:block", namespaces=NS) == "Yes"
    assert channel.findtext("itunes:complete", namespaces=NS) == "Yes"
    assert channel.findtext("podcast:guid", namespaces=NS) == namespace_rules.podcast_guid(SITE + "feed.xml")
    assert channel.find("podcast:locked", NS).attrib == {"owner": "owner@example.com"}
    assert channel.findtext("podcast:locked", namespaces=NS) == "yes"
    assert channel.find("podcast:funding", NS).get("url") == "https://example.com/support"
    assert channel.findtext("podcast:funding", namespaces=NS) == "Support us & <the> show"
    assert channel.findtext("podcast:medium", namespaces=NS) == "podcast"


def test_channel_optional_elements_are_left_out_when_not_set():
    channel = etree.fromstring(feed.render(show_config(), [_rich_item()], BUILD, None)).find("channel")
    for name in ("itunes:new-feed-url", "itunes:block", "itunes:complete", "podcast:funding", "itunes:image"):
        assert channel.find(name, NS) is None, name
    assert channel.find("copyright") is None
    assert channel.findtext("itunes:explicit", namespaces=NS) == "false"  # not set at show level: Apple needs a value
    assert channel.findtext("podcast:locked", namespaces=NS) == "no"


def test_podcast_guid_is_the_uuid5_of_the_feed_url_and_an_imported_one_wins():
    # the Podcasting 2.0 spec's own examples
    assert namespace_rules.podcast_guid("https://podnews.net/rss") == "9b024349-ccf0-5f69-a609-6b82873eab3c"
    assert (
        namespace_rules.podcast_guid("http://mp3s.nashownotes.com/pc20rss.xml/")
        == "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    )
    kept = "11111111-2222-5333-8444-555555555555"
    channel = etree.fromstring(_render(guid=kept)).find("channel")
    assert channel.findtext("podcast:guid", namespaces=NS) == kept


def test_item_elements_by_value():
    item = etree.fromstring(_render()).find("channel/item")
    assert item.findtext("title") == "Rich & <full>"
    assert item.findtext("itunes:title", namespaces=NS) == "Rich & <full>"
    assert item.find("guid").attrib == {"isPermaLink": "false"}
    assert item.findtext("guid") == "00000000-0000-4000-8000-000000000004"
    assert item.findtext("pubDate") == "Thu, 14 May 2026 08:30:00 +0000"
    assert item.find("enclosure").attrib == {"url": SITE + "media/rich.mp3", "length": "12345", "type": "audio/mpeg"}
    assert item.findtext("itunes:duration", namespaces=NS) == "1801"
    assert item.findtext("itunes:explicit", namespaces=NS) == "false"
    assert item.findtext("itunes:episodeType", namespaces=NS) == "bonus"
    assert item.findtext("itunes:season", namespaces=NS) == "2"
    assert item.findtext("itunes:episode", namespaces=NS) == "7"
    assert item.find("itunes:image", NS).get("href") == SITE + "episodes/rich.jpg"
    assert item.findtext("description") == "A plain summary: 1 < 2 & 3 > 2."
    assert item.findtext("link") == SITE + "episodes/rich.html"
    assert item.findtext("podcast:season", namespaces=NS) == "2"
    assert item.findtext("podcast:episode", namespaces=NS) == "7"


def test_every_panelist_is_a_podcast_person_with_a_taxonomy_role():
    item = etree.fromstring(_render()).find("channel/item")
    people = [(p.text, dict(p.attrib)) for p in item.findall("podcast:person", NS)]
    assert people == [
        (
            "Ann Host",
            {"role": "host", "group": "cast", "img": SITE + "people/ann.jpg", "href": "https://ann.example.com/"},
        ),
        ("Mo Moderator", {"role": "host", "group": "cast"}),  # the taxonomy has no moderator: the host leads the panel
        ("Bo Guest", {"role": "guest", "group": "cast"}),
    ]


def test_transcripts_and_chapters_come_from_the_attachments():
    item = etree.fromstring(_render()).find("channel/item")
    transcripts = [dict(t.attrib) for t in item.findall("podcast:transcript", NS)]
    assert transcripts == [
        {"url": SITE + "episodes/rich.vtt", "type": "text/vtt", "language": "en", "rel": "captions"},
        {"url": SITE + "episodes/rich.srt", "type": "application/x-subrip"},
        {"url": SITE + "episodes/rich.json", "type": "application/json"},
    ]
    assert dict(item.find("podcast:chapters", NS).attrib) == {
        "url": SITE + "episodes/rich.chapters.json",
        "type": "application/json+chapters",
    }
    bare = etree.fromstring(_render(items=[published("bare", "Bare", 2)])).find("channel/item")
    assert (
        bare.find("podcast:transcript", NS) is None
        and bare.find("podcast:chapters", NS) is None
        and bare.find("itunes:image", NS) is None
    )


def test_notes_html_is_sanitized_to_what_podcast_apps_render():
    encoded = etree.fromstring(_render()).find("channel/item").findtext("content:encoded", namespaces=NS)
    fragment = lxml.html.fragment_fromstring(encoded, create_parent="div")
    tags = {element.tag for element in fragment.iter()} - {"div"}
    assert tags <= feed.FEED_TAGS
    assert {"p", "strong", "em", "a", "ul", "ol", "li", "blockquote", "code"} <= tags
    hrefs = [a.get("href") for a in fragment.iter("a")]
    assert hrefs == [
        SITE + "notes.html",
        SITE + "episodes/pic.png",
    ]  # relative links made absolute; the image became a link
    assert all(set(a.attrib) == {"href"} for a in fragment.iter("a"))
    assert "<p><strong>Heading</strong></p>" in encoded  # headings: a bold paragraph
    assert "<script>" not in encoded and "javascript:" not in encoded.split("[js]")[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in encoded  # raw HTML in notes is text, never markup


def test_both_podcast_clients_read_the_full_feed():
    xml = _render()
    parsed = feedparser.parse(xml)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.podcast_guid == namespace_rules.podcast_guid(SITE + "feed.xml")
    assert parsed.feed.podcast_medium == "podcast"
    entry = parsed.entries[0]
    assert entry.id == "00000000-0000-4000-8000-000000000004"
    assert entry.itunes_title == "Rich & <full>"
    assert (entry.podcast_season, entry.podcast_episode) == ("2", "7")
    assert entry.content[0].value.startswith("<p><strong>Heading</strong></p>")
    gpodder = podcastparser.parse(SITE + "feed.xml", io.BytesIO(xml))
    assert gpodder["new_url"] == "https://new.example.com/feed.xml"
    assert gpodder["type"] == "serial"
    assert gpodder["explicit"] is True
    assert gpodder["itunes_owner"] == {"name": "Test Author", "email": "owner@example.com"}
    assert gpodder["itunes_categories"] == [["Business", "Management"]]
    episode = gpodder["episodes"][0]
    assert episode["guid"] == entry.id
    assert episode["explicit"] is False
    assert (episode["season"], episode["number"], episode["type"]) == (2, 7, "bonus")
    assert episode["episode_art_url"] == SITE + "episodes/rich.jpg"
    assert episode["enclosures"] == [{"url": SITE + "media/rich.mp3", "file_size": 12345, "mime_type": "audio/mpeg"}]
    assert episode["description"] == "A plain summary: 1 < 2 & 3 > 2."
    assert episode["description_html"] == entry.content[0].value
    assert episode["published"] == int(datetime(2026, 5, 14, 8, 30, tzinfo=UTC).timestamp())


def test_episode_art_from_the_notes_is_published_and_linked(tmp_path, audio_dir, capsys):
    show = write_show(tmp_path / "show")
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / "art.wav")
    shutil.copy(audio_dir / "mono.flac", show / "episodes" / "no-art.flac")
    (show / "show_notes" / "art-cover.png").write_bytes(PNG_1PX)
    write_notes(show, "art", "title: With art\ndate: 2026-04-01\nimage: art-cover.png")  # found in show_notes/
    write_notes(show, "no-art", "title: Without\ndate: 2026-04-02\nimage: covers/missing.jpg")
    assert main(["build", "--show", str(show)]) == 1
    assert "no-art.md: image 'covers/missing.jpg' does not exist" in capsys.readouterr().err
    items = etree.parse(str(show / "public" / "feed.xml")).findall("channel/item")
    assert [i.findtext("title") for i in items] == ["With art"]
    assert items[0].find("itunes:image", NS).get("href") == "https://pod.example.com/show/episodes/art.png"
    assert (show / "public" / "episodes" / "art.png").read_bytes() == PNG_1PX


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            'description = "' + "é" * 2001 + '"',
            "[show] description is 4002 bytes, more than the 4000 Apple Podcasts accepts",
        ),
        ('new_feed_url = "feed.xml"', "[show] new_feed_url = 'feed.xml' is not allowed"),
        ("block = 1", "[show] block = 1 is not true or false"),
        ('[podcast]\nmedium = "radio"', "[podcast] medium = 'radio' is not allowed"),
        (
            '[podcast]\nfunding_url = "https://example.com/give"',
            "[podcast] funding_url is set but funding_text is empty",
        ),
        ('[podcast]\nfunding_text = "Give"', "[podcast] funding_text is set but funding_url is empty"),
        ('[podcast]\nlocked = "yes"', "[podcast] locked = 'yes' is not true or false"),
    ],
)
def test_feed_settings_are_validated(tmp_path, extra, expected):
    folder = write_show(tmp_path / "s")
    toml = folder / config_module.CONFIG_NAME
    text = toml.read_text()
    if extra.startswith("description"):
        text = text.replace('description = "A panel made by the tests."', extra)
    elif extra.startswith("[podcast]"):
        text += "\n" + extra + "\n"
    else:
        text = text.replace("explicit = false\n", f"explicit = false\n{extra}\n")
    toml.write_text(text)
    with pytest.raises(config_module.ConfigError) as caught:
        config_module.load(folder)
    assert caught.value.problem == expected or caught.value.problem.startswith(expected)
    assert caught.value.fix
