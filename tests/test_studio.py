"""The studio page for hosts: served by `panelpress serve` to this machine alone, never published; what waits for
review and why, loudness curves measured by ffmpeg and kept in the cache, the limiter's work, talk time, the flagged
words with links that play them in both editions, and downloads. Real speech (espeak-ng), real mastering, the real
server as a process, and Debian's Chromium with axe-core."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from lxml import html as lxml_html

from pipeline import build, layout, plots
from pipeline import config as config_module
from pipeline.audio.ffmpeg import ffmpeg
from pipeline.cli import main
from pipeline.errors import PanelpressError
from pipeline.studio import curves
from pipeline.studio import page as studio
from pipeline.studio.downloads import Downloads
from pipeline.targets.preview import Preview, Server, is_local
from tests.browser import WAIT, Served, vnu_or_skip
from tests.conftest import make_audio, write_notes
from tests.speech import ESPEAK, levels
from tests.test_browser import LIMIT, _axe
from tests.test_clean import _record, _show

SVG = "{http://www.w3.org/2000/svg}"


# --- the charts (pure) -----------------------------------------------------------------------------------------------


def _y_of(svg, value: str) -> float:
    """Where the chart's axis writes `value` (its tick label's baseline, less the 4 units it is lowered by)."""
    (tick,) = [t for t in svg.iter(f"{SVG}text") if t.get("class") == "plot-tick" and t.text == value]
    return float(tick.get("y")) - 4


def test_a_line_chart_draws_its_curve_and_its_rules_where_the_axis_says():
    from lxml import etree

    points = tuple((n * 0.1, -30 + (n % 50) * 0.4) for n in range(3000))
    svg = etree.fromstring(
        plots.line_chart(
            "chart",
            "Loudness <of> a & b",
            "what it shows",
            [plots.Series("after", points, "plot-after")],
            [plots.Rule(-16, "target", "plot-target"), plots.Rule(-1, "ceiling", "plot-ceiling")],
            y_range=(-40.0, 0.0),
        )
    )
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "chart-title chart-desc"
    assert svg.find(f"{SVG}title").text == "Loudness <of> a & b" and svg.find(f"{SVG}desc").text == "what it shows"
    (curve,) = [p for p in svg.iter(f"{SVG}path") if "plot-after" in p.get("class")]
    drawn = re.findall(r"[ML]([0-9.]+),([0-9.]+)", curve.get("d"))
    assert 100 < len(drawn) <= plots.MAX_POINTS  # a long curve is reduced, its peaks kept
    highest = _y_of(svg, "\u221210") + 0.04 * (_y_of(svg, "\u221220") - _y_of(svg, "\u221210"))  # −10.4, its peak
    assert min(float(y) for _, y in drawn) == pytest.approx(highest, abs=0.2)
    (target,) = [line for line in svg.iter(f"{SVG}line") if "plot-target" in line.get("class", "")]
    # −16 lies 6/10 of the way from the −10 tick to the −20 tick
    expected = _y_of(svg, "\u221210") + 0.6 * (_y_of(svg, "\u221220") - _y_of(svg, "\u221210"))
    assert float(target.get("y1")) == pytest.approx(expected, abs=0.2) and target.get("y1") == target.get("y2")


def test_the_chart_module_stays_pure():
    # It draws from numbers alone: no panelpress module, no file, process or network.
    import ast

    tree = ast.parse(Path(plots.__file__).read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= {"__future__", "math", "collections.abc", "dataclasses", "html"}, imported
    assert not any(isinstance(n, ast.Name) and n.id == "open" for n in ast.walk(tree))


def test_bars_for_every_day_since_release_and_apps_most_first():
    from datetime import date

    counted = Downloads.from_report(
        {
            "episodes": [
                {
                    "slug": "ep",
                    "edition": "mp3",
                    "downloads": 5,
                    "by_day": {"2026-03-02": 4, "2026-03-05": 1},
                    "apps": {"Overcast": 2, "Apple Podcasts": 3},
                },
                {
                    "slug": "ep",
                    "edition": "clean",
                    "downloads": 2,
                    "by_day": {"2026-03-02": 2},
                    "apps": {"Overcast": 2},
                },
                {
                    "slug": "other",
                    "edition": "mp3",
                    "downloads": 9,
                    "by_day": {"2026-03-03": 9},
                    "apps": {"Spotify": 9},
                },
            ],
            "feed_fetches": 3,
        }
    )
    assert counted.days("ep", date(2026, 3, 1)) == [
        ("2026-03-01", 0),
        ("2026-03-02", 6),
        ("2026-03-03", 0),
        ("2026-03-04", 0),
        ("2026-03-05", 1),
    ]
    assert counted.by_app("ep") == [("Overcast", 4), ("Apple Podcasts", 3)]
    assert counted.editions("ep") == [("clean", 2), ("mp3", 5)]
    assert not Downloads() and counted


# --- only this machine -----------------------------------------------------------------------------------------------


# --- the curves ----------------------------------------------------------------------------------------------------


def test_a_curve_is_the_meters_and_tracks_are_measured_as_they_sound_together(tmp_path):
    one = make_audio(tmp_path / "a.wav", seconds=6, channels=1, volume_db=-10)
    found = curves.curve([one], tmp_path / "cache")
    assert len(found.short) == len(found.peaks) == pytest.approx(60, abs=1)  # every 100 ms
    steady = found.short[35:]  # past the first 3 s window
    assert max(steady) - min(steady) < 0.2 and abs(steady[-1] - found.integrated) < 0.3
    assert abs(max(found.peaks) - found.true_peak) < 0.3
    both = curves.curve([one, make_audio(tmp_path / "b.wav", seconds=6, channels=1, volume_db=-10)], tmp_path / "cache")
    assert both.integrated == pytest.approx(found.integrated + 6.0, abs=0.2)  # the same sine twice: twice the amplitude


def test_the_meter_measures_in_the_background_and_keeps_what_it_measured(tmp_path):
    audio = make_audio(tmp_path / "a.wav", seconds=4, channels=1)
    meter = curves.Meter()
    assert meter.ask([audio], tmp_path / "cache") is None  # put in line: the page does not wait
    assert meter.idle(WAIT)
    assert meter.ask([audio], tmp_path / "cache") == curves.curve([audio], tmp_path / "cache")
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not audio")
    assert meter.ask([broken], tmp_path / "cache") is None
    assert meter.idle(WAIT)
    with pytest.raises(PanelpressError, match=r"broken\.wav"):
        meter.ask([broken], tmp_path / "cache")


# --- only this machine -----------------------------------------------------------------------------------------------


def test_only_loopback_clients_are_local():
    assert all(is_local(a) for a in ("127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"))
    assert not any(is_local(a) for a in ("192.0.2.2", "10.0.0.1", "fd00::2", "::ffff:192.0.2.2", "", "localhost"))


def _outward_address() -> str | None:
    """An address of this machine that is not loopback (the one its default route leaves from), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: a UDP connect only picks the route
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if is_local(address) or address == "0.0.0.0" else address


def _status(host: str, port: int, path: str, name: str = "") -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.request("GET", path, headers={"Host": name} if name else {})
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def test_the_studio_answers_this_machine_alone_whatever_the_server_listens_on(tmp_path):
    from tests.test_serve import _plan

    address = _outward_address()
    if address is None:
        pytest.skip("this machine has no address but loopback to ask from")
    preview = Preview("https://example.org/")
    preview.apply(_plan(tmp_path))
    preview.studio = lambda query: b"<!doctype html><title>s</title><p>the drafts</p></body>"
    outward = Server(preview, 0, host=address).start()
    local = Server(preview, 0).start()
    try:
        status, body = _status(address, outward.httpd.server_address[1], layout.PREVIEW_STUDIO)
        assert status == 403 and b"the drafts" not in body and b"only on this machine" in body
        assert _status(address, outward.httpd.server_address[1], "/")[0] == 200  # the site itself is served
        status, body = _status("127.0.0.1", local.httpd.server_address[1], layout.PREVIEW_STUDIO)
        assert status == 200 and b"the drafts" in body
        for name in ("localhost", "[::1]:8000", "127.0.0.1"):
            assert _status("127.0.0.1", local.httpd.server_address[1], layout.PREVIEW_STUDIO, name)[0] == 200
        # a page of another site whose name is made to lead here (DNS rebinding) is refused
        status, body = _status("127.0.0.1", local.httpd.server_address[1], layout.PREVIEW_STUDIO, "evil.example:80")
        assert status == 403 and b"the drafts" not in body
    finally:
        outward.stop()
        local.stop()


# --- a show with every kind of episode ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def studio_show(tmp_path_factory):
    """A mastered show: an explicit episode with a clean edition (one flagged word, silenced), a calm one, a draft
    (notes with `draft: true`) and one whose transcript is a draft panelpress made; built once, so its site exists;
    then a recording that cannot be read."""
    if ESPEAK is None:
        pytest.skip("espeak-ng is not installed: apt-get install espeak-ng (.ci/run does)")
    folder = tmp_path_factory.mktemp("studio") / "show"
    pieces = _show(folder, "mute", normalize=True)
    shutil.copy(folder / "episodes" / "calm.wav", folder / "episodes" / "rough.wav")
    write_notes(folder, "rough", "title: Rough <cut>\ndate: 2026-03-01\ndraft: true")
    shutil.copy(folder / "episodes" / "calm.wav", folder / "episodes" / "review.wav")
    write_notes(folder, "review", "title: Needs review\ndate: 2026-02-15\npanelists: [Ann, Bo]")
    (folder / "episodes" / "review.vtt").write_text(
        "WEBVTT\n\nNOTE draft: true\n\n00:00:00.000 --> 00:00:02.000\n<v Ann>Welcome to the panel.\n"
    )
    assert main(["build", "--show", str(folder)]) == 0
    # and, since that build, a recording that cannot be read
    (folder / "episodes" / "broken.wav").write_bytes(b"RIFF....WAVEfmt not really audio")
    write_notes(folder, "broken", "title: Broken\ndate: 2026-02-20")
    return folder, pieces


@pytest.fixture(scope="module")
def studio_served(studio_show):
    folder, _ = studio_show
    served = Served(folder)
    line = served.wait_for("The studio, for you alone: ")
    url = line.split(": ", 1)[1]
    _measured(url)
    yield served, url
    assert served.stop() == 0, "".join(served.output)


def _measured(url: str) -> bytes:
    """The studio page once the server has measured every curve (it answers at once, and measures meanwhile)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        body = _get(url)
        if b"<body data-measuring=" not in body:
            return body
        time.sleep(0.2)  # a poll of the server's background work, not a guess of how long it takes
    raise AssertionError(f"the studio was still measuring after {WAIT} s:\n{body.decode()[-3000:]}")


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as answer:
        return answer.read()


def test_the_studio_lists_what_waits_and_why(studio_served):
    _, url = studio_served
    page = lxml_html.fromstring(_get(url))
    waiting = {
        item.get("data-slug"): [b.text_content() for b in item.findall(".//li")]
        for item in page.find_class("waiting-episode")
    }
    assert set(waiting) == {"rough", "review", "broken"}, waiting
    (failed,) = waiting["broken"]
    assert (
        failed.startswith("the build failed: episodes/broken.wav: ") and "—" in failed
    )  # the file, the problem, the fix
    assert waiting["rough"] == ["draft: review rough.md, then remove `draft: true`"]
    (blocker,) = waiting["review"]
    assert "review.vtt" in blocker and "waiting for your review" in blocker and "draft note, line 3" in blocker
    assert "Rough <cut>" in page.text_content()  # as text, never as markup
    (problem,) = page.xpath("//section[@id='ep-broken']//p[@class='problem']")
    assert "could not be measured: episodes/broken.wav: ffmpeg could not process it" in problem.text_content()
    assert "Run panelpress stats LOG… to see downloads." in " ".join(page.text_content().split())


def test_the_loudness_chart_has_the_curves_the_target_and_the_ceiling(studio_served):
    _, url = studio_served
    page = lxml_html.fromstring(_get(url))
    (svg,) = page.xpath("//svg[@id='loudness-swear']")
    classes = [p.get("class") for p in svg.iter("path")]
    assert "plot-series plot-before" in classes and "plot-series plot-after" in classes
    after = next(p for p in svg.iter("path") if p.get("class") == "plot-series plot-after")
    assert len(re.findall(r"[ML]", after.get("d"))) > 40  # 100 ms apart over seconds of speech
    rules = {line.get("class"): line for line in svg.iter("line") if "plot-rule" in (line.get("class") or "")}
    assert set(rules) == {"plot-rule plot-target", "plot-rule plot-ceiling"}
    ticks = {t.text: float(t.get("y")) - 4 for t in svg.iter("text") if t.get("class") == "plot-tick"}
    at = ticks["\u221210"] + 0.6 * (ticks["\u221220"] - ticks["\u221210"])
    assert float(rules["plot-rule plot-target"].get("y1")) == pytest.approx(at, abs=0.2)
    assert float(rules["plot-rule plot-ceiling"].get("y1")) == pytest.approx(
        ticks["0"] + 0.1 * (ticks["\u221210"] - ticks["0"]), abs=0.2
    )
    assert "target \u221216 LUFS" in svg.text_content() and "\u22121 dBTP" in svg.text_content()
    caption = svg.getparent().find("figcaption").text_content()
    assert "After mastering: \u221216" in caption  # the text says what the chart shows


def test_the_limiter_and_talk_time_are_shown_with_their_numbers(studio_served, studio_show):
    folder, _ = studio_show
    _, url = studio_served
    page = lxml_html.fromstring(_get(url))
    (section,) = page.xpath("//section[@id='ep-swear']")
    report = _record(folder).report
    rows = {
        tr.find("th").text_content(): tr.find("td").text_content()
        for tr in section.xpath(".//table[caption='What mastering did to the level']//tr")
    }
    assert rows["limiter: most gain reduction"] == f"{report.limiter_max:.1f} dB"
    assert section.xpath(".//svg[@id='limiter-swear']")
    talk = {
        tr.find("th").text_content(): tr.findall("td")[0].text_content()
        for tr in section.xpath(".//table[contains(caption, 'Talk time')]/tbody/tr")
    }
    assert set(talk) == {"Ann", "Bo"}  # the transcript's speakers


def test_a_flagged_word_plays_where_it_is_said_in_both_editions(studio_served, studio_show):
    folder, pieces = studio_show
    served, url = studio_served
    page = lxml_html.fromstring(_get(url))
    item = _record(folder)
    (flag,) = item.flagged
    (row,) = page.xpath("//section[@id='ep-swear']//tr[@class='flag']")
    explicit = row.xpath(".//a[contains(@class, 'explicit')]")[0].get("href")
    clean = row.xpath(".//a[contains(@class, 'clean')]")[0].get("href")
    start, end = flag.start + item.offset, flag.end + item.offset
    window = f"#t={max(0, start - studio.PAD):.2f},{end + studio.PAD:.2f}"
    prefix = layout.path_prefix(config_module.load(folder).site_url)
    assert explicit == f"{prefix}{item.media_path}{window}"
    assert clean == f"{prefix}{item.clean.media_path}{window}"
    # Both are the preview's own files, and at that time the explicit edition says the word and the clean one does not.
    origin = served.url.split(prefix, 1)[0] if prefix != "/" else served.url.rstrip("/")
    word = next(p for p in pieces if p.text == "fuck")
    heard = {}
    for name, href in (("explicit", explicit), ("clean", clean)):
        path = Path(str(folder)) / f"{name}.mp3"
        path.write_bytes(_get(origin + href.split("#")[0]))
        a, b = (float(x) for x in href.split("#t=")[1].split(","))
        assert a <= word.start + item.offset and word.end + item.offset <= b
        heard[name] = levels(path, [(word.start + item.offset, word.end + item.offset)], ffmpeg())[0]
    assert heard["explicit"] > -50 and heard["clean"] <= heard["explicit"] - 30, heard


def test_a_back_catalogue_shows_the_newest_in_full_and_links_the_others(studio_show, studio_served):
    folder, _ = studio_show
    _, url = studio_served
    settings = config_module.load(folder)
    page = studio.gather(settings, build.preview(settings), Downloads(), "/", recent=1)
    # what waits (a draft, a transcript to review) and the newest published one in full; the older one linked
    assert [view.slug for view in page.views] == ["broken", "rough", "review", "swear"]
    assert [slug for slug, _, _ in page.older] == ["calm"]
    doc = lxml_html.fromstring(studio.render(page))
    assert doc.xpath("//section[@class='older']//a/@href") == ["?episode=calm"]
    alone = lxml_html.fromstring(_get(url + "?episode=calm"))
    assert alone.xpath("//section[@class='episode']/@id") == ["ep-calm"] and alone.xpath("//svg[@id='loudness-calm']")
    assert "No episode is named" in _get(url + "?episode=nothing").decode()


def test_the_studio_is_never_published_nor_in_the_manifest(studio_show, studio_served):
    folder, _ = studio_show
    site = folder / "public"
    names = [str(p.relative_to(site)) for p in site.rglob("*")]
    assert not [n for n in names if "studio" in n or n.startswith(".panelpress/")], names
    manifest = (site / layout.MANIFEST).read_text()
    assert "studio" not in manifest
    for page in site.rglob("*.html"):
        assert "panelpress/studio" not in page.read_text()
    result = build.preview(config_module.load(folder))
    assert not [rel for rel in result.plan.files if "studio" in rel]


def test_a_second_look_measures_nothing_again(studio_show, monkeypatch):
    folder, _ = studio_show
    settings = config_module.load(folder)
    result = build.preview(settings)
    first = studio.render(studio.gather(settings, result, Downloads(), "/", only="swear"))  # measured now, if need be
    kept = sorted((settings.cache_dir / curves.FOLDER).glob("*.json"))
    assert len(kept) >= 2  # its recording and its mastered file
    assert b'id="loudness-swear"' in first

    def no_ffmpeg(*args, **kwargs):
        raise AssertionError("ffmpeg ran for curves already in the cache")

    monkeypatch.setattr(curves, "run_ffmpeg", no_ffmpeg)
    monkeypatch.setattr(curves, "_read", {})  # as a new `serve` finds them: in the cache folder alone
    assert studio.Studio(settings, result, "/")("episode=swear") == first


def _counted(by_day: dict[str, int], apps: dict[str, int]) -> Downloads:
    """What `stats` would report of the explicit episode's MP3."""
    row = {"slug": "swear", "edition": "mp3", "downloads": sum(by_day.values()), "by_day": by_day, "apps": apps}
    return Downloads.from_report({"episodes": [row]})


def test_downloads_from_stats_are_drawn_per_day_and_per_app(studio_show):
    folder, _ = studio_show
    settings = config_module.load(folder)
    result = build.preview(settings)
    counted = _counted({"2026-02-01": 5, "2026-02-03": 2}, {"Overcast": 4, "Pocket Casts": 3})
    page = lxml_html.fromstring(studio.render(studio.gather(settings, result, counted, "/")))
    (days,) = page.xpath("//svg[@id='days-swear']")
    assert len(list(days.iter("rect"))) == 3  # 1, 2 and 3 February: every day since release
    (apps,) = page.xpath("//svg[@id='apps-swear']")
    assert "Overcast: 4" in apps.find("desc").text
    assert "to see downloads" not in page.text_content()
    assert "No downloads of this episode counted yet." in page.xpath("//section[@id='ep-calm']")[0].text_content()


def test_the_studio_passes_the_nu_html_checker(studio_show, studio_served, tmp_path):
    command = vnu_or_skip()
    folder, _ = studio_show
    _, url = studio_served
    settings = config_module.load(folder)
    pages = {
        "served.html": _get(url),
        "downloads.html": studio.render(
            studio.gather(settings, build.preview(settings), _counted({"2026-02-01": 3}, {"Overcast": 3}), "/")
        ),
    }
    for name, body in pages.items():
        (tmp_path / name).write_bytes(body)
    checked = subprocess.run(
        [*command, "--errors-only", "--format", "json", *(str(tmp_path / name) for name in pages)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    messages = json.loads(checked.stderr or '{"messages": []}')["messages"]
    assert [(m.get("url", "").rsplit("/", 1)[-1], m.get("lastLine"), m["message"]) for m in messages] == []


# --- in a browser ----------------------------------------------------------------------------------------------------


@pytest.fixture
def tab(browser):
    """A fresh browser page of its own context."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(LIMIT)
    yield opened
    context.close()


def test_axe_finds_no_violations_in_the_studio(tab, studio_served):
    _, url = studio_served
    tab.goto(url)
    assert tab.locator("svg#loudness-swear").is_visible()
    assert _axe(tab) == []


def test_axe_finds_no_violations_with_downloads_drawn(tab, studio_show, studio_served):
    folder, _ = studio_show
    _served, url = studio_served
    settings = config_module.load(folder)
    counted = _counted({"2026-02-01": 5, "2026-02-09": 2}, {"Overcast": 4, "AntennaPod": 3})
    body = studio.render(studio.gather(settings, build.preview(settings), counted, "/"))
    tab.route("**/studio-with-downloads", lambda route: route.fulfill(body=body, content_type="text/html"))
    tab.goto(url.replace(layout.PREVIEW_STUDIO, "/studio-with-downloads"))
    assert tab.locator("svg#days-swear").is_visible()
    assert _axe(tab) == []


def test_no_horizontal_overflow_on_a_320_px_phone(browser, studio_served):
    _, url = studio_served
    context = browser.new_context(viewport={"width": 320, "height": 640})
    try:
        phone = context.new_page()
        phone.goto(url)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 320
    finally:
        context.close()


def test_a_play_link_plays_the_word_in_the_clean_edition(tab, studio_served):
    _, url = studio_served
    tab.goto(url)
    link = tab.locator("#ep-swear a.play.clean")
    start = float(link.get_attribute("href").split("#t=")[1].split(",")[0])
    link.click()
    tab.wait_for_function(
        "([at]) => { const p = document.getElementById('ep-swear-player'); return p.currentSrc.includes('.clean.') && p.currentTime > at; }",
        arg=[start],
    )


def test_the_studio_without_javascript_plays_through_its_links(browser, studio_served):
    _, url = studio_served
    context = browser.new_context(java_script_enabled=False)
    try:
        plain = context.new_page()
        plain.goto(url)
        assert plain.locator("svg#loudness-swear").is_visible()  # the charts need no script
        link = plain.locator("#ep-swear a.play.explicit")
        href = link.get_attribute("href")
        link.click()  # the link itself: the browser opens the audio at the word
        plain.wait_for_url(lambda address: address.endswith(href))
    finally:
        context.close()


def test_hostile_notes_inject_nothing_into_the_studio(tab, site_shows, previews):
    settings = config_module.load(site_shows["hostile"])
    body = studio.render(studio.gather(settings, previews["hostile"], Downloads(), "/"))
    dialogs = []
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    tab.set_content(body.decode())
    assert dialogs == []
    assert tab.evaluate("document.querySelectorAll('[onerror], [onmouseover], script:not(:last-of-type)').length") == 0


def test_a_missing_studio_or_a_broken_one_says_so(tmp_path):
    from tests.test_serve import _plan

    preview = Preview("https://example.org/")
    preview.apply(_plan(tmp_path))
    server = Server(preview, 0).start()
    port = server.httpd.server_address[1]
    try:
        assert _status("127.0.0.1", port, layout.PREVIEW_STUDIO)[0] == 503

        def broken(query: str) -> bytes:
            raise PanelpressError(tmp_path / "x.wav", "cannot be read", "put it back")

        preview.studio = broken
        status, body = _status("127.0.0.1", port, layout.PREVIEW_STUDIO)
        assert status == 500 and b"cannot be read" in body and b"put it back" in body
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/nothing-here", timeout=30)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", layout.PREVIEW_STUDIO.rstrip("/"))
        answer = connection.getresponse()
        assert answer.status == 302 and answer.getheader("Location") == layout.PREVIEW_STUDIO
        connection.close()
    finally:
        server.stop()
