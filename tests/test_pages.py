"""The render stage is pure: records in, HTML out (Jinja2, autoescaped)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from lxml import html

from pipeline import config, layout
from pipeline.errors import ConfigError
from pipeline.records import Attachment
from pipeline.show import pages
from pipeline.show.artwork import ICONS as ICON_SPECS
from tests.conftest import write_show
from tests.golden import assert_golden
from tests.records import published, show_config


def _items():
    return [
        published(
            "second",
            "Second & <script>alert(1)</script>",
            12,
            explicit=True,
            season=1,
            episode=2,
            body="Hi <b>raw</b> [link](https://example.com) and [bad](javascript:alert(1))",
        ),
        published("first", "First", 3),
    ]


ICONS = tuple(name for name, _ in ICON_SPECS)


def test_pages_match_golden_files():
    rendered = pages.render(show_config(), _items(), "artwork.jpg", ICONS)
    assert sorted(rendered) == ["episodes/first.html", "episodes/second.html", "index.html", "subscribe.html"]
    assert_golden("episode.html", rendered["episodes/second.html"])
    assert_golden("index.html", rendered["index.html"])
    assert_golden("subscribe.html", rendered["subscribe.html"])
    env = pages.environment(pages.templates(None))
    assert_golden("feed.xsl", pages.feed_style(env, show_config(), pages.Site("artwork.jpg", ICONS)))


def test_titles_and_notes_are_escaped_never_injected():
    page = pages.render(show_config(), _items(), None)["episodes/second.html"]
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<b>raw</b>" not in page and "&lt;b&gt;raw&lt;/b&gt;" in page
    assert 'href="https://example.com"' in page
    assert 'href="javascript:' not in page


def test_explicit_badge_only_where_flagged():
    rendered = pages.render(show_config(), _items(), None)
    assert 'class="badge explicit"' in rendered["episodes/second.html"]
    assert 'class="badge explicit"' not in rendered["episodes/first.html"]
    index = html.fromstring(rendered["index.html"])
    assert len(index.xpath("//ul[@class='episodes']//*[@class='badge explicit']")) == 1
    assert len(index.xpath("//section[@class='latest']//*[@class='badge explicit']")) == 1  # the newest is explicit


def test_index_lists_newest_first_with_relative_links():
    index = pages.render(show_config(), _items(), None)["index.html"]
    assert index.index("episodes/second.html") < index.index("episodes/first.html")
    page = pages.render(show_config(), _items(), None)["episodes/first.html"]
    assert 'src="../media/first.mp3"' in page and 'href="../feed.xml"' in page and 'href="../assets/site.css?v=' in page


def test_a_show_can_override_templates(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "index.html").write_text(
        "{% for item in items %}[{{ item.episode.notes.title }}]{% endfor %}"
    )
    rendered = pages.render(show_config(root=tmp_path), _items(), None)
    assert rendered["index.html"] == "[Second &amp; &lt;script&gt;alert(1)&lt;/script&gt;][First]"
    assert "<article>" in rendered["episodes/first.html"]  # not overridden: the packaged one


def test_clock_cuts_to_the_second_as_players_show_time():
    assert pages.clock(44.4) == "0:44"
    assert pages.clock(3725) == "1:02:05"
    assert pages.clock(9.88) == "0:09"  # a player shows 0:09 at 9.88 s, not 0:10
    assert pages.clock(59.9999999) == "1:00"  # but a float a hair under a whole second is that second
    assert pages.clock(3599.99) == "59:59"


def test_sizes_durations_and_fragment_times_as_people_and_schema_org_read_them():
    assert [pages.file_size(n) for n in (120, 845_000, 12_345_678)] == ["1 KB", "845 KB", "12.3 MB"]
    assert [pages.iso_duration(s) for s in (0, 44.4, 90, 3725)] == ["PT0S", "PT44S", "PT1M30S", "PT1H2M5S"]
    assert [pages.media_time(s) for s in (0.0, 2.5, 95.25, 3725.0)] == ["0", "2.5", "95.25", "3725"]


def test_urls_from_notes_become_attribute_values_validators_accept():
    assert pages.href("https://example.com/a b") == "https://example.com/a%20b"
    assert (
        pages.href('https://example.com/?q="><script>&x=<y>') == "https://example.com/?q=%22%3E%3Cscript%3E&x=%3Cy%3E"
    )
    assert pages.href("https://example.com/a#b#c") == "https://example.com/a#b%23c"
    assert pages.href("https://example.com/100%/ok%20") == "https://example.com/100%25/ok%20"
    assert pages.href("https://example.com/café?ü=1") == "https://example.com/caf%C3%A9?%C3%BC=1"
    assert (
        pages.href("https://example.com/a(b)?c=d;e&f=g#h") == "https://example.com/a(b)?c=d;e&f=g#h"
    )  # left as written


def test_json_ld_cannot_close_its_script_element():
    text = pages.jsonld({"name": "</script><script>alert(1)</script><!-- & -->"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"name": "</script><script>alert(1)</script><!-- & -->"}


def test_subscribe_links_open_the_feed_in_apps():
    links = {app.name: app.link for app in pages.subscribe_links("https://pod.example.com/show/feed.xml", "Q&A Show")}
    assert links == {
        "Apple Podcasts": "pcast://pod.example.com/show/feed.xml",
        "Overcast": "overcast://x-callback-url/add?url=https%3A%2F%2Fpod.example.com%2Fshow%2Ffeed.xml",
        "Pocket Casts": "pktc://subscribe/pod.example.com/show/feed.xml",
        "AntennaPod": "https://antennapod.org/deeplink/subscribe?url=https%3A%2F%2Fpod.example.com%2Fshow%2Ffeed.xml&title=Q%26A%20Show",
        "Podcast Addict": "podcastaddict://pod.example.com/show/feed.xml",
        "Castro": "castro://subscribe/pod.example.com/show/feed.xml",
        "Podcast Index": "https://podcastindex.org/search?q=https%3A%2F%2Fpod.example.com%2Fshow%2Ffeed.xml",
        "Another app": "podcast://pod.example.com/show/feed.xml",
    }  # Spotify, YouTube Music and Fountain cannot open a feed: only with the show's ID there


def test_with_the_shows_ids_every_app_opens_the_shows_own_page(tmp_path):
    ids = config.SubscribeSettings(
        apple_podcasts="1234567890",
        spotify="4rOoJ6Egrf8K2IrywzwOMk",
        youtube_music="PLabcdefghij_-12",
        fountain="AbC123",
        podcast_index="920666",
    )
    links = {app.name: app.link for app in pages.subscribe_links("https://pod.example.com/show/feed.xml", "Q", ids)}
    assert list(links) == [
        "Apple Podcasts",
        "Spotify",
        "YouTube Music",
        "Overcast",
        "Pocket Casts",
        "AntennaPod",
        "Podcast Addict",
        "Castro",
        "Fountain",
        "Podcast Index",
        "Another app",
    ]
    assert links["Apple Podcasts"] == "https://podcasts.apple.com/podcast/id1234567890"
    assert links["Spotify"] == "https://open.spotify.com/show/4rOoJ6Egrf8K2IrywzwOMk"
    assert links["YouTube Music"] == "https://music.youtube.com/playlist?list=PLabcdefghij_-12"
    assert links["Overcast"] == "https://overcast.fm/itunes1234567890"
    assert links["Pocket Casts"] == "https://pca.st/itunes/1234567890"
    assert links["Castro"] == "https://castro.fm/itunes/1234567890"
    assert links["Fountain"] == "https://fountain.fm/show/AbC123"
    assert links["Podcast Index"] == "https://podcastindex.org/podcast/920666"
    # the settings refuse what is not an ID, and say where to find it
    write_show(tmp_path)
    with (tmp_path / "panelpress.toml").open("a") as toml:
        toml.write('\n[subscribe]\nspotify = "https://open.spotify.com/show/4rOoJ6Egrf8K2IrywzwOMk"\n')
    with pytest.raises(ConfigError, match=r"\[subscribe\] spotify .* is not allowed") as refused:
        config.load(tmp_path)
    assert "after /show/" in refused.value.fix


def test_a_show_can_override_the_stylesheet_and_pages_ask_for_the_new_one(tmp_path):
    (tmp_path / "templates").mkdir()
    packaged = pages.environment(pages.templates(None))
    (tmp_path / "templates" / "site.css").write_text("body { color: rebeccapurple; }\n")
    own = pages.environment(pages.templates(tmp_path / "templates"))
    assert pages.static_files(own)[layout.STYLESHEET] == b"body { color: rebeccapurple; }\n"
    assert pages.static_files(own)[layout.SCRIPT] == pages.static_files(packaged)[layout.SCRIPT]
    assert own.globals["stylesheet"] != packaged.globals["stylesheet"] and own.globals["stylesheet"].startswith(
        "assets/site.css?v="
    )


def test_files_the_notes_link_to_point_at_their_copies_from_any_page():
    item = published(
        "one",
        "One",
        1,
        body="![Board](board.png) and [p. 2](slides.pdf#page=2)",
        files=("board.png", "slides.pdf#page=2"),
    )
    item = replace(
        item,
        attachments=(
            Attachment("episodes/one/board.png", "image/png", b"png", source="board.png"),
            Attachment("episodes/one/slides.pdf", "application/pdf", b"pdf", source="slides.pdf#page=2"),
        ),
    )
    on_its_page = pages.notes_html(item)
    assert 'src="one/board.png"' in on_its_page and 'href="one/slides.pdf#page=2"' in on_its_page
    from_the_index = pages.notes_html(item, root="")  # a template of the site folder's top level
    assert (
        'src="episodes/one/board.png"' in from_the_index and 'href="episodes/one/slides.pdf#page=2"' in from_the_index
    )


def test_a_template_of_the_shows_that_is_not_utf8_is_named_with_the_fix(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "episode.html").write_bytes("<p>Caf\xe9</p>".encode("latin-1"))
    (tmp_path / "templates" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\xff")  # not a template: left alone
    with pytest.raises(ConfigError, match=r"episode\.html: is not UTF-8 text.*save it as UTF-8"):
        pages.templates(tmp_path / "templates")


def test_a_show_may_replace_the_icons_and_its_other_pictures_are_not_read_as_templates(tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "logo.svg").write_bytes(b"\xff\xfe not UTF-8: a picture beside the templates")
    (folder / "icons.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><symbol id="apple"/></svg>\n')
    found = pages.templates(folder)
    assert "logo.svg" not in found and found["icons.svg"].startswith('<svg xmlns="http://www.w3.org/2000/svg"><symbol')
    env = pages.environment(found)
    assert pages.static_files(env)[layout.APP_ICONS] == (folder / "icons.svg").read_bytes()
    assert env.globals["app_icons"].startswith(layout.APP_ICONS + "?v=")  # pages ask for the new copy
