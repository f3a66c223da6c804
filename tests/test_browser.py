"""The site in a real browser: Debian's Chromium (Playwright) against `panelpress serve`, as a listener uses it.

Skipped, with how to install it, where Chromium is missing. Nothing here waits a fixed time: each test waits (up to
a generous limit) for what it expects to happen, and playback tests ask for seconds of real audio time at most.
"""

from __future__ import annotations

import json

import pytest

from pipeline.show import pages
from tests import sites
from tests.browser import SCREENSHOTS, Served, axe_source
from tests.conftest import make_audio, write_notes, write_show

EPISODE = "episodes/full-panel.html"
LIMIT = 30_000  # ms a browser may take to do what a test waits for, on a busy machine


@pytest.fixture
def page(browser):
    """A fresh page (its own context: no shared clipboard, storage or permissions)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(LIMIT)
    yield page
    context.close()


def _player_ready(page) -> None:
    page.wait_for_function("document.querySelector('audio[data-player]').readyState >= 1")


def _current(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(f"{selector}.current", "items => items.map(item => item.textContent.trim())")


def test_the_player_loads_the_audio_and_plays(page, served, previews):
    item = next(i for i in previews["full"].published if i.episode.slug == "full-panel")
    page.goto(served["full"] + EPISODE)
    _player_ready(page)
    assert page.evaluate("document.querySelector('audio').duration") == pytest.approx(item.media.duration, abs=0.1)
    page.click("ol.chapters li:first-child a.seek")  # a listener's click: the browser lets it play
    page.wait_for_function(
        "document.querySelector('audio').currentTime > 0.5 && !document.querySelector('audio').paused"
    )


def test_a_chapter_click_seeks_and_the_highlight_follows_playback(page, served):
    page.goto(served["full"] + EPISODE)
    _player_ready(page)
    page.click("ol.chapters li:nth-child(2) a.seek")
    page.wait_for_function(f"document.querySelector('audio').currentTime >= {sites.FULL_CHAPTERS[1]}")
    assert _current(page, "ol.chapters li")[0].endswith("Budgets")
    assert page.get_attribute("ol.chapters li:nth-child(2)", "aria-current") == "true"
    # playing on, the next chapter takes the highlight (2.5 s of audio)
    page.wait_for_function("document.querySelector('ol.chapters li:nth-child(3)').classList.contains('current')")
    assert page.evaluate("document.querySelector('audio').currentTime") >= sites.FULL_CHAPTERS[2]
    assert len(_current(page, "ol.chapters li")) == 1
    assert len(_current(page, ".transcript p")) == 1  # the transcript line playing now is marked too


@pytest.mark.parametrize("fragment, seconds", [("1:02", 62), ("0:01:05", 65), ("63.5", 63.5)])
def test_t_in_the_address_starts_the_player_there(page, served, fragment, seconds):
    page.goto(served["full"] + EPISODE + "#t=" + fragment)  # before the player knows the audio's length
    _player_ready(page)
    page.wait_for_function(f"Math.abs(document.querySelector('audio').currentTime - {seconds}) < 0.25")
    assert _current(page, "ol.chapters li")[0].endswith("The long tail")


def test_t_works_whatever_the_players_state(page, served):
    page.goto(served["full"] + EPISODE)
    _player_ready(page)  # the metadata is there: a later #t= is applied at once
    page.evaluate("location.hash = '#t=62:03'")  # past the end: the player stops at its end
    page.wait_for_function("document.querySelector('audio').currentTime > 80")
    page.evaluate("location.hash = '#t=0:05'")
    page.wait_for_function("Math.abs(document.querySelector('audio').currentTime - 5) < 0.25")
    page.click("ol.chapters li:nth-child(2) a.seek")  # playing
    page.wait_for_function("!document.querySelector('audio').paused")
    page.evaluate("location.hash = '#t=1:02'")
    page.wait_for_function("document.querySelector('audio').currentTime >= 62")


def test_the_copy_buttons_copy_the_feed_address_and_a_link_to_this_moment(browser, served):
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=served["full"].split("/show/")[0])
    page = context.new_page()
    page.set_default_timeout(LIMIT)
    page.goto(served["full"])
    page.click("button[data-copy]")
    page.wait_for_function("document.querySelector('.subscribe [role=status]').textContent.startsWith('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == "https://pod.example.com/show/feed.xml"

    page.goto(served["full"] + EPISODE + "#t=62.7")
    _player_ready(page)
    page.wait_for_function("document.querySelector('audio').currentTime > 62")
    page.click("button[data-share]")
    page.wait_for_function("document.querySelector('.actions [role=status]').textContent.includes('1:02')")
    assert page.evaluate("navigator.clipboard.readText()") == served["full"] + EPISODE + "#t=1:02"
    context.close()


def test_a_long_transcript_is_folded_and_searchable(page, served):
    page.goto(served["full"] + EPISODE)
    assert not page.evaluate("document.querySelector('.transcript details').open")
    page.fill("#transcript-search", "BUDGET")
    page.wait_for_function("document.querySelector('.transcript-tools [role=status]').textContent === '1 line matches'")
    assert page.evaluate("document.querySelector('.transcript details').open")
    visible = page.eval_on_selector_all(
        ".transcript p[data-start]", "lines => lines.filter(l => !l.hidden).map(l => l.textContent)"
    )
    assert len(visible) == 1 and "the budget" in visible[0]
    page.fill("#transcript-search", "")
    page.wait_for_function(
        f"[...document.querySelectorAll('.transcript p[data-start]')].filter(l => !l.hidden).length === {sites.TRANSCRIPT_LINES}"
    )
    # following the audio scrolls the line playing now into view, on request only
    page.click("button[data-follow]")
    assert page.get_attribute("button[data-follow]", "aria-pressed") == "true"
    page.evaluate("location.hash = '#t=80'")
    page.wait_for_function(
        "(() => { const line = document.querySelector('.transcript p.current'); if (!line) return false;"
        " const box = line.getBoundingClientRect(); return box.top >= 0 && box.bottom <= innerHeight; })()"
    )


def test_without_javascript_the_page_plays_and_its_links_work(browser, served):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(LIMIT)
    page.goto(served["full"] + EPISODE)
    assert page.get_attribute("audio", "controls") is not None
    media = page.get_attribute("audio", "src")
    assert page.request.get(served["full"] + "episodes/" + media).status == 200
    hrefs = page.eval_on_selector_all("a.seek", "links => links.map(link => link.getAttribute('href'))")
    assert hrefs[:2] == [
        "../media/full-panel.mp3#t=0",
        f"../media/full-panel.mp3#t={pages.media_time(sites.FULL_CHAPTERS[1])}",
    ]
    assert (
        page.is_visible("a.download") and page.is_hidden("button[data-share]") and page.is_hidden(".transcript-tools")
    )
    page.click(".transcript summary")  # folded, and it opens without any script
    assert page.is_visible(".transcript p[data-start]")
    links = {
        link.split("#")[0] for link in page.eval_on_selector_all("a[href]", "links => links.map(link => link.href)")
    }
    for link in sorted(link for link in links if link.startswith(served["full"])):
        assert page.request.head(link).status == 200, link
    context.close()


def test_the_feed_opens_in_a_browser_as_a_page_with_the_subscribe_help(page, served):
    page.goto(served["full"] + "feed.xml")
    assert "podcast feed of Test Panel" in page.text_content("h1")
    assert page.text_content(".subscribe code") == "https://pod.example.com/show/feed.xml"
    assert page.eval_on_selector_all("ul.episodes h3 a", "links => links.map(link => link.getAttribute('href'))") == [
        "episodes/full-panel.html",
        "episodes/short-bonus.html",
    ]
    page.click("ul.episodes h3 a")
    page.wait_for_url("**/" + EPISODE)


def _axe(page) -> list[dict]:
    page.add_script_tag(content=axe_source())
    # Chromium adds a banner of its own to pages made by XSLT (it is removing XSLT): the browser's, not the site's.
    result = page.evaluate("axe.run({exclude: [['xslt-warning-banner']]}, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"]]} for v in result["violations"]
    ]


@pytest.mark.parametrize("show", ["demo", "full", "hostile"])
@pytest.mark.parametrize("path", ["", "episodes/{episode}.html", "subscribe.html", "feed.xml"])
def test_axe_finds_no_violations(page, served, show, path):
    episode = {"demo": "management-vs-leadership", "full": "full-panel", "hostile": "hostile"}[show]
    page.goto(served[show] + path.format(episode=episode))
    assert _axe(page) == []


@pytest.mark.parametrize("show", ["demo", "full", "hostile"])
@pytest.mark.parametrize("path", ["", "episodes/{episode}.html", "subscribe.html"])
def test_no_horizontal_overflow_on_a_320_px_phone(browser, served, show, path):
    episode = {"demo": "management-vs-leadership", "full": "full-panel", "hostile": "hostile"}[show]
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.goto(served[show] + path.format(episode=episode))
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    context.close()


def test_hostile_notes_fire_no_dialog_and_inject_no_element(page, served):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for path in ("", "episodes/hostile.html", "subscribe.html", "feed.xml"):
        page.goto(served["hostile"] + path)
        page.wait_for_function("document.readyState === 'complete'")
        found = page.evaluate(
            """() => ({
              marked: document.querySelectorAll('#pwned, [onerror], [onload], [onmouseover], svg:not(.icon), svg.icon *:not(path, use), img[src=x]').length,
              scripts: [...document.scripts].filter(s => !(s.src.includes('/assets/site.js') || s.type === 'application/ld+json'
                                                     || s.textContent.includes('new EventSource'))).length,
              linked: [...document.querySelectorAll('a[href]')].filter(a => a.protocol === 'javascript:').length,
            })"""
        )
        assert found == {"marked": 0, "scripts": 0, "linked": 0}, path
        for text in page.eval_on_selector_all(
            "script[type='application/ld+json']", "nodes => nodes.map(n => n.textContent)"
        ):
            assert json.loads(text)["@context"] == "https://schema.org"  # still JSON: nothing closed the element
    assert dialogs == []


@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots_for_a_person_to_look_at(browser, served, width):
    SCREENSHOTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(LIMIT)
    for name, url in (
        ("index", served["full"]),
        ("episode", served["full"] + EPISODE),
        ("demo-episode", served["demo"] + "episodes/management-vs-leadership.html"),
    ):
        page.goto(url + "#t=3")
        page.wait_for_function("!document.querySelector('ol.chapters') || document.querySelector('.current')")
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
        assert (SCREENSHOTS / f"{name}-{width}.png").stat().st_size > 10_000
    context.close()


def test_an_open_page_reloads_when_the_notes_change(page, tmp_path):
    show = write_show(tmp_path / "show")
    make_audio(show / "episodes" / "one.wav", seconds=2)
    notes = write_notes(show, "one", "title: Before the edit\ndate: 2026-01-02")
    server = Served(show)
    try:
        page.goto(server.url + "episodes/one.html")
        assert page.text_content("h1").strip() == "Before the edit"
        page.evaluate("window.notReloaded = true")
        notes.write_text(notes.read_text().replace("Before the edit", "After the edit"))
        page.wait_for_function("document.querySelector('h1').textContent.trim() === 'After the edit'")
        assert page.evaluate("window.notReloaded === undefined")  # a new document: the page reloaded itself
    finally:
        assert server.stop() == 0
