"""The player bar, the editions' switch, dark mode and the phone's first screen, in a real browser (Debian's Chromium
through Playwright, against `panelpress serve` of the example show: an explicit panel with a clean edition).

Skipped, with how to install it, where Chromium is missing. Nothing waits a fixed time: each test waits (up to a
generous limit) for what it expects."""

from __future__ import annotations

import pytest

from tests.test_browser import _axe

DEMO = "episodes/management-vs-leadership.html"
LIMIT = 30_000  # ms a browser may take to do what a test waits for, on a busy machine
AUDIO = "document.querySelector('audio[data-player]')"


@pytest.fixture
def context(browser):
    """A fresh browser profile (its own storage: nothing remembered from another test)."""
    made = browser.new_context(viewport={"width": 1280, "height": 900})
    made.set_default_timeout(LIMIT)
    yield made
    made.close()


@pytest.fixture
def page(context):
    return context.new_page()


def _ready(page) -> None:
    page.wait_for_function(f"{AUDIO}.readyState >= 1")


def _near(page, seconds: float, within: float = 0.3) -> None:
    page.wait_for_function(f"{AUDIO}.readyState >= 1 && Math.abs({AUDIO}.currentTime - {seconds}) < {within}")


def _playing(page) -> list[str]:
    """The media elements of the page that play now (their sources)."""
    return page.evaluate("[...document.querySelectorAll('audio, video')].filter(m => !m.paused).map(m => m.currentSrc)")


def test_one_player_whose_bar_replaces_the_browsers_controls(page, served):
    page.goto(served["demo"] + DEMO)
    _ready(page)
    assert page.evaluate("document.querySelectorAll('audio, video').length") == 1
    assert page.get_attribute("audio", "controls") is None and page.is_visible(".bar")
    assert page.is_hidden(".editions-plain")  # the no-script link to the clean edition: the switch does its job
    labels = page.eval_on_selector_all(
        ".bar button, .bar input, .bar select",
        "nodes => nodes.map(n => n.getAttribute('aria-label') || (n.labels[0] && n.labels[0].textContent.trim()) || n.textContent.trim())",
    )
    assert all(labels) and len(labels) == 7, labels  # play, position, back, forward, speed, explicit, clean
    # the chapters are marked on the timeline, each where it starts
    ticks = page.eval_on_selector_all(".marks i", "ticks => ticks.map(t => parseFloat(t.style.left))")
    assert len(ticks) == 4 and ticks[0] == 0 and ticks == sorted(ticks) and ticks[-1] < 100
    # scrolled to the transcript, the one player stays in view, above the text
    page.evaluate("scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_function("scrollY > 0")
    box = page.locator(".bar").bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 900


def test_the_bar_plays_skips_and_changes_the_speed_by_click_and_by_key(page, served):
    page.goto(served["demo"] + DEMO)
    _ready(page)
    page.click(".bar [data-act=play]")
    page.wait_for_function(f"!{AUDIO}.paused")
    assert page.get_attribute(".bar [data-act=play]", "aria-label") == "Pause"
    page.click(".bar [data-act=play]")
    page.wait_for_function(f"{AUDIO}.paused")
    start = page.evaluate(f"{AUDIO}.currentTime")
    page.click(".bar [data-act=forward]")
    _near(page, start + 30)
    page.click(".bar [data-act=back]")
    _near(page, start + 15)
    page.select_option(".bar [data-speed]", "1.5")
    assert page.evaluate(f"{AUDIO}.playbackRate") == 1.5
    page.evaluate("document.activeElement.blur()")  # keys go to the page, not to a control
    page.keyboard.press(">")
    assert page.evaluate(f"{AUDIO}.playbackRate") == 1.75
    page.keyboard.press("j")
    _near(page, start)
    page.keyboard.press("k")
    page.wait_for_function(f"!{AUDIO}.paused")
    page.keyboard.press("k")
    page.wait_for_function(f"{AUDIO}.paused")


def test_switching_editions_keeps_the_position_and_the_choice_is_remembered(page, served):
    page.goto(served["demo"] + DEMO + "#t=20")
    _near(page, 20)
    page.click(".bar [data-edition=clean]")
    page.wait_for_function(f"{AUDIO}.currentSrc.endsWith('.clean.mp3')")
    _near(page, 20)
    assert page.get_attribute(".bar [data-edition=clean]", "aria-pressed") == "true"
    assert page.get_attribute(".bar [data-edition=explicit]", "aria-pressed") == "false"
    # playing, a switch plays on in the other edition, from the same moment
    page.click(".bar [data-act=play]")
    page.wait_for_function(f"!{AUDIO}.paused && {AUDIO}.currentTime > 20.5")
    page.click(".bar [data-edition=explicit]")
    page.wait_for_function(
        f"!{AUDIO}.currentSrc.endsWith('.clean.mp3') && !{AUDIO}.paused && {AUDIO}.currentTime > 20.5"
    )
    assert len(_playing(page)) == 1
    page.click(".bar [data-edition=clean]")
    page.wait_for_function(f"{AUDIO}.currentSrc.endsWith('.clean.mp3') && !{AUDIO}.paused")
    page.reload()
    _ready(page)  # the listener's edition, on this page and the others
    assert page.evaluate(f"{AUDIO}.currentSrc").endswith(".clean.mp3")
    page.goto(served["demo"])
    _ready(page)
    assert page.evaluate(f"{AUDIO}.currentSrc").endswith(".clean.mp3")


def test_a_chapter_click_while_the_clean_edition_plays_moves_the_clean_edition(page, served):
    page.goto(served["demo"] + DEMO)
    _ready(page)
    page.click(".bar [data-edition=clean]")
    page.click(".bar [data-act=play]")
    page.wait_for_function(f"{AUDIO}.currentSrc.endsWith('.clean.mp3') && !{AUDIO}.paused")
    chapter = float(page.get_attribute("ol.chapters li:nth-child(3)", "data-start"))
    page.click("ol.chapters li:nth-child(3) a.seek")
    page.wait_for_function(f"{AUDIO}.currentTime >= {chapter} && !{AUDIO}.paused")
    playing = _playing(page)
    assert len(playing) == 1 and playing[0].endswith(".clean.mp3")
    assert page.text_content(".bar [data-chapter]") == page.get_attribute(".marks i:nth-child(3)", "data-title")
    # a transcript line too; and the links, opened in a new tab, go into the clean edition
    line = page.locator(".transcript p[data-start]").nth(2)
    page.click(".transcript summary") if not page.evaluate(
        "document.querySelector('.transcript details').open"
    ) else None
    start = float(line.get_attribute("data-start"))
    line.locator("a.seek").click()
    page.wait_for_function(f"Math.abs({AUDIO}.currentTime - {start}) < 1.5 && !{AUDIO}.paused")
    assert len(_playing(page)) == 1
    hrefs = page.eval_on_selector_all("a.seek", "links => links.map(l => l.getAttribute('href'))")
    assert hrefs and all(".clean.mp3#t=" in href for href in hrefs)


def test_the_media_session_names_the_episode_its_chapter_and_its_cover(page, served):
    page.goto(served["demo"] + DEMO + "#t=12")
    _near(page, 12)
    page.click(".bar [data-act=play]")
    page.wait_for_function(f"!{AUDIO}.paused")
    page.wait_for_function(
        "navigator.mediaSession.metadata && navigator.mediaSession.metadata.album.startsWith('Management')"
    )
    meta = page.evaluate(
        "(() => { const m = navigator.mediaSession.metadata;"
        " return {title: m.title, artist: m.artist, album: m.album, art: m.artwork.map(a => [a.src, a.sizes])}; })()"
    )
    assert meta["title"] == "Management vs Leadership" and meta["artist"] == "Lead the Panel"
    assert meta["album"] == "Management is about the work, leadership about the people"  # the chapter playing
    assert [sizes for _, sizes in meta["art"]][-2:] == ["400x400", "600x600"]  # the largest last
    assert all(src.startswith(served["demo"]) for src, _ in meta["art"])
    for src, _ in meta["art"]:
        assert page.request.get(src).status == 200


def test_the_position_is_remembered_per_episode_across_reloads_and_pages(page, served):
    page.goto(served["demo"] + DEMO + "#t=24")
    _near(page, 24)
    page.click(".bar [data-act=play]")
    page.wait_for_function(f"{AUDIO}.currentTime > 24.5")
    page.click(".bar [data-act=play]")  # a pause keeps the place
    page.wait_for_function(f"{AUDIO}.paused")
    left = page.evaluate(f"{AUDIO}.currentTime")
    page.goto(served["demo"] + DEMO)
    _near(page, left, 0.2)
    assert page.text_content(".bar [data-time]") == page.evaluate(
        f"(() => {{ const t = Math.floor({left}); return Math.floor(t / 60) + ':' + String(t % 60).padStart(2, '0'); }})()"
    )
    page.goto(served["demo"])  # the index's player of the same episode
    _near(page, left, 0.2)


def test_dark_mode_changes_the_colours(browser, served):
    colours = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme)
        page = context.new_page()
        page.goto(served["demo"] + DEMO)
        colours[scheme] = page.evaluate(
            "(() => { const s = getComputedStyle(document.body), b = getComputedStyle(document.querySelector('.bar'));"
            " return [s.backgroundColor, s.color, b.backgroundColor]; })()"
        )
        if scheme == "dark":
            assert _axe(page) == []  # contrast holds in the dark too
        context.close()
    assert colours["light"][0] == "rgb(255, 255, 255)"
    assert all(a != b for a, b in zip(colours["light"], colours["dark"], strict=True))
    assert _luminance(colours["dark"][0]) < 0.15 < 0.7 < _luminance(colours["dark"][1])


def _luminance(rgb: str) -> float:
    red, green, blue = (int(part) / 255 for part in rgb.removeprefix("rgb(").rstrip(")").split(","))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


@pytest.mark.parametrize("width, height", [(320, 568), (390, 844)])
@pytest.mark.parametrize("path", ["", DEMO])
def test_on_a_phone_the_player_is_on_the_first_screen_and_nothing_overflows(browser, served, width, height, path):
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(served["demo"] + path)
    page.wait_for_selector(".bar:not([hidden])")
    box = page.locator(".bar").bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, box
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # every control of the bar and every subscribe button is a target of at least 24 × 24 px
    small = page.eval_on_selector_all(
        ".bar button, .bar select, .bar input, .apps a, .apps button:not([hidden]), header.site a",
        "nodes => nodes.map(n => [n.outerHTML.slice(0, 60), n.getBoundingClientRect()])"
        ".filter(([, r]) => r.width < 24 || r.height < 24).map(([html]) => html)",
    )
    assert small == []
    context.close()


def test_focus_is_visible_on_every_control_of_the_bar(page, served):
    page.goto(served["demo"] + DEMO)
    _ready(page)
    for selector in (".bar [data-act=play]", ".bar [data-act=back]", ".bar [data-speed]", ".bar [data-edition=clean]"):
        page.focus(selector)
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")  # focused by the keyboard: :focus-visible
        outline = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]; })()"
        )
        assert outline[0] != "none" and outline[1] != "0px", (selector, outline)


def test_nothing_is_fetched_from_another_origin(page, served):
    origin = served["demo"].split("/", 3)[:3]
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    for path in ("", DEMO, "subscribe.html"):
        page.goto(served["demo"] + path)
        page.wait_for_function("document.readyState === 'complete'")
    assert asked and all(url.split("/", 3)[:3] == origin for url in asked), asked


def test_without_javascript_one_player_plays_and_the_clean_edition_is_a_link(browser, served):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(served["demo"] + DEMO)
    assert page.evaluate("document.querySelectorAll('audio, video').length") == 1
    assert page.get_attribute("audio", "controls") is not None and page.is_hidden(".bar")
    clean = page.get_attribute(".editions-plain a", "href")
    assert clean.endswith(".clean.mp3") and page.is_visible(".editions-plain a")
    assert page.request.get(served["demo"] + "episodes/" + clean).status == 200
    context.close()
