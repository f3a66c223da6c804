"""Tiny blogs of each engine for the tests of [blog]: one ordinary post, the engine's minimal theme (a list of posts,
a post layout with panelpress's head snippet, the blog's own feed), how to build it with the real engine, and what
in a built file would run in a browser."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from lxml import html as lxml_html

from pipeline import layout
from tests.conftest import write_show

BLOG_URL = "https://blog.example.com/"
SITE_URL = BLOG_URL + "podcast/"
ORDINARY_TITLE = "An ordinary post"
SHOW_TITLE = 'The "Panel" & Co'  # the blog's templates must escape it
ORDINARY_DATE = "2026-01-15"
REPO = Path(__file__).resolve().parent.parent
ELEVENTY = REPO / ".venv" / "npm" / "node_modules" / ".bin" / "eleventy"


@dataclass(frozen=True)
class Engine:
    name: str
    files: dict[str, str]  # the blog's own files
    output: str  # the built site, in the blog's folder
    index: str  # the list of posts, in the built site
    feed: str  # the blog's own RSS or Atom feed, in the built site
    head_snippet: bool  # the theme includes panelpress's <link rel="alternate">
    install: str  # how to get the engine, for the skip reason

    def command(self) -> list[str] | None:
        """The engine's build command, or None where the engine is not installed."""
        if self.name == "hugo":
            return ["hugo", "--quiet", "--destination", self.output] if shutil.which("hugo") else None
        if self.name == "jekyll":
            return ["jekyll", "build", "--quiet", "--destination", self.output] if shutil.which("jekyll") else None
        if self.name == "pelican":
            try:
                import markdown  # noqa: F401
                import pelican  # noqa: F401
            except ImportError:
                return None
            return [
                sys.executable,
                "-m",
                "pelican",
                "content",
                "--settings",
                "pelicanconf.py",
                "--output",
                self.output,
                "--quiet",
            ]
        return (
            [str(ELEVENTY), "--quiet", f"--output={self.output}"]
            if ELEVENTY.exists() and shutil.which("node")
            else None
        )


HUGO = Engine(
    "hugo",
    {
        "hugo.toml": f'baseURL = "{BLOG_URL}"\ntitle = "My Blog"\nlanguageCode = "en"\n',
        "layouts/_default/baseof.html": '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title>{{ partial "panelpress-head.html" . }}</head>\n<body>{{ block "main" . }}{{ end }}</body></html>\n',
        "layouts/_default/single.html": '{{ define "main" }}<article><h1>{{ .Title }}</h1>{{ .Content }}</article>{{ end }}\n',
        "layouts/_default/list.html": '{{ define "main" }}<ul class="posts">{{ range where .Site.RegularPages "Section" "posts" }}<li><a href="{{ .Permalink }}">{{ .Title }}</a></li>{{ end }}</ul>{{ end }}\n',
        "content/posts/ordinary.md": f'---\ntitle: "{ORDINARY_TITLE}"\ndate: {ORDINARY_DATE}T09:00:00Z\n---\nWords of the host.\n',
    },
    "public",
    "index.html",
    "index.xml",
    True,
    "apt-get install -y hugo (.ci/run does)",
)
JEKYLL = Engine(
    "jekyll",
    {
        "_config.yml": f'title: My Blog\nurl: "{BLOG_URL.rstrip("/")}"\ntimezone: UTC\n',
        "_layouts/default.html": '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{{ page.title }}</title>{% include panelpress-head.html %}</head>\n<body>{{ content }}</body></html>\n',
        "_layouts/post.html": "---\nlayout: default\n---\n<article><h1>{{ page.title }}</h1>{{ content }}</article>\n",
        "index.html": '---\nlayout: default\n---\n<ul class="posts">{% for post in site.posts %}<li><a href="{{ post.url | absolute_url }}">{{ post.title }}</a></li>{% endfor %}</ul>\n',
        "feed.xml": (
            '---\nlayout: null\n---\n<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{{ site.title }}</title><link>{{ site.url }}/</link>'
            "{% for post in site.posts %}<item><title>{{ post.title | xml_escape }}</title><link>{{ post.url | absolute_url }}</link></item>{% endfor %}</channel></rss>\n"
        ),
        f"_posts/{ORDINARY_DATE}-ordinary.md": f'---\nlayout: post\ntitle: "{ORDINARY_TITLE}"\n---\nWords of the host.\n',
    },
    "_site",
    "index.html",
    "feed.xml",
    True,
    "apt-get install -y jekyll (.ci/run does)",
)
PELICAN = Engine(
    "pelican",
    {
        "pelicanconf.py": (
            'AUTHOR = "Blogger"\nSITENAME = "My Blog"\nSITEURL = "'
            + BLOG_URL.rstrip("/")
            + '"\nPATH = "content"\nTIMEZONE = "UTC"\nDEFAULT_LANG = "en"\n'
            'STATIC_PATHS = ["images", "podcast"]\nFEED_DOMAIN = SITEURL\nFEED_ALL_ATOM = "feeds/all.atom.xml"\n'
        ),
        "content/ordinary.md": f"Title: {ORDINARY_TITLE}\nDate: {ORDINARY_DATE} 09:00\nCategory: Notes\n\nWords of the host.\n",
    },
    "output",
    "index.html",
    "feeds/all.atom.xml",
    False,
    "pip install -e '.[test]' (it holds pelican[markdown]; make test does)",
)
ELEVENTY_ENGINE = Engine(
    "eleventy",
    {
        "eleventy.config.js": 'module.exports = function (eleventyConfig) {\n  eleventyConfig.addPassthroughCopy("podcast");\n  eleventyConfig.ignores.add("podcast/**");\n};\n',
        "_includes/base.njk": '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>{% include "panelpress-head.njk" %}</head>\n<body>{{ content | safe }}</body></html>\n',
        "_includes/post.njk": "---\nlayout: base.njk\n---\n<article><h1>{{ title }}</h1>{{ content | safe }}</article>\n",
        "posts/posts.json": '{"layout": "post.njk", "tags": ["posts"]}\n',
        "index.njk": '---\nlayout: base.njk\ntitle: My Blog\n---\n<ul class="posts">{% for post in collections.posts | reverse %}<li><a href="'
        + BLOG_URL.rstrip("/")
        + '{{ post.url }}">{{ post.data.title }}</a></li>{% endfor %}</ul>\n',
        "feed.njk": (
            '---\npermalink: feed.xml\neleventyExcludeFromCollections: true\n---\n<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>My Blog</title><link>'
            + BLOG_URL
            + "</link>"
            "{% for post in collections.posts | reverse %}<item><title>{{ post.data.title }}</title><link>"
            + BLOG_URL.rstrip("/")
            + "{{ post.url }}</link></item>{% endfor %}</channel></rss>\n"
        ),
        "posts/ordinary.md": f'---\ntitle: "{ORDINARY_TITLE}"\ndate: {ORDINARY_DATE}\n---\nWords of the host.\n',
    },
    "_site",
    "index.html",
    "feed.xml",
    True,
    "make test installs it with npm (npm install --no-save --prefix .venv/npm vnu-jar@26 @11ty/eleventy@3)",
)
ENGINES = {engine.name: engine for engine in (HUGO, JEKYLL, PELICAN, ELEVENTY_ENGINE)}


def make_blog(folder: Path, engine: Engine) -> Path:
    """A blog of `engine` with one ordinary post."""
    for rel, text in engine.files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def build_blog(folder: Path, engine: Engine) -> Path:
    """Build the blog with the real engine; the built site's folder."""
    command = engine.command()
    assert command is not None
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{engine.name} failed:\n{done.stdout}\n{done.stderr}"
    return folder / engine.output


def blog_show(folder: Path, blog: Path, engine: str) -> Path:
    """A show whose episodes are posts of `blog`."""
    write_show(folder)
    text = (
        (folder / "panelpress.toml")
        .read_text(encoding="utf-8")
        .replace('site_url = "https://pod.example.com/show/"', f'site_url = "{SITE_URL}"')
        .replace('title = "Test Panel"', f"title = '{SHOW_TITLE}'")
    )
    rel = Path("..") / blog.name if blog.parent == folder.parent else blog
    text += f'\n[blog]\nengine = "{engine}"\npath = "{rel.as_posix()}"\n'
    (folder / "panelpress.toml").write_text(text, encoding="utf-8")
    return folder


# What a browser runs or opens as a script or a document of its own: never published from notes or settings.
BAD_SCHEMES = ("javascript:", "vbscript:", "data:", "file:")
# Attributes that hold an address, in HTML and in the feeds' namespaces (podcast:person img, socialInteract uri, …).
URL_ATTRIBUTES = {
    "href",
    "src",
    "srcset",
    "action",
    "formaction",
    "poster",
    "background",
    "cite",
    "data",
    "url",
    "uri",
    "img",
    "feedurl",
    "accounturl",
}
# Feed elements whose text is HTML (RSS description and content:encoded, itunes:summary, Atom's html constructs).
HTML_TEXT = {"description", "encoded", "summary", "content"}
_IGNORED = re.compile(r"[\t\n\r]")


def _scheme_of(value: str) -> str:
    """An address as a browser reads its start: leading spaces and controls skipped, tabs and line breaks ignored."""
    return _IGNORED.sub("", value.lstrip("".join(map(chr, range(33))))).lower()


def _live(root, where: str) -> list[str]:
    found = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # comments, processing instructions
        tag = etree.QName(element).localname.lower()
        source = (element.get("src") or "").split("?")[0]  # its version: `site.js?v=…`
        own_script = source.endswith(layout.SCRIPT) and not (element.text or "").strip()
        own = element.get("type") == "application/ld+json" or own_script
        if tag == "script" and not own:  # panelpress's own: its page script and its JSON-LD data
            found.append(f"{where}: a <script> element: {(element.text or '')[:60]!r}")
        for name, value in element.attrib.items():
            name = etree.QName(name).localname.lower()
            parts = value.split(",") if name == "srcset" else [value]
            bad_address = name in URL_ATTRIBUTES and any(_scheme_of(part).startswith(BAD_SCHEMES) for part in parts)
            if name.startswith("on") or bad_address:
                found.append(f"{where}: <{tag} {name}={value[:60]!r}>")
        html_text = tag in HTML_TEXT or element.get("type") in ("html", "text/html")
        if where.endswith(".xml") and html_text and element.text and element.text.strip():
            found += _live(lxml_html.fragment_fromstring(element.text, create_parent="div"), f"{where} <{tag}>")
    return found


def live_markup(path: Path, root: Path | None = None) -> list[str]:
    """What a built HTML or XML file carries that a browser would run: a <script> element, an on… attribute, an address
    of a scheme that is no web page's (javascript:, vbscript:, data:, file:); in a feed, also inside its HTML texts."""
    where = path.relative_to(root).as_posix() if root else path.name
    data = path.read_bytes()
    if path.suffix == ".xml":
        return _live(etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True)), where)
    return _live(lxml_html.document_fromstring(data), where)


def built_files(site: Path) -> list[Path]:
    """Every HTML and XML file of a built site (the engine's pages and feeds, panelpress's own)."""
    return sorted(p for p in site.rglob("*") if p.is_file() and p.suffix in (".html", ".xml"))
