"""The render stage is pure: records in, HTML out (Jinja2, autoescaped)."""

from __future__ import annotations

from dataclasses import replace

from pipeline import pages
from pipeline.records import Attachment

from .golden import assert_golden
from .records import published, show_config


def _items():
    return [
        published("second", "Second & <script>alert(1)</script>", 12, explicit=True, season=1, episode=2, body="Hi <b>raw</b> [link](https://example.com) and [bad](javascript:alert(1))"),
        published("first", "First", 3),
    ]


def test_pages_match_golden_files():
    rendered = pages.render(show_config(), _items(), "artwork.jpg")
    assert sorted(rendered) == ["episodes/first.html", "episodes/second.html", "index.html"]
    assert_golden("episode.html", rendered["episodes/second.html"])
    assert_golden("index.html", rendered["index.html"])


def test_titles_and_notes_are_escaped_never_injected():
    page = pages.render(show_config(), _items(), None)["episodes/second.html"]
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<b>raw</b>" not in page and "&lt;b&gt;raw&lt;/b&gt;" in page
    assert 'href="https://example.com"' in page
    assert "href=\"javascript:" not in page


def test_explicit_badge_only_where_flagged():
    rendered = pages.render(show_config(), _items(), None)
    assert 'class="badge explicit"' in rendered["episodes/second.html"]
    assert 'class="badge explicit"' not in rendered["episodes/first.html"]
    assert rendered["index.html"].count('class="badge explicit"') == 1


def test_index_lists_newest_first_with_relative_links():
    index = pages.render(show_config(), _items(), None)["index.html"]
    assert index.index("episodes/second.html") < index.index("episodes/first.html")
    page = pages.render(show_config(), _items(), None)["episodes/first.html"]
    assert 'src="../media/first.mp3"' in page and 'href="../feed.xml"' in page


def test_a_show_can_override_templates(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "index.html").write_text("{% for item in items %}[{{ item.episode.notes.title }}]{% endfor %}")
    rendered = pages.render(show_config(root=tmp_path), _items(), None)
    assert rendered["index.html"] == "[Second &amp; &lt;script&gt;alert(1)&lt;/script&gt;][First]"
    assert "<article>" in rendered["episodes/first.html"]  # not overridden: the packaged one


def test_clock():
    assert pages.clock(44.4) == "0:44"
    assert pages.clock(3725) == "1:02:05"


def test_files_the_notes_link_to_point_at_their_copies_from_any_page():
    item = published("one", "One", 1, body="![Board](board.png) and [p. 2](slides.pdf#page=2)", files=("board.png", "slides.pdf#page=2"))
    item = replace(item, attachments=(
        Attachment("episodes/one/board.png", "image/png", b"png", source="board.png"),
        Attachment("episodes/one/slides.pdf", "application/pdf", b"pdf", source="slides.pdf#page=2"),
    ))  # fmt: skip
    on_its_page = pages.notes_html(item)
    assert 'src="one/board.png"' in on_its_page and 'href="one/slides.pdf#page=2"' in on_its_page
    from_the_index = pages.notes_html(item, root="")  # a template of the site folder's top level
    assert 'src="episodes/one/board.png"' in from_the_index and 'href="episodes/one/slides.pdf#page=2"' in from_the_index
