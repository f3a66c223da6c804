"""The feed stage is pure: records in, bytes out; checked against real podcast-client parsers."""

from __future__ import annotations

import io
import string
from dataclasses import replace
from datetime import UTC, datetime

import feedparser
import podcastparser
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lxml import etree

from pipeline.records import Panelist
from pipeline.show import feed
from pipeline.show.podcastindex import PODCAST_NS
from tests.golden import assert_golden
from tests.records import SITE, published, show_config

NS = {
    "itunes": feed.ITUNES_NS,
    "podcast": PODCAST_NS,
    "content": "http://purl.org/rss/1.0/modules/content/",
    "atom": "http://www.w3.org/2005/Atom",
}
BUILD = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)


def _items():
    return [
        published("second", "Second & <last>", 12, explicit=True, season=1, episode=2),
        published("first", "First", 3, body="", summary="", episode_type="trailer"),
    ]


def test_feed_matches_golden_file():
    assert_golden("feed.xml", feed.render(show_config(), _items(), BUILD, "artwork.jpg"))


def test_feed_channel_and_items_by_value():
    xml = feed.render(show_config(explicit=True), _items(), BUILD, "artwork.jpg")
    tree = etree.fromstring(xml)
    channel = tree.find("channel")
    assert channel.findtext("link") == SITE
    assert channel.find("atom:link", NS).get("href") == SITE + "feed.xml"
    assert channel.find("atom:link", NS).get("rel") == "self"
    assert channel.findtext("itunes:explicit", namespaces=NS) == "true"
    assert channel.find("itunes:category", NS).get("text") == "Business"
    assert channel.find("itunes:category/itunes:category", NS).get("text") == "Management"
    assert channel.find("itunes:owner/itunes:email", NS).text == "owner@example.com"
    assert channel.find("itunes:image", NS).get("href") == SITE + "artwork.jpg"
    assert channel.findtext("lastBuildDate") == "Wed, 20 May 2026 12:00:00 +0000"
    items = channel.findall("item")
    assert [i.findtext("title") for i in items] == ["Second & <last>", "First"]
    assert items[0].find("guid").get("isPermaLink") == "false"
    assert items[0].findtext("pubDate") == "Tue, 12 May 2026 08:30:00 +0000"
    assert items[0].find("enclosure").attrib == {
        "url": SITE + "media/second.mp3",
        "length": "12345",
        "type": "audio/mpeg",
    }
    assert items[0].findtext("itunes:duration", namespaces=NS) == "1801"
    assert items[0].findtext("itunes:explicit", namespaces=NS) == "true"
    assert items[1].findtext("itunes:explicit", namespaces=NS) == "false"
    assert items[1].findtext("itunes:episodeType", namespaces=NS) == "trailer"
    assert items[0].findtext("itunes:season", namespaces=NS) == "1"
    assert items[0].findtext("itunes:episode", namespaces=NS) == "2"
    assert "<strong>body</strong>" in items[0].findtext("content:encoded", namespaces=NS)
    assert items[1].find("content:encoded", NS) is None  # no body, no empty element
    assert items[1].findtext("description") == "First"  # no summary: the title stands in


def test_feed_parses_in_both_clients():
    xml = feed.render(show_config(), _items(), BUILD, "artwork.jpg")
    parsed = feedparser.parse(xml)
    assert not parsed.bozo
    assert [e.id for e in parsed.entries] == [
        "00000000-0000-4000-8000-000000000002",
        "00000000-0000-4000-8000-000000000003",
    ]
    gpodder = podcastparser.parse(SITE + "feed.xml", io.BytesIO(xml))
    assert [e["guid"] for e in gpodder["episodes"]] == [e.id for e in parsed.entries]
    assert [e["explicit"] for e in gpodder["episodes"]] == [True, False]
    assert gpodder["episodes"][0]["total_time"] == 1801


def test_feed_is_deterministic():
    assert feed.render(show_config(), _items(), BUILD, None) == feed.render(show_config(), _items(), BUILD, None)


# Titles and notes with XML-special characters, emoji and right-to-left text survive unchanged.
_text = (
    st.text(
        alphabet=st.sampled_from(
            [*list(string.ascii_letters + string.digits + " &<>\"'#;"), "🎙", "😀", "é", "ש", "ل", "\u200f", "—"]
        ),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(bool)
)


@settings(max_examples=60, deadline=None, derandomize=True)  # the same examples on every run: CI never fails by chance
@given(title=_text, summary=_text, author=_text, names=st.lists(_text, min_size=1, max_size=3), body=_text)
@example(title="0", summary="0", author="&lt;", names=["0"], body="0")  # a host's literal "&lt;" stays "&lt;"
def test_text_round_trips_through_both_parsers(title, summary, author, names, body):
    item = published("only", title, 1, summary=summary, body=body)
    item = replace(
        item,
        episode=replace(
            item.episode, notes=replace(item.episode.notes, panelists=tuple(Panelist(n, role="host") for n in names))
        ),
    )
    xml = feed.render(show_config(author=author), [item], BUILD, None)
    parsed = feedparser.parse(xml)
    assert not parsed.bozo
    assert parsed.entries[0].title == title
    assert parsed.feed.author == author
    gpodder = podcastparser.parse(SITE + "feed.xml", io.BytesIO(xml))
    episode = gpodder["episodes"][0]
    # gPodder squashes runs of spaces in text, by design; everything else arrives as written
    assert episode["title"] == podcastparser.squash_whitespace(title)
    assert episode["itunes_author"] == podcastparser.squash_whitespace(", ".join(names))
    if not podcastparser.is_html(summary):  # gPodder reads a tag-like summary as HTML, by design
        assert episode["description"] == podcastparser.squash_whitespace(summary)
    assert [e.title for e in parsed.entries] == [title]
    html = feed.feed_html(item)
    assert episode.get("description_html", "") == html  # the notes HTML arrives exactly as made: escaped once
    tree = etree.fromstring(xml)
    assert [p.text for p in tree.iterfind("channel/item/podcast:person", NS)] == names
    assert tree.findtext("channel/item/itunes:title", namespaces=NS) == title
    if (
        not any(entity in "".join([title, summary, author, body, *names]) for entity in ("&amp;", "&lt;"))
        and feed.as_text(summary) == summary
    ):
        assert (
            b"&amp;amp;" not in xml and b"&amp;lt;" not in xml
        )  # never escaped twice (unless "&lt;" was the text, or the summary holds markup)
    assert tree.findtext("channel/item/description") == feed.as_text(
        summary
    )  # a summary's markup is text for apps (escaped for their HTML)


def test_a_feed_redated_is_the_feed_written_with_that_date():
    document = feed.generator(show_config(), _items(), "artwork.jpg")
    other = datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)
    redated = feed.redated(feed.xml(document, BUILD), BUILD, other)
    assert redated != feed.xml(feed.generator(show_config(), _items(), "artwork.jpg"), BUILD)
    assert redated == feed.xml(feed.generator(show_config(), _items(), "artwork.jpg"), other)


_markup = st.sampled_from(["<item>", "</item>", "    </item>\n    <item>\n", "]]>", "<![CDATA[", "</channel>", "é—✓"])


@settings(max_examples=60, deadline=None, derandomize=True)
@given(texts=st.lists(st.tuples(_text | _markup, _text | _markup, _text | _markup), min_size=1, max_size=4))
@example(texts=[("</item>", "    </item>\n    <item>\n", "a ]]> b"), ("é", "</channel>", "<![CDATA[")])
def test_items_written_apart_and_spliced_are_the_feed_byte_for_byte(texts):
    """The feed a build publishes is its channel and each item's kept text, joined: the same bytes feedgen writes for
    the whole tree, whatever the titles, summaries and notes hold (markup that looks like the feed's own included)."""
    items = [
        published(f"ep{n}", title, 1 + n, summary=summary, body=body) for n, (title, summary, body) in enumerate(texts)
    ]
    config = show_config()
    whole = feed.render(config, items, BUILD, None)
    texts_ = feed.item_texts(config, items)
    assert len(texts_) == len(items)
    assert feed.spliced(feed.channel(config, items, None), BUILD, texts_) == whole
    one_by_one = [text for item in items for text in feed.item_texts(config, [item])]
    assert one_by_one == texts_, "an item's text does not depend on the items written with it"
