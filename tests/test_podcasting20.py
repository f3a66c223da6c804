"""The Podcasting 2.0 elements apps read today: each parsed back with lxml against the namespace's rules (and what
the Podcast Index parser, partytime, requires to read it), the whole feed with feedparser and podcastparser, and the
settings and notes keys they come from, validated with the file, the problem and the fix."""

from __future__ import annotations

import io
import re
import shutil
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import podcastparser
import pytest
from lxml import etree

from pipeline import config as config_module
from pipeline import namespace_rules as rules
from pipeline.cli import main
from pipeline.episode.notes import read as read_notes
from pipeline.errors import ConfigError, NotesError
from pipeline.records import Alternate, Chapter, Location, RemoteItem, Social, Soundbite
from pipeline.show import feed
from pipeline.show.podcastindex import PODCAST_NS
from tests.conftest import write_notes, write_show
from tests.golden import assert_golden
from tests.records import SITE, published, show_config

NS = {
    "itunes": feed.ITUNES_NS,
    "podcast": PODCAST_NS,
    "atom": feed.ATOM_NS,
    "content": "http://purl.org/rss/1.0/modules/content/",
}
BUILD = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
HUB = "https://pubsubhubbub.appspot.com/"
SIZES = (("artwork.jpg", 3000), ("artwork-600.jpg", 600), ("artwork-300.jpg", 300), ("artwork-150.jpg", 150))


def _config(**podcast):
    values = {
        "txt": (("applepodcastsverify", "05124"), ("verify", "S6lpp-7ZCn8-dZfGc-OoyaG")),
        "podroll": (
            RemoteItem(
                "917393e3-1b1e-5cef-ace4-edaa54e1f810", "https://feeds.podcastindex.org/pc20.xml", "Podcasting 2.0"
            ),
            RemoteItem("29cdca4a-32d8-56ba-b48b-09a011c5daa9"),
        ),
        "license": "CC-BY-4.0",
        "location": Location("Austin, TX", geo="geo:30.2672,-97.7431", osm="R113314", country="us", rel="creator"),
        "update_frequency": "biweekly",
        **podcast,
    }
    cfg = show_config(complete=True)
    return replace(
        cfg, podcast=config_module.PodcastSettings(**values), notify=config_module.NotifySettings(hubs=(HUB,))
    )


def _items():
    chapters = (Chapter(0, "Welcome"), Chapter(250, "Management & <work>"), Chapter(750, "Questions"))
    rich = published("rich", "Rich", 14, season=2, episode=7, body="The notes.")
    notes = replace(
        rich.episode.notes,
        comments=Social(
            "https://mastodon.social/@dana/111", "activitypub", "@dana@mastodon.social", "https://mastodon.social/@dana"
        ),
        location=Location("Berlin"),
    )
    opus = Alternate(
        "media/rich.opus", "audio/ogg", 9_000_000, 40_000, "Opus 48 kbps", "ab" * 32, codecs="opus", duration=1801.4
    )
    bites = (Soundbite(73.0, 60.0, "Why panels work"), Soundbite(1234.5, 42.25))
    rich = replace(
        rich, episode=replace(rich.episode, notes=notes), chapters=chapters, alternates=(opus,), soundbites=bites
    )
    trailer = published("coming-soon", "Coming soon", 1, episode_type="trailer", season=2)
    plain = published("plain", "Plain", 7, body="")
    return [rich, plain, trailer]


def _render(cfg=None, items=None) -> bytes:
    return feed.render(cfg or _config(), items or _items(), BUILD, "artwork.jpg", artwork_sizes=SIZES)


def _tree(xml: bytes | None = None):
    return etree.fromstring(xml or _render())


def test_the_podcasting20_feed_matches_its_golden_file():
    assert_golden("feed-podcasting20.xml", _render())


# --- the namespace's rules, element by element, as lxml reads them ------------------------------------------------


def test_txt_holds_the_verification_code_with_its_purpose():
    channel = _tree().find("channel")
    found = [(t.get("purpose"), t.text) for t in channel.findall("podcast:txt", NS)]
    assert found == [("applepodcastsverify", "05124"), ("verify", "S6lpp-7ZCn8-dZfGc-OoyaG")]
    assert all(len(purpose) <= 128 and 0 < len(text) <= 4000 for purpose, text in found)
    assert _tree().find("channel/item/podcast:txt", NS) is None


def test_podroll_is_one_element_of_remote_items_with_feed_guids():
    rolls = _tree().findall("channel/podcast:podroll", NS)
    assert len(rolls) == 1  # Count: single
    items = rolls[0].findall("podcast:remoteItem", NS)
    assert [dict(i.attrib) for i in items] == [
        {
            "feedGuid": "917393e3-1b1e-5cef-ace4-edaa54e1f810",
            "feedUrl": "https://feeds.podcastindex.org/pc20.xml",
            "title": "Podcasting 2.0",
        },
        {"feedGuid": "29cdca4a-32d8-56ba-b48b-09a011c5daa9"},
    ]
    assert all(uuid.UUID(i.get("feedGuid")) for i in items)  # feedGuid: required, a podcast:guid
    assert list(rolls[0]) == items  # its node value is remoteItems only


def test_license_of_a_known_licence_carries_its_address():
    licence = _tree().findall("channel/podcast:license", NS)
    assert [(tag.text, tag.get("url")) for tag in licence] == [
        ("CC-BY-4.0", "https://spdx.org/licenses/CC-BY-4.0.html")
    ]
    # partytime reads a licence only with an identifier and an address (its own list, or the url attribute)
    custom = _tree(_render(_config(license="my-license-v1", license_url="https://example.com/license.html"))).find(
        "channel/podcast:license", NS
    )
    assert (custom.text, custom.get("url")) == ("my-license-v1", "https://example.com/license.html")


def test_location_of_the_show_and_of_an_episode():
    channel = _tree().find("channel")
    place = channel.find("podcast:location", NS)
    assert place.text == "Austin, TX" and dict(place.attrib) == {
        "rel": "creator",
        "geo": "geo:30.2672,-97.7431",
        "osm": "R113314",
        "country": "us",
    }
    assert re.fullmatch(r"geo:-?\d+(\.\d+)?,-?\d+(\.\d+)?", place.get("geo")) and re.fullmatch(
        r"[NWR]\d+", place.get("osm")
    )
    assert channel.find("item/podcast:location", NS).text == "Berlin"
    assert all(p.text and len(p.text) <= 128 for p in channel.iter(f"{{{PODCAST_NS}}}location"))


def test_update_frequency_is_a_recurrence_rule_with_words():
    element = _tree().find("channel/podcast:updateFrequency", NS)
    assert (element.text, element.get("rrule"), element.get("complete")) == (
        "Biweekly",
        "FREQ=WEEKLY;INTERVAL=2",
        "true",
    )
    assert rules.rrule_problem(element.get("rrule")) == ""
    custom = _tree(
        _render(
            replace(
                _config(update_frequency="FREQ=WEEKLY;BYDAY=MO", update_frequency_text="Every Monday"),
                show=show_config().show,
            )
        )
    )
    element = custom.find("channel/podcast:updateFrequency", NS)
    assert (element.text, element.get("rrule"), element.get("complete")) == (
        "Every Monday",
        "FREQ=WEEKLY;BYDAY=MO",
        None,
    )


def test_images_list_every_size_of_the_artwork_as_a_srcset():
    channel = _tree().find("channel")
    images = channel.findall("podcast:images", NS)
    assert len(images) == 1  # Count: single
    srcset = [part.strip().split(" ") for part in images[0].get("srcset").split(",")]
    assert srcset == [[SITE + path, f"{width}w"] for path, width in SIZES]  # absolute URLs, widths in w
    image = [
        (i.get("href"), i.get("width"), i.get("type"), i.get("purpose")) for i in channel.findall("podcast:image", NS)
    ]
    assert image == [(SITE + path, str(width), "image/jpeg", "artwork") for path, width in SIZES]
    bare = _tree(feed.render(_config(), _items(), BUILD, None)).find("channel")
    assert bare.find("podcast:images", NS) is None and bare.find("podcast:image", NS) is None


def test_a_trailer_episode_is_the_channels_trailer():
    trailers = _tree().findall("channel/podcast:trailer", NS)
    assert len(trailers) == 1
    trailer = trailers[0]
    assert trailer.text == "Coming soon"
    assert (
        trailer.get("url") == SITE + "media/coming-soon.mp3"
        and trailer.get("length") == "12345"
        and trailer.get("type") == "audio/mpeg"
    )
    assert parsedate_to_datetime(trailer.get("pubdate")) == datetime(2026, 5, 1, 8, 30, tzinfo=UTC)  # RFC 2822
    assert trailer.get("season") == "2"


def test_soundbites_lie_inside_the_audio():
    item = _tree().find("channel/item")
    bites = [(b.get("startTime"), b.get("duration"), b.text) for b in item.findall("podcast:soundbite", NS)]
    assert bites == [("73", "60", "Why panels work"), ("1234.5", "42.25", None)]
    length = float(item.findtext("itunes:duration", namespaces=NS))
    # partytime keeps a soundbite only when startTime and duration are numbers other than 0
    assert all(
        float(start) and float(duration) and float(start) + float(duration) <= length for start, duration, _ in bites
    )


def test_comments_are_a_social_interact_and_an_rss_comments_link():
    item = _tree().find("channel/item")
    social = item.findall("podcast:socialInteract", NS)
    assert [dict(s.attrib) for s in social] == [
        {
            "protocol": "activitypub",
            "uri": "https://mastodon.social/@dana/111",
            "accountId": "@dana@mastodon.social",
            "accountUrl": "https://mastodon.social/@dana",
        }
    ]
    assert social[0].get("protocol") in rules.SOCIAL_PROTOCOLS
    assert item.findtext("comments") == "https://mastodon.social/@dana/111"
    page = published("page", "Page", 3)
    page = replace(
        page,
        episode=replace(
            page.episode, notes=replace(page.episode.notes, comments=Social("https://blog.example.com/post#comments"))
        ),
    )
    off = published("off", "Off", 4)
    off = replace(
        off, episode=replace(off.episode, notes=replace(off.episode.notes, comments=Social(protocol="disabled")))
    )
    items = _tree(_render(items=[off, page])).findall("channel/item")
    assert [dict(s.attrib) for s in items[0].findall("podcast:socialInteract", NS)] == [
        {"protocol": "disabled"}
    ] and items[0].find("comments") is None
    assert (
        items[1].find("podcast:socialInteract", NS) is None
        and items[1].findtext("comments") == "https://blog.example.com/post#comments"
    )


def test_alternate_enclosures_offer_the_mp3_and_the_opus_edition():
    item = _tree().find("channel/item")
    editions = item.findall("podcast:alternateEnclosure", NS)
    assert [e.get("default") for e in editions] == ["true", None]  # the enclosure's own, then the other
    mp3, opus = editions
    assert mp3.find("podcast:source", NS).get("uri") == item.find("enclosure").get("url")
    assert (mp3.get("type"), mp3.get("length")) == (
        item.find("enclosure").get("type"),
        item.find("enclosure").get("length"),
    )
    assert dict(opus.attrib) == {
        "type": "audio/ogg",
        "length": "9000000",
        "bitrate": "40000",
        "title": "Opus 48 kbps",
        "codecs": "opus",
    }
    assert [s.get("uri") for s in opus.findall("podcast:source", NS)] == [SITE + "media/rich.opus"]
    for edition in editions:
        # partytime: a type, a length and a source with a uri; the namespace: one integrity at most, sri or pgp-signature
        assert edition.get("type") and edition.get("length").isdigit() and edition.find("podcast:source", NS).get("uri")
        assert len(edition.get("title")) <= 32
        integrity = edition.findall("podcast:integrity", NS)
        assert (
            len(integrity) == 1
            and integrity[0].get("type") == "sri"
            and re.fullmatch(r"sha256-[A-Za-z0-9+/]{43}=", integrity[0].get("value"))
        )
    assert (
        _tree().findall("channel/item")[1].find("podcast:alternateEnclosure", NS) is None
    )  # one edition: nothing to offer


def test_the_feed_declares_its_hubs():
    links = _tree().findall("channel/atom:link", NS)
    assert [(link.get("rel"), link.get("href")) for link in links] == [("self", SITE + "feed.xml"), ("hub", HUB)]
    assert _tree().find("channel").findtext("link") == SITE  # RSS's own link is still the site, not a hub


def test_both_podcast_clients_read_the_feed_as_before():
    xml = _render()
    parsed = feedparser.parse(xml)
    assert not parsed.bozo, parsed.get("bozo_exception")
    rich = parsed.entries[0]
    assert rich.comments == "https://mastodon.social/@dana/111"
    assert [e.href for e in rich.enclosures] == [SITE + "media/rich.mp3"]  # an alternate is no second enclosure
    assert rich.podcast_location == "Berlin" and rich.podcast_soundbite == {"starttime": "1234.5", "duration": "42.25"}
    gpodder = podcastparser.parse(SITE + "feed.xml", io.BytesIO(xml))
    assert [e["title"] for e in gpodder["episodes"]] == ["Rich", "Plain", "Coming soon"]
    assert gpodder["episodes"][0]["enclosures"] == [
        {"url": SITE + "media/rich.mp3", "file_size": 12345, "mime_type": "audio/mpeg"}
    ]


# --- chapters in the episode's notes, as Apple reads them ------------------------------------------------------------


def test_three_chapters_or_more_are_listed_in_the_notes_for_apple():
    html = _tree().find("channel/item").findtext("content:encoded", namespaces=NS)
    assert (
        html
        == "<p>The notes.</p>\n<p><strong>Chapters</strong></p>\n<p>00:00 Welcome<br>\n04:10 Management &amp; &lt;work&gt;<br>\n12:30 Questions</p>"
    )
    item = _items()[0]
    long = replace(item, media=replace(item.media, duration=4000.0))
    assert "00:04:10 Management" in feed.feed_html(long)  # an hour or more: hours on every line
    two = replace(item, chapters=item.chapters[:2])
    assert feed.feed_html(two) == "<p>The notes.</p>"  # Apple needs three
    bare = replace(item, episode=replace(item.episode, notes=replace(item.episode.notes, body="")))
    assert feed.feed_html(bare).startswith("<p><strong>Chapters</strong></p>")  # notes of chapters alone


def test_notes_that_list_their_own_timestamps_get_no_second_list():
    item = _items()[0]
    own = "Topics:\n\n- 00:00 Hello\n- 05:12 The middle\n- (1:02:03) The end"
    mine = replace(item, episode=replace(item.episode, notes=replace(item.episode.notes, body=own)))
    assert "Chapters" not in feed.feed_html(mine)
    assert feed.has_timestamps(own) and not feed.has_timestamps("At 10:30 we start.\n\nTwo: 11:00")


# --- the settings they come from ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "problem", "fix"),
    [
        ('[podcast.txt]\nverify = ""', "[podcast.txt] verify is empty", "verification code"),
        ('[podcast.txt]\n"' + "p" * 129 + '" = "x"', "characters long; apps read at most 128", "shorten it"),
        ("[podcast]\ntxt = 3", "`podcast.txt` must be a table", "[podcast.txt]"),
        (
            '[[podcast.podroll]]\nfeed_url = "https://feeds.example.com/rss"',
            "[podcast.podroll] feed_guid is missing",
            "feed_guid",
        ),
        (
            '[[podcast.podroll]]\nfeed_guid = "Buzzcast"\nfeed_url = "https://rss.buzzsprout.com/231452.rss"',
            "feed_guid 'Buzzcast' is not a podcast GUID (a UUID)",
            "UUIDv5 of its address, here ",
        ),
        (
            '[[podcast.podroll]]\nfeed_guid = "917393e3-1b1e-5cef-ace4-edaa54e1f810"\n[[podcast.podroll]]\nfeed_guid = "917393e3-1b1e-5cef-ace4-edaa54e1f810"',
            "is listed twice",
            "once",
        ),
        (
            '[[podcast.podroll]]\nfeed_gid = "917393e3-1b1e-5cef-ace4-edaa54e1f810"',
            "unknown setting `podcast.podroll.feed_gid`",
            "did you mean `podcast.podroll.feed_guid`?",
        ),
        (
            '[podcast]\nlicense = "my-license"',
            "[podcast] license 'my-license' is not a licence apps know by name",
            "license_url",
        ),
        (
            '[podcast]\nlicense_url = "https://example.com/l"',
            "[podcast] license_url is set but license is empty",
            "license =",
        ),
        ('[podcast.location]\ngeo = "geo:1,2"', "[podcast.location] name is missing", "name"),
        ("[podcast.location]\nname = 3", "[podcast.location] name = 3 is not a quoted string", "quoted string"),
        (
            '[podcast.location]\nname = "Here\\u0001"',
            "[podcast.location] name holds a control character (U+0001), which a feed cannot carry",
            "delete it",
        ),
        (
            '[podcast.txt]\n"verify\\u000b" = "x"',
            "[podcast.txt] name 'verify\\x0b' holds a vertical tab (U+000B)",
            "delete it",
        ),
        (
            '[podcast.location]\nname = "Here"\ngeo = "30.2,97.7"',
            "[podcast.location] geo '30.2,97.7' is not a geo URI",
            "geo:LATITUDE,LONGITUDE",
        ),
        (
            '[podcast.location]\nname = "Here"\nosm = "113314"',
            "[podcast.location] osm '113314' is not an OpenStreetMap object",
            "R113314",
        ),
        (
            '[podcast.location]\nname = "Here"\ncountry = "USA"',
            "[podcast.location] country 'USA' is not a two-letter country code",
            "ISO 3166-1",
        ),
        (
            '[podcast.location]\nname = "Here"\nrel = "about"',
            "[podcast.location] rel 'about' is not allowed",
            "subject",
        ),
        (
            '[podcast]\nupdate_frequency = "fortnightly"',
            "[podcast] update_frequency = 'fortnightly' is neither a schedule word nor a recurrence rule",
            "weekly",
        ),
        (
            '[podcast]\nupdate_frequency = "FREQ=WEEKLY;BYDAY=MX"\nupdate_frequency_text = "x"',
            "has a BYDAY that is not a list of weekdays",
            "RFC 5545",
        ),
        (
            '[podcast]\nupdate_frequency = "FREQ=WEEKLY;COUNT=10"\nupdate_frequency_text = "x"',
            "has COUNT, which needs a start date",
            "RFC 5545",
        ),
        (
            '[podcast]\nupdate_frequency = "FREQ=WEEKLY;BYDAY=MO"',
            "is a rule apps cannot show as words",
            "update_frequency_text",
        ),
        (
            '[podcast]\nupdate_frequency_text = "Mondays"',
            "update_frequency_text is set but update_frequency is empty",
            "update_frequency =",
        ),
        (
            '[notify]\nhubs = ["pubsubhubbub.appspot.com"]',
            "[notify] hubs holds 'pubsubhubbub.appspot.com', which is not a hub's web address",
            "hubs = [",
        ),
        ("[notify]\ntimeout = 0", "[notify] timeout = 0.0 is not allowed", "seconds"),
        ("[notify]\npodcastindex = 1", "[notify] podcastindex = 1 is not true or false", "true or false"),
        ("[audio]\nopus_bitrate = 8", "[audio] opus_bitrate = 8 is not allowed", "between 16 and 256"),
        (
            '[show]\nnew_feed_url = "https://pod.example.com/show/feed.xml"',
            "[show] new_feed_url is this show's own feed",
            "the feed the show moves to",
        ),
    ],
)
def test_every_new_setting_is_checked_with_its_fix(tmp_path, toml, problem, fix):
    folder = write_show(tmp_path / "show")
    path = folder / config_module.CONFIG_NAME
    text = path.read_text()
    if toml.startswith("[show]\n"):
        text = text.replace("explicit = false\n", "explicit = false\n" + toml.removeprefix("[show]\n") + "\n")
    elif toml.startswith("[audio]\n"):
        text += toml.removeprefix("[audio]\n") + "\n"
    else:
        text += "\n" + toml + "\n"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        config_module.load(folder)
    assert problem in caught.value.problem and fix in caught.value.fix
    assert caught.value.path == path.resolve()


def test_the_new_settings_load(tmp_path):
    folder = write_show(tmp_path / "show", extra_audio="opus = true\nopus_bitrate = 32")
    with (folder / config_module.CONFIG_NAME).open("a") as handle:
        handle.write(
            '\n[podcast]\nlicense = "cc-by-sa-4.0"\nupdate_frequency = "Weekly"\n'
            '[podcast.txt]\napplepodcastsverify = "05124"\n'
            '[podcast.location]\nname = "Austin, TX"\ngeo = "geo:30.2672,-97.7431"\n'
            '[[podcast.podroll]]\nfeed_guid = "917393e3-1b1e-5cef-ace4-edaa54e1f810"\ntitle = "Podcasting 2.0"\n'
            f'[notify]\nhubs = ["{HUB}"]\npodcastindex = true\ntimeout = 2.5\n'
        )
    cfg = config_module.load(folder)
    assert cfg.podcast.txt == (("applepodcastsverify", "05124"),)
    assert cfg.podcast.podroll == (RemoteItem("917393e3-1b1e-5cef-ace4-edaa54e1f810", title="Podcasting 2.0"),)
    assert cfg.podcast.location == Location("Austin, TX", geo="geo:30.2672,-97.7431")
    assert (cfg.audio.opus, cfg.audio.opus_bitrate) == (True, 32)
    assert cfg.notify == config_module.NotifySettings(hubs=(HUB,), podcastindex=True, timeout=2.5)
    channel = _tree(feed.render(cfg, [], BUILD, None)).find("channel")
    assert channel.find("podcast:license", NS).get("url") == "https://spdx.org/licenses/CC-BY-SA-4.0.html"
    assert channel.find("podcast:updateFrequency", NS).attrib == {"rrule": "FREQ=WEEKLY"}


# --- the notes keys they come from ---------------------------------------------------------------------------------


def test_soundbites_comments_and_location_are_read_from_the_notes(tmp_path):
    path = write_notes(
        tmp_path,
        "ep",
        """\
        title: Ep
        date: 2026-01-01
        soundbites:
          - start: 00:01:13
            duration: 60
            title: Why panels work
          - {start: 1234.5, duration: "0:42.25"}
        comments:
          url: https://mastodon.social/@dana/111
          protocol: activitypub
          account: "@dana@mastodon.social"
        location:
          name: Berlin
          geo: geo:52.52,13.405
          country: de
        """,
    )
    notes = read_notes(path)
    assert notes.soundbites == (Soundbite(73.0, 60.0, "Why panels work"), Soundbite(1234.5, 42.25))
    assert [b.line for b in notes.soundbites] == [5, 8]
    assert notes.comments == Social("https://mastodon.social/@dana/111", "activitypub", "@dana@mastodon.social")
    assert notes.location == Location("Berlin", geo="geo:52.52,13.405", country="de")
    short = read_notes(
        write_notes(tmp_path, "short", "title: S\ncomments: https://blog.example.com/p#comments\nlocation: Paris")
    )
    assert (short.comments, short.location) == (Social("https://blog.example.com/p#comments"), Location("Paris"))
    assert read_notes(write_notes(tmp_path, "off", "title: O\ncomments: disabled")).comments == Social(
        protocol="disabled"
    )


@pytest.mark.parametrize(
    ("front", "problem", "fix"),
    [
        (
            "soundbites:\n  - {start: 0, duration: 30}",
            "line 5: soundbite starts at 0, which Podcast Index apps read as no soundbite at all",
            "start: 00:00:01",
        ),
        ("soundbites:\n  - {start: 10}", "line 5: soundbite has no duration", "duration:"),
        ("soundbites:\n  - {start: 10, duration: 0}", "line 5: soundbite lasts 0 seconds", "15 to 120"),
        ("soundbites:\n  - {start: ten, duration: 5}", "line 5: soundbite start 'ten' is not a time", "HH:MM:SS"),
        (
            "soundbites:\n  - {start: 10, duration: 5, titel: x}",
            "line 5: soundbite has unknown keys ['titel']",
            "start, duration, title",
        ),
        (
            "soundbites:\n  - {start: 10, duration: 5, title: " + "x" * 129 + "}",
            "characters long; apps show at most 128",
            "shorten",
        ),
        (
            "soundbites:\n  - 00:10 A bite",
            "line 5: soundbite '00:10 A bite' is not a start, a duration and a title",
            "duration:",
        ),
        ("comments: {url: 'https://m.example/@a/1'}", "comments has a url but no protocol", "protocol:"),
        (
            "comments: {url: 'https://m.example/@a/1', protocol: mastodon}",
            "comments protocol 'mastodon' is not one apps know",
            "activitypub",
        ),
        ("comments: not a link", "comments 'not a link' is not a web address", "comments: https://"),
        ("location: {name: Here, geo: 'geo:95,0'}", "location geo 'geo:95,0' is not a geo URI", "geo:LATITUDE"),
        ("location: {geo: 'geo:1,2'}", "location has no name", "name"),
    ],
)
def test_every_new_notes_key_is_checked_with_its_line_and_fix(tmp_path, front, problem, fix):
    path = write_notes(tmp_path, "ep", "title: Ep\ndate: 2026-01-01\n" + front)
    with pytest.raises(NotesError) as caught:
        read_notes(path)
    assert caught.value.problem.startswith(problem) or problem in caught.value.problem
    assert fix in caught.value.fix and caught.value.path == path


def test_a_soundbite_past_the_end_fails_its_episode_with_its_line(tmp_path, audio_dir, capsys):
    show = write_show(tmp_path / "show")
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / "ep.wav")  # 4 seconds
    write_notes(
        show,
        "ep",
        "title: Ep\ndate: 2026-01-01\nsoundbites:\n  - {start: 1, duration: 2, title: Fits}\n  - {start: 2, duration: 5, title: Too long}",
    )
    assert main(["build", "--show", str(show)]) == 1
    assert (
        "ep.md: line 6: soundbite 2 ('Too long') runs from 00:00:02 to 00:00:07, past the end of the recording (00:00:04) — correct its start or duration"
        in capsys.readouterr().err
    )
    write_notes(show, "ep", "title: Ep\ndate: 2026-01-01\nsoundbites:\n  - {start: 1, duration: 2, title: Fits}")
    assert main(["build", "--show", str(show)]) == 0
    bite = etree.parse(str(show / "public" / "feed.xml")).find("channel/item/podcast:soundbite", NS)
    assert (bite.get("startTime"), bite.get("duration"), bite.text) == ("1", "2", "Fits")


def test_the_artwork_sizes_are_published_and_listed(tmp_path, audio_dir):
    from PIL import Image

    show = write_show(tmp_path / "show", extra_show='artwork = "cover.png"')
    Image.new("RGBA", (1400, 1400), (10, 120, 200, 255)).convert("RGB").save(show / "cover.png")
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / "ep.wav")
    write_notes(show, "ep", "title: Ep\ndate: 2026-01-01")
    assert main(["build", "--show", str(show)]) == 0
    site = show / "public"
    for side in (600, 400, 300, 192, 150):
        with Image.open(site / "icons" / f"cover-{side}.jpg") as image:
            assert (image.format, image.size) == ("JPEG", (side, side))
    srcset = etree.parse(str(site / "feed.xml")).find("channel/podcast:images", NS).get("srcset")
    covers = [(f"icons/cover-{w}.jpg", w) for w in (600, 400, 300, 192, 150)]
    assert srcset == ", ".join(f"{SITE}{name} {w}w" for name, w in (("artwork.png", 1400), *covers))
    assert Path(site / "artwork.png").read_bytes() == (show / "cover.png").read_bytes()
