"""Assemble is the pure reduce: records, settings, the ledger and what the build read → the site plan.

It needs no folder: the show folder of these tests does not exist, and the test fails if assemble opens, lists,
writes or removes any file while it runs (an audit hook watches the interpreter for it).
"""

from __future__ import annotations

import base64
import hashlib
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from pipeline import layout
from pipeline.records import Attachment, PlanFile
from pipeline.show import assemble, ledger, pages
from tests.golden import assert_golden
from tests.records import published, show_config

NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
TEMPLATES = pages.templates(None)  # the packaged templates, read here: assemble is given them
ICONS = (("favicon.ico", b"ico"), ("apple-touch-icon.png", b"png"), ("cover-300.jpg", b"jpg"))
# What touching the disk looks like to the interpreter (PEP 578 audit events).
DISK_EVENTS = (
    "open",
    "os.listdir",
    "os.scandir",
    "os.mkdir",
    "os.remove",
    "os.rename",
    "os.rmdir",
    "shutil.copyfile",
    "os.chmod",
    "os.utime",
)
_watching: list[str] = []
_warm: list[bool] = []


def _audit(event: str, args: tuple) -> None:
    if _watching and event in DISK_EVENTS:
        _watching.append(f"{event}{args[:1]}")


sys.addaudithook(_audit)


def _assemble(config, episodes, book=None, inputs=None) -> assemble.ShowPlan:
    """Assemble, failing on any file it touches. (A first call, unwatched, loads what Python loads once: feedgen's
    extension modules and panelpress's own fingerprint, cached for the life of the process. Data is read on every
    call, so the watched call would see it.)"""
    inputs = inputs or assemble.Inputs(TEMPLATES, "a" * 64, 1400, ICONS)
    if not _warm:
        assemble.assemble(config, episodes, book or ledger.Ledger(), NOW, inputs)
        _warm.append(True)
    _watching[:] = ["watching"]
    try:
        plan = assemble.assemble(config, episodes, book or ledger.Ledger(), NOW, inputs)
    finally:
        touched, _watching[:] = _watching[1:], []
    assert not touched, f"assemble touched the disk: {touched}"
    return plan


def _episodes() -> list[assemble.Episode]:
    second = published("second", "Second & <last>", 12, explicit=True, season=1, episode=2)
    vtt = b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Ann Host>Hello.\n"
    segments = b'{"version": "1.0.0", "segments": [{"startTime": 1.0, "endTime": 2.0, "speaker": "Ann Host", "body": "Hello."}]}'
    second = replace(
        second,
        attachments=(
            Attachment(
                layout.transcript("second", "vtt"),
                layout.VTT_TYPE,
                vtt,
                rel="captions",
                language="en",
                sha256=hashlib.sha256(vtt).hexdigest(),
            ),
            Attachment(
                layout.transcript("second", "json"),
                layout.TRANSCRIPT_JSON_TYPE,
                segments,
                language="en",
                sha256=hashlib.sha256(segments).hexdigest(),
            ),
        ),
    )
    first = published("first", "First", 3, body="Last time: [the second](second.md).", mentions=("second.md",))
    return [assemble.Episode(second, "key-second"), assemble.Episode(first, "key-first")]


def _listing(plan: assemble.ShowPlan) -> str:
    files = {**plan.site.files, plan.site.feed_path: None}
    lines = [
        f"{rel}\t{hashlib.sha256(plan.site.feed).hexdigest() if file is None else file.sha256}"
        for rel, file in sorted(files.items())
    ]
    return "\n".join(lines) + "\n"


def test_the_plan_of_a_show_with_no_folder_matches_its_golden_listing():
    config = show_config(root=Path("/nowhere/show"), artwork="cover.jpg")
    plan = _assemble(config, _episodes())
    assert_golden("assemble-plan.txt", _listing(plan))
    assert (
        plan.site.feed_path == layout.FEED_FILE
        and plan.site.files[layout.artwork(config.artwork_path)].content == config.artwork_path
    )
    parsed = feedparser.parse(plan.site.feed)
    assert [entry.title for entry in parsed.entries] == ["Second & <last>", "First"]
    assert sorted(plan.ledger.episodes) == ["first", "second"]
    page = plan.site.files["episodes/second.html"].content.decode()
    assert "Hello." in page, "the transcript the record carries is on its page"
    assert 'href="second.html"' in plan.site.files["episodes/first.html"].content.decode(), (
        "a link to other notes points at their page"
    )


EMPTY = assemble.Inputs(TEMPLATES, "a" * 64, 1400, ICONS)


def _given(plan: assemble.ShowPlan, templates: dict[str, str] = TEMPLATES) -> assemble.Inputs:
    """What a build gives the next assemble of what this plan rendered, as the cache gives it back: its texts, and its
    episode pages as files."""
    texts = {key: text if isinstance(text, str) else text.decode() for key, text in plan.html.items()}
    return assemble.Inputs(templates, "a" * 64, 1400, ICONS, texts, dict(plan.pages))


def _made(plan: assemble.ShowPlan, inputs: assemble.Inputs) -> set[str]:
    """The keys of what this plan rendered anew, given these inputs."""
    return set(plan.html) | {key for key in plan.pages if key not in inputs.pages}


def test_html_rendered_before_is_reused_and_every_text_used_is_returned():
    config = show_config(root=Path("/nowhere/show"))
    first = _assemble(config, _episodes())
    assert set(first.html) == first.used and first.pages, "nothing was given: every text used was made"
    subscribe = first.html[next(key for key in first.used if key.startswith("subscribe:"))]
    assert subscribe is first.site.files[layout.SUBSCRIBE_PAGE].content, "a text made is held once, as its file"
    page = next(key for key, file in first.pages.items() if file is first.site.files["episodes/second.html"])
    given = _given(first)
    marked = replace(
        given,
        rendered={
            key: text.replace("Second &amp; &lt;last&gt;", "FROM THE MEMO") for key, text in given.rendered.items()
        },
        pages={**given.pages, page: PlanFile(b"THE KEPT PAGE", "b" * 64)},
    )
    again = _assemble(config, _episodes(), inputs=marked)
    assert again.site.files["episodes/second.html"].content == b"THE KEPT PAGE"
    assert b"FROM THE MEMO" in again.site.files[layout.INDEX_PAGE].content, "the index is made of the kept rows"
    assert again.used == first.used and not _made(again, marked), "all was given: every text was used, none made"


def test_the_same_inputs_make_the_same_plan_and_templates_change_it():
    config = show_config(root=Path("/nowhere/show"))
    one, two = _assemble(config, _episodes()), _assemble(config, _episodes())
    assert one.site.digest == two.site.digest and one.site.feed == two.site.feed
    own = {**TEMPLATES, "site.css": "body { color: rebeccapurple; }\n"}
    restyled = _assemble(config, _episodes(), inputs=assemble.Inputs(own, "a" * 64, 1400, ICONS))
    assert restyled.site.digest != one.site.digest
    assert restyled.site.files[layout.STYLESHEET].content == b"body { color: rebeccapurple; }\n"


def test_the_audit_hook_sees_a_file_being_opened(tmp_path):
    _watching[:] = ["watching"]
    try:
        (tmp_path / "x").write_text("x")
    finally:
        touched, _watching[:] = _watching[1:], []
    assert touched, "the check that assemble touches no file could not fail"


@pytest.mark.parametrize("engine", ["hugo", "jekyll"])
def test_a_blogs_posts_are_in_the_plan_too(engine):
    from pipeline.config import BlogSettings

    config = replace(
        show_config(root=Path("/nowhere/show"), site_url="https://blog.example.com/podcast/"),
        blog=BlogSettings(engine=engine),
    )
    plan = _assemble(config, _episodes())
    assert any(rel.endswith("-second.md") or rel.endswith("/second.md") for rel in plan.site.blog), sorted(
        plan.site.blog
    )
    assert "episodes/second.html" not in plan.site.files, "on a blog, the post is the episode's page"


def _retitled(episode: assemble.Episode, title: str) -> assemble.Episode:
    """The episode with another title: another record, so another key (as the cache gives it)."""
    notes = replace(episode.item.episode.notes, title=title)
    item = replace(episode.item, episode=replace(episode.item.episode, notes=notes))
    return assemble.Episode(item, f"{episode.key}-{title}")


def _same_site(one: assemble.ShowPlan, two: assemble.ShowPlan) -> bool:
    return one.site.feed == two.site.feed and _listing(one) == _listing(two)


def test_an_edit_renders_its_own_episode_alone_and_publishes_what_a_cold_assemble_does():
    config = show_config(root=Path("/nowhere/show"))
    first = _assemble(config, _episodes())
    assert first.used == set(first.html) and first.pages, "nothing was given: everything was rendered"
    kept = _given(first)
    again = _assemble(config, _episodes(), inputs=kept)
    assert not _made(again, kept) and _same_site(again, first), "nothing changed: nothing is rendered"

    second, other = _episodes()
    edited = [_retitled(second, "Second, retitled"), other]
    warm = _assemble(config, edited, inputs=kept)
    # Its page, its feed item and its row of the index, and nothing of the other episode (the index page itself lists
    # every episode: it is made anew on every assemble, from the kept rows).
    assert sorted(key.split(":")[0] for key in _made(warm, kept)) == ["item", "page", "row"]
    assert not _made(warm, kept) & _made(first, EMPTY)
    assert b"Second, retitled" in warm.site.files["episodes/second.html"].content
    assert warm.site.files["episodes/first.html"] == first.site.files["episodes/first.html"]
    assert [entry.title for entry in feedparser.parse(warm.site.feed).entries] == ["Second, retitled", "First"]
    assert _same_site(warm, _assemble(config, edited)), "what was kept is byte for byte what a cold assemble makes"


def test_compiled_templates_are_kept_and_a_damaged_one_is_compiled_again():
    config = show_config(root=Path("/nowhere/show"))
    first = _assemble(config, _episodes())
    compiled = {key: text for key, text in first.html.items() if key.startswith("template:")}
    assert compiled, "a cold assemble compiles the templates it renders with, and keeps their code"
    second, other = _episodes()
    edited = [_retitled(second, "Second, retitled"), other]
    cold = _assemble(config, edited)

    # Damaged code: not base64; another version's (its magic is not this Jinja2's); cut short.
    def coded(data: bytes) -> str:
        return base64.b64encode(data).decode()

    for damage in (
        lambda _: "not base64!",
        lambda text: coded(b"j1" + base64.b64decode(text)[2:]),
        lambda text: coded(base64.b64decode(text)[:1000]),
    ):
        kept = _given(first)
        given = {key: damage(text) for key, text in compiled.items()}
        damaged = replace(kept, rendered={**kept.rendered, **given})
        warm = _assemble(config, edited, inputs=damaged)
        again = {key for key in _made(warm, damaged) if key.startswith("template:")}
        assert again and again <= set(compiled), "what the edit renders with is compiled again, and kept again"
        assert _same_site(warm, cold)


def test_a_setting_or_a_template_renders_again_all_that_shows_it():
    config = show_config(root=Path("/nowhere/show"))
    first = _assemble(config, _episodes())
    kept = _given(first)

    # An analytics prefix is in every item's enclosure and on no page: the items are made again, no page is.
    measured = replace(config, deploy=replace(config.deploy, prefix="https://op3.dev/e/"))
    prefixed = _assemble(measured, _episodes(), inputs=kept)
    assert sorted(key.split(":")[0] for key in _made(prefixed, kept)) == ["item", "item"]
    assert b'url="https://op3.dev/e/' in prefixed.site.feed
    assert _same_site(prefixed, _assemble(measured, _episodes()))

    # A template of the show's own: every page (and the index's rows, kept by the same templates) is made again with
    # it, no feed item is.
    page = TEMPLATES["episode.html"]
    at = page.rindex("{% endblock %}")
    own = {**TEMPLATES, "episode.html": page[:at] + "<!-- the show's own -->\n" + page[at:]}
    restyled = _assemble(config, _episodes(), inputs=_given(first, own))
    made = {key.split(":")[0] for key in _made(restyled, kept)}
    assert made == {"page", "row", "subscribe", "feed-style", "template"}, "and the changed template compiled anew"
    assert all(
        b"the show's own" in restyled.site.files[f"episodes/{slug}.html"].content for slug in ("first", "second")
    )
    assert restyled.site.feed == first.site.feed
    fresh = _assemble(config, _episodes(), inputs=assemble.Inputs(own, "a" * 64, 1400, ICONS))
    assert _same_site(restyled, fresh)

    # The show's title is on every page and in the channel, not in an item.
    renamed = replace(config, show=replace(config.show, title="Another Show"))
    retitled = _assemble(renamed, _episodes(), inputs=kept)
    assert {key.split(":")[0] for key in _made(retitled, kept)} == {"page", "row", "subscribe", "feed-style"}
    assert _same_site(retitled, _assemble(renamed, _episodes()))
