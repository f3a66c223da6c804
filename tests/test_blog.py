"""Episodes as posts of the host's blog ([blog]), built with the real engines: Hugo and Jekyll (Debian packages),
Pelican (pip), Eleventy (npm). One show is made per engine (its audio is a few seconds of sine); each engine's
tests skip, saying how to install it, where it is missing."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import podcastparser
import pytest
from lxml import html as lxml_html

from pipeline import cli
from pipeline import config as config_module
from pipeline.errors import ConfigError
from tests.blogs import (
    BLOG_URL,
    ENGINES,
    ORDINARY_TITLE,
    SHOW_TITLE,
    SITE_URL,
    blog_show,
    build_blog,
    built_files,
    live_markup,
    make_blog,
)
from tests.conftest import checksums, make_audio, write_notes

OLD, NEW = "old-panel", "new-panel"
VTT = "WEBVTT\n\n00:00.000 --> 00:01.500\n<v Ann Host>Welcome to the budget panel.\n\n00:01.500 --> 00:03.000\n<v Bo Guest>Thanks for having me.\n"


def _episodes(show: Path) -> None:
    make_audio(show / "episodes" / f"{OLD}.wav", seconds=3)
    write_notes(
        show,
        OLD,
        "title: The old panel\ndate: 2026-01-05T10:00:00Z\nsummary: An older conversation.",
        body="The first one.",
    )
    make_audio(show / "episodes" / f"{NEW}.wav", seconds=4)
    (show / "episodes" / f"{NEW}.vtt").write_text(VTT, encoding="utf-8")
    write_notes(
        show,
        NEW,
        "title: Budgets {{ and }} {% raw %} teams\ndate: 2026-02-03T10:00:00Z\nexplicit: true\nsummary: Three panelists on budgets.\n"
        "chapters:\n  - start: 0\n    title: Welcome\n  - start: 2\n    title: Budget talk",
        body=f"We argue about *budgets*, as [last time]({OLD}.md#end).\n\n```\nbudget = people * time\n\nmore {{{{ code }}}}\n```\n",
    )


def _build(show: Path) -> int:
    return cli.main(["build", "--show", str(show), "--no-notify"])


@pytest.fixture(scope="module", params=sorted(ENGINES))
def built(request, tmp_path_factory):
    """A blog of the engine with one ordinary post, a show published into it twice, and the blog built by its engine."""
    engine = ENGINES[request.param]
    if engine.command() is None:
        pytest.skip(f"{engine.name} is not installed: {engine.install}")
    root = tmp_path_factory.mktemp(engine.name)
    blog = make_blog(root / "blog", engine)
    show = blog_show(root / "show", blog, engine.name)
    _episodes(show)
    assert _build(show) == 0
    before = checksums(blog)
    assert _build(show) == 0  # nothing changed: nothing written
    assert checksums(blog) == before
    return engine, blog, show, build_blog(blog, engine)


def _page(site: Path, url: str) -> Path:
    """The built file a URL of the blog is served from."""
    assert url.startswith(BLOG_URL), url
    rel = urlsplit(url).path.removeprefix("/")
    path = site / rel
    return path / "index.html" if url.endswith("/") else path


def _feed(site: Path):
    data = (site / "podcast" / "feed.xml").read_bytes()
    return feedparser.parse(data), podcastparser.parse(SITE_URL + "feed.xml", io.BytesIO(data))


def test_posts_are_in_the_blogs_list_and_feed_in_date_order(built):
    engine, _, _, site = built
    parsed, _ = _feed(site)
    links = {entry.title: entry.link for entry in parsed.entries}
    index = (site / engine.index).read_text(encoding="utf-8")
    titles = [ORDINARY_TITLE, "The old panel", "Budgets {{ and }} {% raw %} teams"]
    listed = [a.text_content() for a in lxml_html.fromstring(index).iter("a")]
    assert [t for t in listed if t in titles] == [titles[2], titles[0], titles[1]]  # newest first, among the host's
    hrefs = [a.get("href") for a in lxml_html.fromstring(index).iter("a")]
    assert links[titles[2]] in hrefs and links[titles[1]] in hrefs
    blog_feed = feedparser.parse((site / engine.feed).read_bytes())
    assert not blog_feed.bozo, blog_feed.bozo_exception
    assert {e.title for e in blog_feed.entries} >= set(titles)
    assert {e.link for e in blog_feed.entries} >= {links[titles[1]], links[titles[2]]}


def test_the_podcast_feed_names_built_posts_and_files(built):
    _, _, _, site = built
    parsed, podcast = _feed(site)
    assert not parsed.bozo, parsed.bozo_exception
    assert len(parsed.entries) == 2 and len(podcast["episodes"]) == 2
    for entry, episode in zip(parsed.entries, podcast["episodes"]):
        assert _page(site, entry.link).is_file(), f"{entry.link} is not a built post"
        assert episode["link"] == entry.link
        enclosure = episode["enclosures"][0]
        assert enclosure["url"].startswith(SITE_URL)
        file = site / "podcast" / enclosure["url"].removeprefix(SITE_URL)
        assert file.is_file() and file.stat().st_size == enclosure["file_size"]
    new, old = parsed.entries  # newest first
    assert f'href="{old.link}#end"' in new.content[0].value  # the notes' link to the other episode: its post
    # the transcript and chapters files the feed names (podcast:transcript, podcast:chapters) are in the built site
    named = re.findall(
        r'<podcast:(?:transcript|chapters) url="([^"]+)"', (site / "podcast" / "feed.xml").read_text(encoding="utf-8")
    )
    assert {Path(url).suffix for url in named} >= {".vtt", ".json"}
    for url in named:
        assert url.startswith(SITE_URL) and (site / "podcast" / url.removeprefix(SITE_URL)).is_file(), url


def test_the_post_page_plays_the_enclosure_with_badge_chapters_and_transcript(built):
    engine, _, _, site = built
    parsed, _ = _feed(site)
    new = next(e for e in parsed.entries if e.title.startswith("Budgets"))
    old = next(e for e in parsed.entries if e.title == "The old panel")
    page = _page(site, new.link).read_text(encoding="utf-8")
    tree = lxml_html.fromstring(page)
    audio = tree.find(".//audio")
    assert audio is not None and audio.get("controls") is not None
    assert audio.get("src") == urlsplit(new.enclosures[0].href).path  # the enclosure, on the blog's own server
    assert (site / audio.get("src").removeprefix("/")).is_file()
    assert tree.find_class("badge") and tree.find_class("badge")[0].text_content() == "Explicit"
    chapters = [li.text_content() for li in tree.find_class("chapters")[-1].iter("li")]
    assert "Welcome" in chapters[0] and "Budget talk" in chapters[1]
    assert "Thanks for having me." in tree.find_class("transcript")[0].text_content()
    assert (
        "budget = people * time\n\nmore {{ code }}" in tree.find(".//pre").text_content()
    )  # not read as Liquid or a shortcode
    assert tree.find(".//a[@download]") is not None
    assert tree.xpath('//a[text()="last time"]/@href') == [old.link + "#end"]  # the other episode's post
    feed_link = tree.xpath('//a[@type="application/rss+xml"]')
    assert feed_link and feed_link[0].get("href") == SITE_URL + "feed.xml"
    if engine.head_snippet:
        assert [
            link.get("title") for link in tree.xpath(f'//head/link[@rel="alternate"][@href="{SITE_URL}feed.xml"]')
        ] == [SHOW_TITLE]
    old_page = lxml_html.fromstring(_page(site, old.link).read_text(encoding="utf-8"))
    assert not old_page.find_class("badge") and old_page.find(".//audio") is not None


def test_a_post_edited_by_hand_is_kept_and_the_hosts_files_untouched(built, capsys):
    _engine, blog, show, _ = built
    posts = [p for p in blog.rglob("*.md") if "panelpress" not in p.name and OLD in p.name]
    assert len(posts) == 1
    post = posts[0]
    post.write_text(post.read_text(encoding="utf-8") + "\nA line the host added.\n", encoding="utf-8")
    hosts = {
        rel: sha
        for rel, sha in checksums(blog).items()
        if "podcast" not in rel and OLD not in rel and NEW not in rel and "panelpress" not in rel
    }
    capsys.readouterr()
    assert _build(show) == 0
    assert "A line the host added." in post.read_text(encoding="utf-8")
    assert f"kept {post.relative_to(blog).as_posix()} as you edited it" in capsys.readouterr().out.replace("\n", "")
    assert {rel: sha for rel, sha in checksums(blog).items() if rel in hosts} == hosts


def test_settings_for_a_folder_that_is_not_such_a_blog_are_refused(tmp_path):
    blog = make_blog(tmp_path / "blog", ENGINES["jekyll"])
    show = blog_show(tmp_path / "show", blog, "hugo")
    with pytest.raises(ConfigError, match=r"does not look like a hugo blog.*hugo\.toml"):
        config_module.load(show)
    text = (show / "panelpress.toml").read_text().replace('engine = "hugo"', 'engine = "jekyll"')
    (show / "panelpress.toml").write_text(text.replace(SITE_URL, BLOG_URL + "audio/"))
    with pytest.raises(ConfigError, match=r"site_url .* does not end with the blog's folder podcast/"):
        config_module.load(show)
    (show / "panelpress.toml").write_text(text + 'permalink = ":year/:categories/:slug/"\n')
    with pytest.raises(ConfigError, match=r"permalink .* holds :categories"):
        config_module.load(show)
    (show / "panelpress.toml").write_text(text.replace(BLOG_URL + "audio/", SITE_URL))
    settings = config_module.load(show)
    assert settings.output_dir == (blog / "podcast").resolve() and settings.permalink == ":year/:month/:day/:slug.html"
    with pytest.raises(ConfigError, match=r"--out .* cannot be used with \[blog\]"):
        config_module.with_output(settings, tmp_path / "elsewhere")


def test_init_writes_blog_settings_after_checking_the_folder(tmp_path, capsys):
    blog = make_blog(tmp_path / "blog", ENGINES["pelican"])
    show = tmp_path / "show"
    assert cli.main(["init", str(show), "--blog", "hugo", str(blog)]) == 2
    assert "does not look like a hugo blog" in capsys.readouterr().err
    assert not (show / "panelpress.toml").exists()
    assert cli.main(["init", str(show), "--blog", "pelican", str(blog)]) == 0
    text = (show / "panelpress.toml").read_text()
    assert re.search(r'\[blog\]\nengine = "pelican"\npath = "\.\./blog"', text)
    assert str(tmp_path) not in text  # a relative path, never this machine's


def test_a_post_is_removed_only_with_allow_remove(built):
    engine, blog, show, _ = built
    notes = show / "show_notes" / f"{NEW}.md"
    notes.write_text(
        notes.read_text(encoding="utf-8").replace("explicit: true", "explicit: true\ndraft: true"), encoding="utf-8"
    )
    post = next(p for p in blog.rglob(f"*{NEW}.md"))
    before = checksums(blog)
    assert _build(show) == 1  # withdrawing a published episode is refused
    assert checksums(blog) == before
    assert cli.main(["build", "--show", str(show), "--no-notify", "--allow-remove", NEW]) == 0
    assert not post.exists() and not [
        p for p in blog.rglob(f"{NEW}.mp3") if engine.output not in p.relative_to(blog).parts
    ]  # the engine's last build aside
    assert all(rel in checksums(blog) for rel in engine.files)  # the host's own files are all there


def test_a_post_of_the_hosts_where_an_episode_would_go_is_never_overwritten(tmp_path, capsys):
    engine = ENGINES["hugo"]
    blog = make_blog(tmp_path / "blog", engine)
    show = blog_show(tmp_path / "show", blog, "hugo")
    make_audio(show / "episodes" / f"{OLD}.wav", seconds=2)
    write_notes(show, OLD, "title: The old panel\ndate: 2026-01-05T10:00:00Z")
    theirs = blog / "content" / "posts" / f"{OLD}.md"
    theirs.write_text("---\ntitle: Mine\n---\nThe host's own post.\n", encoding="utf-8")
    before = checksums(blog)
    assert _build(show) == 1
    err = capsys.readouterr().err.replace("\n", "")
    assert (
        "content/posts/old-panel.md" in err
        and "is in the way and was not written by panelpress" in err
        and "[blog] posts" in err
    )
    after = {
        rel: sha for rel, sha in checksums(blog).items() if not rel.endswith(".panelpress-lock")
    }  # the build's lock
    assert after == before  # nothing written: not the post, not the site folder


def test_post_urls_follow_each_engines_permalink_rule_in_utc():
    from datetime import datetime, timedelta, timezone

    from pipeline import engines, layout

    late = datetime(2026, 2, 3, 23, 30, tzinfo=timezone(timedelta(hours=-5)))  # 4 February in UTC
    made = {
        name: layout.post_url(BLOG_URL, engine.permalink, "Panel Nº 1", late) for name, engine in engines.ENGINE.items()
    }
    assert made == {
        "hugo": BLOG_URL + "posts/panel-no-1/",
        "jekyll": BLOG_URL + "2026/02/04/panel-no-1.html",
        "pelican": BLOG_URL + "panel-no-1.html",
        "eleventy": BLOG_URL + "posts/panel-no-1/",
    }
    assert layout.post("jekyll", "_posts", "Panel Nº 1", late) == "_posts/2026-02-04-panel-no-1.md"
    assert layout.post_url(BLOG_URL, "/blog/:year/:month/:title/", "x", late) == BLOG_URL + "blog/2026/02/x/"


# --- what panelpress hands an engine is safe after the engine's own processing -------------------------------------

SCRIPT_TITLE = "</title><script>alert(1)</script> x\" autofocus onfocus=\"alert(2) Alpha & Q&A &copy; 'it's'"
SCRIPT_SUMMARY = (
    "[click](javascript:alert(1)) <img src=x onerror=alert(3)> ![pic](data:image/png;base64,iVBORw0KGgo=) "
    "<javascript:alert(4)> **Bravo** ~~struck~~ `code` # hash > quote ' onmouseover='alert(5)"
)
# Front matter and engine syntax: new keys after a line break, the other formats' fences, Pelican's `Key: value`,
# template and shortcode syntax of every engine.
INJECTED_TITLE = "Charlie 😀\n---\nlayout: evil\ntitle: hijacked\nStatus: draft\nSave_as: ../../evil.html\n+++\n"
INJECTED_SUMMARY = 'Delta\n\n---\nsummary: "hijacked"\n{{ site.title }} {% include evil.html %} {{< evil >}} {{ 6*7 }}'
TEMPLATE_BODY = (
    "Body {{ 6*7 }} {% raw %} {{< /panelpress >}} {% endraw %} </div><script>alert(10)</script>\n\n"
    "[js](javascript:alert(11)) ![d](data:image/png;base64,AAAA) <vbscript:msgbox(12)>\n"
)


def _hostile_episodes(show: Path) -> None:
    make_audio(show / "episodes" / "script.wav", seconds=2)
    write_notes(
        show,
        "script",
        f"title: {json.dumps(SCRIPT_TITLE, ensure_ascii=False)}\ndate: 2026-01-05T10:00:00Z\n"
        f"summary: {json.dumps(SCRIPT_SUMMARY)}\n"
        "panelists:\n  - name: '<img src=x onerror=alert(6)>\" onmouseover=\"alert(7) Guest'\n    href: https://guest.example/\n"
        "chapters:\n  - '0:00 <script>alert(8)</script> Start'\n  - start: 1\n    title: '\"quoted\" onfocus=\"alert(9)\"'\n"
        "    url: https://chapter.example/a?b=c&d=e",
        body=TEMPLATE_BODY,
    )
    make_audio(show / "episodes" / "injected.wav", seconds=2)
    write_notes(
        show,
        "injected",
        f"title: {json.dumps(INJECTED_TITLE, ensure_ascii=False)}\ndate: 2026-01-12T10:00:00Z\nsummary: {json.dumps(INJECTED_SUMMARY)}",
    )


@pytest.fixture(scope="module", params=sorted(ENGINES))
def hostile(request, tmp_path_factory):
    """A blog of the engine whose show's notes hold markup, front matter and template syntax, built by the engine."""
    engine = ENGINES[request.param]
    if engine.command() is None:
        pytest.skip(f"{engine.name} is not installed: {engine.install}")
    root = tmp_path_factory.mktemp(f"hostile-{engine.name}")
    blog = make_blog(root / "blog", engine)
    show = blog_show(root / "show", blog, engine.name)
    _hostile_episodes(show)
    assert _build(show) == 0
    return engine, show, build_blog(blog, engine)


def test_nothing_from_the_notes_runs_in_any_file_the_engine_builds(hostile):
    _, _, site = hostile
    files = built_files(site)
    assert any(p.suffix == ".xml" and "podcast" not in p.parts for p in files)  # the engine's own feeds are read too
    assert [found for path in files for found in live_markup(path, site)] == []
    assert not list(site.rglob("*evil*"))  # no file named by the notes' front matter


def test_the_hostile_texts_still_show_as_words_on_the_post_and_the_blogs_list(hostile):
    engine, _, site = hostile
    parsed, _ = _feed(site)
    links = {entry.title.split()[0]: entry.link for entry in parsed.entries}
    script = lxml_html.fromstring(_page(site, links["</title><script>alert(1)</script>"]).read_bytes())
    injected = lxml_html.fromstring(_page(site, links["Charlie"]).read_bytes())
    words = " ".join(script.text_content().split())
    for said in ("alert(1)", "alert(2)", "Alpha", "Q&A", "Guest", "alert(8)", "Start", "alert(9)", "alert(10)"):
        assert said in words, said
    assert "{{ 6*7 }}" in words and "{% raw %}" in words and "{{< /panelpress >}}" in words  # not run by the engine
    assert "[js](javascript:alert(11))" in words  # a link it may not be, shown as written
    assert "alert(7) Guest" in script.xpath('//a[@href="https://guest.example/"]')[0].text_content()  # a link still
    headline = " ".join(injected.text_content().split())
    assert "Charlie" in headline and "hijacked" in headline and "Save_as" in headline  # one title, no new keys
    assert injected.find(".//article") is not None or engine.name == "pelican"  # the blog's own post layout
    index = " ".join(lxml_html.fromstring((site / engine.index).read_bytes()).text_content().split())
    assert "Alpha" in index and "Charlie" in index  # listed: no `Status: draft` took effect
    if engine.name == "pelican":  # Pelican shows each summary on its list, rendered as Markdown
        assert "[click](javascript:alert(1))" in index and "**Bravo**" in index and "{{ 6*7 }}" in index


def test_a_title_with_any_character_builds_in_every_engine(hostile):
    _engine, show, site = hostile
    post = next(p for p in (show.parent / "blog").rglob("*.md") if p.name.endswith("injected.md"))
    assert "\\ud83d" not in post.read_text(encoding="utf-8")  # an emoji is itself, not two halves YAML refuses
    parsed, _ = _feed(site)
    page = _page(site, next(e.link for e in parsed.entries if "Charlie" in e.title))
    assert "😀" in lxml_html.fromstring(page.read_bytes()).findtext(".//title")


# --- the posts' folder and addresses stay inside the blog ---------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ('permalink = "../:slug/"', "[blog] permalink '../:slug/' climbs out of the blog with '..'"),
        ('permalink = "posts/:year/../../:slug"', "climbs out of the blog"),
        ('permalink = "https://evil.example/:slug/"', "is a whole address, not a path below the blog's"),
        ('permalink = "//evil.example/:slug/"', "is a whole address"),
        ('permalink = "posts/{{ .Slug }}/:slug/"', "holds '{'"),
        ('permalink = "<script>alert(1)</script>/:slug/"', "holds '<'"),
        ('permalink = "posts\\\\:slug"', "holds '\\\\'"),
        ('permalink = "my posts/:slug/"', "holds a space"),
        ('permalink = ":slug/?from=feed"', "holds '?'"),
        ('permalink = ":slug.html#top"', "holds '#'"),
        ('permalink = "posts/:year/"', "names no post of its own"),
        ('permalink = "posts/./:slug"', "has an empty or '.' folder"),
        ('permalink = "javascript:alert(1)/:slug"', "holds :alert"),
        ('posts = "../outside"', "[blog] posts = '../outside' climbs out of the blog"),
        ('posts = "content/../../outside"', "climbs out of the blog"),
        ('posts = "C:/posts"', "is an absolute path"),
        ('posts = "~/posts"', "is an absolute path"),
        ('posts = "content\\\\posts"', "holds a backslash"),
        ('posts = "content/escape"', "leads outside the blog (a symlink)"),
        ('posts = "static/podcast"', "is panelpress's own folder static/podcast/"),
        ('posts = "static"', "overlaps panelpress's own folder"),
        ('static = "/srv/www"', "[blog] static = '/srv/www' is an absolute path"),
        ('folder = "pod cast"', "[blog] folder = 'pod cast' holds a space"),
        ('folder = "../podcast"', "climbs out of the blog"),
        ('folder = "escape/podcast"', "[blog] folder = 'escape/podcast' leads outside the blog (a symlink)"),
    ],
)
def test_blog_folders_and_permalinks_that_leave_the_blog_or_are_no_address_are_refused(tmp_path, capsys, line, said):
    blog = make_blog(tmp_path / "blog", ENGINES["hugo"])
    (tmp_path / "outside").mkdir()
    (blog / "content" / "escape").symlink_to(tmp_path / "outside")
    (blog / "static").mkdir()
    (blog / "static" / "escape").symlink_to(tmp_path / "outside")
    show = blog_show(tmp_path / "show", blog, "hugo")
    make_audio(show / "episodes" / f"{OLD}.wav", seconds=2)
    write_notes(show, OLD, "title: The old panel\ndate: 2026-01-05T10:00:00Z")
    with (show / "panelpress.toml").open("a", encoding="utf-8") as settings:
        settings.write(line + "\n")
    before = checksums(tmp_path)
    assert _build(show) == 2
    err = capsys.readouterr().err.replace("\n", "")
    assert "panelpress.toml: " in err and said in err and "e.g." in err
    assert checksums(tmp_path) == before  # nothing written: not in the blog, not outside it


def test_an_absolute_posts_folder_is_refused_not_written_inside_the_blog(tmp_path, capsys):
    blog = make_blog(tmp_path / "blog", ENGINES["jekyll"])
    show = blog_show(tmp_path / "show", blog, "jekyll")
    make_audio(show / "episodes" / f"{OLD}.wav", seconds=2)
    write_notes(show, OLD, "title: The old panel\ndate: 2026-01-05T10:00:00Z")
    elsewhere = tmp_path / "elsewhere" / "_posts"
    with (show / "panelpress.toml").open("a", encoding="utf-8") as settings:
        settings.write(f"posts = {json.dumps(elsewhere.as_posix())}\n")
    before = checksums(blog)
    assert _build(show) == 2
    assert f"[blog] posts = {elsewhere.as_posix()!r} is an absolute path" in capsys.readouterr().err.replace("\n", "")
    assert checksums(blog) == before and not (tmp_path / "elsewhere").exists()


def test_the_feeds_item_links_are_addresses_inside_the_blog_made_from_the_permalink(tmp_path):
    blog = make_blog(tmp_path / "blog", ENGINES["hugo"])
    show = blog_show(tmp_path / "show", blog, "hugo")
    _episodes(show)
    with (show / "panelpress.toml").open("a", encoding="utf-8") as settings:
        settings.write('permalink = "/blog/:year/:month/:slug/"\n')
    assert _build(show) == 0
    data = (blog / "static" / "podcast" / "feed.xml").read_bytes()
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.bozo_exception
    links = [entry.link for entry in parsed.entries]
    assert links == [BLOG_URL + f"blog/2026/02/{NEW}/", BLOG_URL + f"blog/2026/01/{OLD}/"]
    assert [e["link"] for e in podcastparser.parse(SITE_URL + "feed.xml", io.BytesIO(data))["episodes"]] == links
