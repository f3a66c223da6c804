"""Hostile and careless inputs, built through the real CLI: nothing outside the show folder is published, no traceback
reaches the host, the host's folders are never written into, and one bad episode never stops the others."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import feedparser
import podcastparser
import pytest
from lxml import html as lxml_html
from mutagen.id3 import CHAP, CTOC, ID3, TIT2, WXXX, CTOCFlags
from PIL import Image

from pipeline.cli import main
from tests.blogs import built_files, live_markup
from tests.conftest import PNG_1PX, bomb_png, checksums, make_audio, tag_mp3, write_notes, write_show
from tests.speech import needs_espeak

SECRET = b"-----BEGIN PRIVATE KEY----- do not publish me"
FEED_URL = "https://pod.example.com/show/feed.xml"


@pytest.fixture
def show(tmp_path: Path, audio_dir: Path) -> Path:
    """A show of two good episodes, and a secret file beside it (outside the show folder)."""
    folder = write_show(tmp_path / "show")
    shutil.copy(audio_dir / "stereo.wav", folder / "episodes" / "good-one.wav")
    shutil.copy(audio_dir / "mono.flac", folder / "episodes" / "good-two.flac")
    write_notes(folder, "good-one", "title: Good one\ndate: 2026-01-05")
    write_notes(folder, "good-two", "title: Good two\ndate: 2026-01-12")
    (tmp_path / "secret.png").write_bytes(PNG_1PX + SECRET)  # a real picture, but not the host's to publish
    (tmp_path / "secret.txt").write_bytes(SECRET)
    return folder


def _add(show: Path, audio_dir: Path, slug: str, front: str, body: str = "Notes body.") -> Path:
    """One more episode: a recording and its notes."""
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / f"{slug}.wav")
    return write_notes(show, slug, front, body)


def _build(capsys, show: Path, *args: str) -> tuple[int, str, str]:
    code = main(["build", "--show", str(show), *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def _titles(show: Path) -> list[str]:
    """The episodes of the site's feed, as both podcast-client parsers read them (they must agree)."""
    raw = (show / "public" / "feed.xml").read_bytes()
    parsed = feedparser.parse(raw)
    assert not parsed.bozo, parsed.get("bozo_exception")
    gpodder = podcastparser.parse(FEED_URL, io.BytesIO(raw))
    assert [e.title for e in parsed.entries] == [e["title"] for e in gpodder["episodes"]]
    return sorted(e.title for e in parsed.entries)


def _site_holds(show: Path, data: bytes) -> bool:
    return any(data in p.read_bytes() for p in (show / "public").rglob("*") if p.is_file())


def _publish_new(show: Path) -> None:
    toml = show / "panelpress.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("publish_new = false", "publish_new = true"), encoding="utf-8"
    )


def _host_files(show: Path) -> dict[str, str]:
    """The host's own files: everything but the site, the cache and the ledger (panelpress's own)."""
    return {
        name: digest
        for name, digest in checksums(show).items()
        if not name.startswith(("public/", ".panelpress-cache/", "panelpress-ledger"))
    }


# --- nothing outside the show folder is published ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("front", "body", "said"),
    [
        ("image: cover.png", "Notes.", "image 'cover.png' leads outside the show folder"),
        (
            "chapters:\n  - 0:00 Start\n  - start: 1\n    title: Two\n    image: cover.png",
            "Notes.",
            "line 6: chapter image 'cover.png' leads outside the show folder",
        ),
        ("", "![Cover](cover.png)", "line 6: the image 'cover.png' leads outside the show folder"),
        ("", "[the key](files/key.txt)", "line 6: the file 'files/key.txt' leads outside the show folder"),
    ],
)
def test_a_file_the_notes_name_that_leads_outside_the_show_is_refused(capsys, show, audio_dir, front, body, said):
    (show / "show_notes" / "cover.png").symlink_to(show.parent / "secret.png")
    (show / "show_notes" / "files").mkdir()
    (show / "show_notes" / "files" / "key.txt").symlink_to(show.parent / "secret.txt")
    _add(show, audio_dir, "leaky", f"title: Leaky\ndate: 2026-01-20\n{front}", body)
    before = _host_files(show)
    code, _out, err = _build(capsys, show)
    assert code == 1
    assert f"leaky.md: {said} (a symlink) — copy the file into the show folder" in err
    assert _titles(show) == ["Good one", "Good two"]  # the others publish
    assert not _site_holds(show, SECRET)
    assert _host_files(show) == before


@pytest.mark.parametrize(
    ("setting", "key"), [("extra_show", 'artwork = "cover.png"'), ("extra_audio", 'intro = "intro.wav"')]
)
def test_a_file_the_settings_name_that_leads_outside_the_show_is_refused_before_any_work(capsys, show, setting, key):
    (show / "cover.png").symlink_to(show.parent / "secret.png")
    (show / "intro.wav").symlink_to(show.parent / "secret.txt")
    write_show(show, **{setting: key})
    code, _, err = _build(capsys, show)
    assert code == 2 and "leads outside the show folder (a symlink)" in err and "panelpress.toml" in err
    assert not (show / "public").exists() and not (show / ".panelpress-cache").exists()


def test_a_transcript_or_chapters_file_that_leads_outside_is_refused(capsys, show, audio_dir):
    (show.parent / "secret.vtt").write_text(
        "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nthe secret words\n", encoding="utf-8"
    )
    (show / "episodes" / "good-one.vtt").symlink_to(show.parent / "secret.vtt")
    (show / "episodes" / "good-two.chapters.txt").symlink_to(show.parent / "secret.txt")
    code, _, err = _build(capsys, show)
    assert code == 1
    assert "good-one.vtt: leads outside the show folder (a symlink)" in err  # the transcript is held back
    assert "good-two.chapters.txt: leads outside the show folder" in err  # the chapters fail their episode
    assert _titles(show) == ["Good one"]
    assert not _site_holds(show, b"the secret words") and not _site_holds(show, SECRET)


def test_images_are_what_their_content_says(capsys, show, audio_dir):
    (show / "show_notes" / "page.png").write_text("<html><script>alert(1)</script></html>", encoding="utf-8")
    (show / "show_notes" / "really.jpg").write_bytes(PNG_1PX)
    _add(show, audio_dir, "html-image", "title: HTML\ndate: 2026-01-20\nimage: page.png")
    _add(show, audio_dir, "misnamed", "title: Misnamed\ndate: 2026-01-21\nimage: really.jpg")
    code, _, err = _build(capsys, show)
    assert code == 1
    assert (
        "html-image.md: image 'page.png' is not a JPEG or PNG image (by its content, whatever its name) — export it as JPEG or PNG"
        in err
    )
    assert "misnamed.md: image 'really.jpg' is a PNG image named .jpg — rename it to really.png" in err
    assert _titles(show) == ["Good one", "Good two"]


def test_a_decompression_bomb_is_a_clear_error_before_any_audio_work(capsys, show, audio_dir):
    (show / "show_notes" / "huge.png").write_bytes(bomb_png(20000, 20000))  # 400 megapixels in a few bytes
    _add(show, audio_dir, "bomb", "title: Bomb\ndate: 2026-01-20\nimage: huge.png")
    code, _, err = _build(capsys, show)
    assert code == 1 and "bomb.md: image 'huge.png' is 20000×20000 pixels, more than the" in err
    assert _titles(show) == ["Good one", "Good two"]
    shutil.copy(show / "show_notes" / "huge.png", show / "art.png")
    write_show(show, extra_show='artwork = "art.png"')
    code, _, err = _build(capsys, show)
    assert code == 2 and "show.artwork names 'art.png', which is 20000×20000 pixels" in err
    assert main(["check", "--show", str(show)]) == 2  # check says so too, without a traceback
    assert "20000×20000" in capsys.readouterr().out


# --- no traceback: text a feed cannot carry, names and files panelpress cannot use ----------------------------------


def test_word_processor_line_and_page_breaks_in_a_body_are_published_as_spaces(capsys, show, audio_dir):
    _add(show, audio_dir, "pasted", "title: Pasted\ndate: 2026-01-20", "From Word:\x0bnew line.\x0c\nNext page.")
    code, _, _ = _build(capsys, show)
    assert code == 0
    assert _titles(show) == ["Good one", "Good two", "Pasted"]
    assert (
        b"\x0b" not in (show / "public" / "feed.xml").read_bytes()
        and b"From Word: new line." in (show / "public" / "feed.xml").read_bytes()
    )


@pytest.mark.parametrize(
    ("front", "body", "said"),
    [
        (
            'title: "Bad\\x01title"\ndate: 2026-01-20',
            "Body.",
            "line 2: 'Bad\\x01title' holds a control character (U+0001), which a feed cannot carry",
        ),
        (
            'title: T\ndate: 2026-01-20\nsummary: "odd \\uFFFE"',
            "Body.",
            "line 4: 'odd \\ufffe' holds a non-character (U+FFFE)",
        ),
        (
            'title: "half \\uD800 a character"\ndate: 2026-01-20',
            "Body.",
            "line 2: 'half \\ud800 a character' holds half of a character (a lone surrogate, U+D800)",
        ),
        (
            'title: T\ndate: 2026-01-20\npanelists:\n  - "Ann\\x02"',
            "Body.",
            "line 5: 'Ann\\x02' holds a control character (U+0002)",
        ),
        (
            'title: T\ndate: 2026-01-20\nchapters:\n  - "0:00 Start\\x1b[31m"',
            "Body.",
            "line 5: '0:00 Start\\x1b[31m' holds an escape character (U+001B)",
        ),
        (
            "title: T\ndate: 2026-01-20",
            "First.\n\nA \x01 in the body.",
            "line 8: the notes hold a control character (U+0001), which a feed cannot carry",
        ),
    ],
)
def test_text_a_feed_cannot_carry_fails_its_episode_with_file_and_line(capsys, show, audio_dir, front, body, said):
    _add(show, audio_dir, "odd", front, body)
    code, _, err = _build(capsys, show)
    assert code == 1
    assert f"odd.md: {said}" in err and "delete it" in err
    assert _titles(show) == ["Good one", "Good two"]


def test_settings_text_a_feed_cannot_carry_is_refused(capsys, show):
    write_show(show, extra_show='copyright = "(c) \\u0001 2026"')
    code, _, err = _build(capsys, show)
    assert code == 2 and "[show] copyright holds a control character (U+0001), which a feed cannot carry" in err


def test_text_a_feed_cannot_carry_in_a_chapters_file_or_transcript_names_its_line(capsys, show):
    (show / "episodes" / "good-one.chapters.txt").write_text("0:00 Start\n0:01 Two\x07\n", encoding="utf-8")
    (show / "episodes" / "good-two.vtt").write_text(
        "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nbell \x07 here\n", encoding="utf-8"
    )
    code, _, err = _build(capsys, show)
    assert code == 1
    assert "good-one.chapters.txt: line 2: holds a control character (U+0007)" in err
    assert "good-two.vtt: line 4: holds a control character (U+0007)" in err
    assert _titles(show) == ["Good two"]  # published without its transcript


def test_a_recordings_tags_lose_what_a_feed_cannot_carry(capsys, show, audio_dir):
    recording = show / "episodes" / "tagged.mp3"
    shutil.copy(audio_dir / "tagged.mp3", recording)
    tag_mp3(recording, "Title\x01 from tags\ufffe", "Ann\x02", "2026-01-20", "Comment\x0bwith a tab")
    _publish_new(show)
    code, _, _ = _build(capsys, show)
    assert code == 0
    assert _titles(show) == ["Good one", "Good two", "Title from tags"]
    assert "Comment with a tab" in (show / "show_notes" / "tagged.md").read_text(encoding="utf-8")


def test_recording_names_panelpress_cannot_use_fail_alone(capsys, show, audio_dir):
    long = "x" * 245
    shutil.copy(
        audio_dir / "stereo.wav", show / "episodes" / f"{long}.wav"
    )  # 249 bytes: its chapters file could not exist
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / "ring\x07bell.wav")
    code, _, err = _build(capsys, show)
    assert code == 1
    assert (
        "the file name is 245 bytes long; panelpress adds to it for the episode's files, so it takes at most 200" in err
    )
    assert "ring\\x07bell.wav: the file name holds a control character (U+0007) — rename the recording" in err
    assert _titles(show) == ["Good one", "Good two"]


def test_a_broken_recording_says_why_and_never_quotes_a_file_outside_the_show(capsys, show, audio_dir):
    (show / "episodes" / "linked.wav").symlink_to(show.parent / "secret.txt")
    whole = (show / "episodes" / "good-one.wav").read_bytes()
    (show / "episodes" / "cut.wav").write_bytes(whole[:30])  # cut inside its header
    write_notes(show, "linked", "title: Linked\ndate: 2026-01-20")
    write_notes(show, "cut", "title: Cut\ndate: 2026-01-21")
    code, _, err = _build(capsys, show)
    assert code == 1
    assert "cut.wav: is not a recording panelpress can read: its RIFF/AIFF header is damaged or cut short" in err
    assert "linked.wav: is not a recording panelpress can read" in err
    assert "()" not in err and "BEGIN" not in err and "PRIVATE" not in err
    assert _titles(show) == ["Good one", "Good two"]


def test_an_episodes_path_that_is_a_file_is_an_error(capsys, tmp_path):
    show = write_show(tmp_path / "show")
    (show / "episodes").rmdir()
    (show / "episodes").write_text("oops", encoding="utf-8")
    code, _, err = _build(capsys, show)
    assert code == 2 and "episodes/ (the recordings) is a file, not a folder" in err


def test_a_typed_number_gets_a_hint_that_is_one(capsys, show, audio_dir):
    _add(show, audio_dir, "ten", "title: Ten\ndate: 2026-01-20\nepisode: ten")
    code, _, err = _build(capsys, show)
    assert code == 1 and "ten.md: episode is 'ten', not a whole number — write `episode: 3 (digits, no quotes)`" in err


# --- settings that would write into the host's folders, or break subscribers' URLs ------------------------------------


@pytest.mark.parametrize("out", [".", "episodes", "show_notes", "/", "episodes/site", ".."])
def test_out_into_the_hosts_folders_is_refused_before_any_work(capsys, show, monkeypatch, out):
    monkeypatch.chdir(show)
    before = checksums(show.parent)
    code, _, err = _build(capsys, show, "--out", out)
    assert (
        code == 2
        and f"--out {out}" in err
        and "panelpress would write its pages, feed and audio among your files" in err
    )
    assert checksums(show.parent) == before


@pytest.mark.parametrize(
    "line", ['output = "episodes"', 'output = "."', 'output = "show_notes/site"', 'cache = "episodes"']
)
def test_settings_that_write_into_the_hosts_folders_leave_the_published_site_alone(capsys, show, line):
    assert _build(capsys, show)[0] == 0
    site = checksums(show / "public")
    write_show(show, extra_build=line)
    before = checksums(show)
    code, _, err = _build(capsys, show)
    assert code == 2 and "panelpress.toml: [build]" in err and "of its own" in err
    assert checksums(show) == before and checksums(show / "public") == site


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("https://pod.example.com/show/?ref=rss", "has a query"),
        ("http://pod.example.com/show/", "is http://"),
        ("https://pod.example.com/show/#x", "has a fragment"),
    ],
)
def test_a_site_url_that_would_break_subscribers_urls_is_refused(capsys, show, url, said):
    text = (show / "panelpress.toml").read_text(encoding="utf-8").replace("https://pod.example.com/show/", url)
    (show / "panelpress.toml").write_text(text, encoding="utf-8")
    code, _, err = _build(capsys, show)
    assert code == 2 and f"[show] site_url {url!r} {said}" in err
    assert not (show / "panelpress-ledger.json").exists()  # no enclosure URL was recorded


def test_http_is_published_only_when_the_host_allows_it(capsys, show):
    text = (
        (show / "panelpress.toml")
        .read_text(encoding="utf-8")
        .replace("https://pod.example.com/", "http://pod.example.com/")
    )
    (show / "panelpress.toml").write_text(
        text.replace("explicit = false", "explicit = false\nallow_http = true"), encoding="utf-8"
    )
    code, _, err = _build(capsys, show)
    assert code == 0 and "warning: panelpress.toml: [show] site_url 'http://pod.example.com/show/' is http://" in err
    assert b"http://pod.example.com/show/media/good-one.mp3" in (show / "public" / "feed.xml").read_bytes()
    main(["check", "--show", str(show)])  # (this show has no artwork: a problem of its own)
    assert "warning: panelpress.toml: [show] site_url" in capsys.readouterr().err


def test_line_and_page_breaks_pasted_into_notes_are_published_as_spaces_with_a_warning(capsys, show, audio_dir):
    _add(
        show,
        audio_dir,
        "pasted",
        "title: Pasted\ndate: 2026-01-20",
        body="From a word processor:\x0bline break, \x0cpage break.",
    )
    code, _, err = _build(capsys, show)
    assert code == 0 and "show_notes/pasted.md: line 6: vertical tabs or form feeds" in err
    page = (show / "public" / "episodes" / "pasted.html").read_text(encoding="utf-8")
    assert "line break" in page and "page break" in page and "\x0b" not in page and "\x0c" not in page


def test_a_language_that_is_no_language_is_refused(capsys, show):
    write_show(show, extra_show='language = "xx-invalid"')
    code, _, err = _build(capsys, show)
    assert code == 2 and "[show] language = 'xx-invalid' is not allowed — write a language code (BCP 47)" in err


# --- every address the notes and settings publish is a web page's ----------------------------------------------------

# Addresses that are no web page's: scripts, documents made of the link, local files, and tricks that look like one.
NOT_WEB = (
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "\tvbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
    "file:///etc/passwd",
    "https:/pod.example.com/x",
    "//pod.example.com/x",
    "http://",
    "http://127.0.0.1:80x/a",
    "https://pod.example.com\\@evil.example/",
    "https://me:secret@pod.example.com/",
    "https://pod.example.com/a b",
)
# Every key of the notes that holds an address: front matter with the address in it ({url}, quoted), and the start of
# the line an error names.
ADDRESS_KEYS = (
    ("comments: {{url: {url}, protocol: activitypub}}", "comments:"),
    ("comments: {url}", "comments:"),
    ("comments:\n  url: https://m.example/@a/1\n  protocol: activitypub\n  account_url: {url}", "  account_url:"),
    ("panelists:\n  - Ann\n  - name: Bo\n    href: {url}", "    href:"),
    ("panelists:\n  - name: Bo\n    img: {url}", "    img:"),
    ("chapters:\n  - 0:00 Start\n  - start: 1\n    title: Two\n    url: {url}", "  - start: 1"),
    ("chapters:\n  - start: 0\n    title: One\n    image: {url}", "  - start: 0"),
    ("chapters:\n  - {line}", '  - "0:00 Start'),
)


def _line_of(path: Path, start: str) -> int:
    return next(number for number, line in enumerate(path.read_text("utf-8").splitlines(), 1) if line.startswith(start))


def test_every_address_the_notes_give_is_a_web_page_or_fails_its_episode_with_file_and_line(capsys, show, audio_dir):
    cases = {}
    for number, (key, start) in enumerate(ADDRESS_KEYS):
        for value in NOT_WEB[number % 3 :: 3]:  # every address in several keys, every key with several addresses
            if key.endswith("image: {url}") and not value.lower().startswith(("http:", "https:")):
                continue  # without an http(s) scheme it names a file, missing: an error of its own
            slug = f"bad-{len(cases)}"
            front = key.format(url=json.dumps(value), line=json.dumps(f"0:00 Start <{value}>"))
            path = _add(show, audio_dir, slug, f"title: Bad {len(cases)}\ndate: 2026-01-20\n{front}")
            cases[slug] = _line_of(path, start)
    before = _host_files(show)
    code, _, err = _build(capsys, show)
    err = err.replace("\n", "")
    assert code == 1
    for slug, line in cases.items():
        assert f"show_notes/{slug}.md: line {line}: " in err, slug
    assert err.count("is not a web address: ") >= len(cases) and "https://" in err
    assert _titles(show) == ["Good one", "Good two"]  # the others publish
    for scheme in (b"javascript:", b"JaVaScRiPt:", b"vbscript:", b"data:", b"file:", b"evil.example", b"secret@"):
        assert not _site_holds(show, scheme), scheme
    assert _host_files(show) == before


@pytest.mark.parametrize(
    "scheme", ["javascript:alert(1)", "data:text/html,x", "vbscript:msgbox(1)", "file:///etc/passwd"]
)
def test_the_address_of_a_post_apps_answer_is_refused_with_its_line(show, audio_dir, scheme):
    """The reproduction, through `python -m pipeline.cli`: a socialInteract whose uri is no web page's."""
    path = _add(
        show,
        audio_dir,
        "social",
        f'title: Social\ndate: 2026-01-20\ncomments:\n  url: "{scheme}"\n  protocol: activitypub',
    )
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "build", "--show", str(show)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    assert (
        f"show_notes/social.md: line {_line_of(path, '  url:')}: comments url {scheme!r} is not a web address: it is a {scheme.split(':')[0]}: address"
        in done.stderr.replace("\n", "")
    )
    feed = (show / "public" / "feed.xml").read_bytes()
    assert b"socialInteract" not in feed and scheme.encode() not in feed
    assert _titles(show) == ["Good one", "Good two"]


def test_a_chapters_file_or_a_recordings_own_chapter_link_that_is_no_web_page_fails_its_episode(
    capsys, show, audio_dir
):
    (show / "episodes" / "good-one.chapters.txt").write_text(
        "00:00 Start\n00:01 Trap <javascript:alert(1)>\n", encoding="utf-8"
    )
    tagged = show / "episodes" / "tagged.mp3"
    make_audio(tagged, seconds=3, codec_args=("-c:a", "libmp3lame"))
    tags = ID3()
    tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=["c0", "c1"]))
    for number, (start, end) in enumerate(((0, 1500), (1500, 3000))):
        link = [WXXX(encoding=3, desc="", url="data:text/html,<script>alert(1)</script>")] if number else []
        tags.add(
            CHAP(element_id=f"c{number}", start_time=start, end_time=end, sub_frames=[TIT2(text=[f"C{number}"]), *link])
        )
    tags.save(tagged)
    write_notes(show, "tagged", "title: Tagged\ndate: 2026-01-20")
    code, _, err = _build(capsys, show)
    err = err.replace("\n", "")
    assert code == 1
    assert "good-one.chapters.txt: line 2: chapter url 'javascript:alert(1)' is not a web address" in err
    assert "tagged.mp3: its own chapters are unusable: chapter url 'data:text/html," in err
    assert "chapters:" in err  # the fix: list them in the notes
    assert _titles(show) == ["Good two"]
    assert not _site_holds(show, b"javascript:") and not _site_holds(show, b"data:text")


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ('[show]\nnew_feed_url = "JaVaScRiPt:alert(1)"', "[show] new_feed_url"),
        ('[show]\nnew_feed_url = "//new.example.com/feed.xml"', "[show] new_feed_url"),
        ('[podcast]\nfunding_url = "data:text/html,x"\nfunding_text = "Give"', "[podcast] funding_url"),
        ('[podcast]\nfunding_url = "https:/give.example"\nfunding_text = "Give"', "[podcast] funding_url"),
        ('[podcast]\nlicense = "mine"\nlicense_url = "file:///etc/passwd"', "[podcast] license_url"),
        ('[notify]\nhubs = ["https://hub.example/", "vbscript:x"]', "[notify] hubs"),
        ('[notify]\npodcastindex_url = "http://"', "[notify] podcastindex_url"),
        (
            '[[podcast.podroll]]\nfeed_guid = "917393e3-1b1e-5cef-ace4-edaa54e1f810"\nfeed_url = "javascript:alert(1)"',
            "[[podcast.podroll]] 1",
        ),
        ('[show]\nsite_url = "https://pod.example.com:80x/show/"', "[show] site_url"),
        ('[show]\nsite_url = "https://[::1/show/"', "[show] site_url"),
        ('[show]\nsite_url = "https://:443/show/"', "[show] site_url"),
    ],
)
def test_every_address_the_settings_give_is_a_web_page_or_refused_before_any_work(capsys, show, setting, named):
    text = (show / "panelpress.toml").read_text(encoding="utf-8")
    section, _, lines = setting.partition("\n")
    if section == "[show]":
        key = lines.split(" =")[0]
        text = re.sub(rf"^{key} = .*\n", "", text, flags=re.MULTILINE).replace("[show]\n", f"[show]\n{lines}\n")
    else:
        text += f"\n{setting}\n"
    (show / "panelpress.toml").write_text(text, encoding="utf-8")
    code, _, err = _build(capsys, show)
    assert code == 2 and f"panelpress.toml: {named}" in err.replace("\n", "") and "https://" in err
    assert not (show / "public").exists() and not (show / ".panelpress-cache").exists()


def test_links_of_a_notes_body_that_are_no_web_page_are_published_as_text(capsys, show, audio_dir):
    body = (
        "A [script](javascript:alert(1)), a [mixed](JaVaScRiPt:alert(2)), a [basic](vbscript:msgbox(3)),\n"
        "an [encoded](&#106;avascript:alert(4)), a [file](file:///etc/passwd), an <javascript:alert(5)> autolink,\n"
        "a [document](data:text/html;base64,PHNjcmlwdD5hbGVydCg2KTwvc2NyaXB0Pg==), a ![picture](data:image/png;base64,iVBORw0KGgo=),\n"
        "a [reference][ref] and a [good one](https://example.com/) to [write to](mailto:host@example.com).\n\n"
        "[ref]: data:text/html,<script>alert(7)</script>\n"
    )
    _add(show, audio_dir, "links", "title: Links\ndate: 2026-01-20", body)
    assert _build(capsys, show)[0] == 0
    site = show / "public"
    assert [found for path in built_files(site) for found in live_markup(path, site)] == []
    page = lxml_html.fromstring((site / "episodes" / "links.html").read_bytes())
    assert page.xpath('//a[text()="good one"]/@href') == ["https://example.com/"]
    assert page.xpath('//a[text()="write to"]/@href') == ["mailto:host@example.com"]
    words = page.find_class("notes")[0].text_content()
    assert "[script](javascript:alert(1))" in words and "[picture](data:image/png" in words  # shown as written
    entry = next(e for e in feedparser.parse((site / "feed.xml").read_bytes()).entries if e.title == "Links")
    assert "javascript:alert(1)" in entry.content[0].value and 'href="javascript' not in entry.content[0].value


# --- summaries are plain text; art embedded in the audio is small ----------------------------------------------------


def test_markup_in_a_summary_is_shown_as_text_everywhere(capsys, show, audio_dir):
    summary = "<script>alert(1)</script> and <img src=x onerror=alert(2)> are words here"
    _add(show, audio_dir, "markup", f"title: Markup\ndate: 2026-01-20\nsummary: {summary!r}")
    assert _build(capsys, show)[0] == 0
    raw = (show / "public" / "feed.xml").read_bytes()
    entry = next(e for e in feedparser.parse(raw).entries if e.title == "Markup")
    assert "<script>" not in entry.summary and "<img" not in entry.summary and "&lt;script&gt;" in entry.summary
    gpodder = next(e for e in podcastparser.parse(FEED_URL, io.BytesIO(raw))["episodes"] if e["title"] == "Markup")
    assert "<script>" not in gpodder["description_html"] and "<img" not in gpodder["description_html"]
    description = podcastparser.parse(
        FEED_URL, io.BytesIO(raw.replace(b"<content:encoded>", b"<x>").replace(b"</content:encoded>", b"</x>"))
    )
    assert (
        next(e for e in description["episodes"] if e["title"] == "Markup")["description"] == summary
    )  # the words, as written
    index = (show / "public" / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index and "<script>alert" not in index
    tags = ID3(show / "public" / "media" / "markup.mp3")
    assert tags.getall("COMM")[0].text[0] == summary and tags.getall("TDES")[0].text[0] == summary


def test_a_large_cover_in_a_recording_is_embedded_small_and_published_whole(capsys, show, audio_dir):
    cover = io.BytesIO()
    Image.effect_noise((3000, 3000), 80).convert("RGB").save(cover, "JPEG", quality=95)
    assert len(cover.getvalue()) > 2_000_000
    recording = show / "episodes" / "big-cover.mp3"
    shutil.copy(audio_dir / "tagged.mp3", recording)
    tag_mp3(recording, "Big cover", "Ann", "2026-01-20", "A cover of megabytes.", art=cover.getvalue())
    _publish_new(show)
    assert _build(capsys, show)[0] == 0
    assert (show / "public" / "episodes" / "big-cover.jpg").read_bytes() == cover.getvalue()  # the site has it whole
    art = ID3(show / "public" / "media" / "big-cover.mp3").getall("APIC")[0]
    assert art.mime == "image/jpeg" and len(art.data) <= 500_000
    with Image.open(io.BytesIO(art.data)) as embedded:
        assert max(embedded.size) <= 1400


def test_notes_that_lead_outside_the_show_fail_their_episode_unpublished(capsys, show, audio_dir):
    (show.parent / "diary.md").write_text(
        "---\ntitle: Dear diary\ndate: 2026-01-20\n---\nMy private diary.\n", encoding="utf-8"
    )
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / "diary.wav")
    (show / "show_notes" / "diary.md").symlink_to(show.parent / "diary.md")
    code, _, err = _build(capsys, show)
    assert code == 1 and "diary.md: leads outside the show folder (a symlink)" in err
    assert _titles(show) == ["Good one", "Good two"] and not _site_holds(show, b"private diary")


def test_info_on_a_recording_with_a_bomb_for_a_cover_does_not_crash(capsys, show, audio_dir):
    recording = show / "episodes" / "bomb-cover.mp3"
    shutil.copy(audio_dir / "tagged.mp3", recording)
    tag_mp3(recording, "Bomb cover", "Ann", "2026-01-20", "A cover of 400 megapixels.", art=bomb_png(20000, 20000))
    assert main(["info", str(recording)]) == 0
    out, err = capsys.readouterr()
    assert "cover art" in out and "Traceback" not in out + err
    _publish_new(show)
    code, _, err = _build(capsys, show)  # the cover is not adopted: the episode publishes without it
    assert code == 0 and not (show / "show_notes" / "bomb-cover.png").exists()
    assert "image:" not in (show / "show_notes" / "bomb-cover.md").read_text(encoding="utf-8")


# --- faults of the machine and of panelpress itself -----------------------------------------------------------------


def test_a_full_disk_names_the_site_file_and_leaves_the_feed_as_it_was(capsys, show, audio_dir):
    assert _build(capsys, show)[0] == 0
    feed = (show / "public" / "feed.xml").read_bytes()
    _add(show, audio_dir, "late", "title: Late\ndate: 2026-01-19")
    # The write of the new episode's audio goes through its temporary file: here, a disk with no space left.
    temp = show / "public" / "media" / ".late.mp3.panelpress-tmp"
    temp.symlink_to("/dev/full")
    code, _, err = _build(capsys, show)
    assert code == 1
    assert "public/media/late.mp3: could not be written: No space left on device" in err
    assert ".panelpress-cache" not in err and "panelpress-tmp" not in err
    assert (show / "public" / "feed.xml").read_bytes() == feed
    assert not temp.exists() and not temp.is_symlink()
    assert _build(capsys, show)[0] == 0 and "Late" in _titles(show)


BUG = """
import sys
from pipeline.show import assemble
def broken(*args, **kwargs):
    raise ZeroDivisionError("a bug in the plan")
assemble.assemble = broken
from pipeline.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_bug_is_one_line_naming_its_log_never_a_traceback(show):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", BUG, "build", "--show", str(show)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 3
    assert "Traceback" not in done.stdout + done.stderr
    line = next(said for said in done.stderr.splitlines() if "failed unexpectedly" in said)
    assert line.startswith("error: a bug in panelpress: ")
    assert "ZeroDivisionError: a bug in the plan" in line and "please report it" in line
    log = Path(line.split("the full trace is in ")[1].split(";")[0])
    assert log.is_file() and log.is_relative_to(show / ".panelpress-cache") and "ZeroDivisionError" in log.read_text()
    assert not (show / "public" / "feed.xml").exists()


def test_a_bug_in_one_episode_fails_that_episode_alone(show, audio_dir):
    import subprocess
    import sys

    code = BUG.replace("from pipeline.show import assemble", "from pipeline.episode import chapters").replace(
        "assemble.assemble = broken",
        "real = chapters.resolve\nchapters.resolve = lambda episode, info: broken() if episode.slug == 'good-two' else real(episode, info)",
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "build", "--show", str(show)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    assert "failed unexpectedly while making episode 'good-two'" in done.stderr
    assert _titles(show) == ["Good one"]


# --- where a draft transcript would be written: never through a symlink, never over anything, always said --------

DRAFT_BLOCKERS = {
    "a symlink to nothing": ("dangling", "which does not exist, where a draft transcript would be written"),
    "a symlink to a folder": ("to-folder", "panelpress never writes through a symlink"),
    "a folder": ("folder", "is a folder, where a draft transcript would be written"),
    "a symlink out of the show": ("outside", "leads outside the show folder"),
}


@needs_espeak
@pytest.mark.parametrize("member", list(DRAFT_BLOCKERS))
def test_what_is_in_a_drafts_place_holds_it_back_in_words_and_is_never_written_through(capsys, tmp_path, member):
    how, said = DRAFT_BLOCKERS[member]
    folder = tmp_path / "show"
    transcribing_show(folder)
    draft, elsewhere = folder / "show_notes" / "talk.vtt", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.vtt").write_bytes(b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n" + SECRET + b"\n")
    if how == "dangling":
        draft.symlink_to(elsewhere / "gone.vtt")
    elif how == "to-folder":
        draft.symlink_to(elsewhere)
    elif how == "folder":
        draft.mkdir()
    else:
        draft.symlink_to(elsewhere / "secret.vtt")
    before = checksums(elsewhere)
    code, _, err = _build(capsys, folder)
    assert code == 1
    line = next(line for line in err.splitlines() if "show_notes/talk.vtt" in line)
    assert line.startswith("not published:") and said in line, err
    assert checksums(elsewhere) == before and not (elsewhere / "gone.vtt").exists(), "nothing written through it"
    assert not (folder / "public" / "episodes" / "talk.vtt").exists() and "Talk" in _titles(folder)
    assert not _site_holds(folder, SECRET)
    if draft.is_dir() and not draft.is_symlink():
        draft.rmdir()
    else:
        draft.unlink()
    assert _build(capsys, folder)[0] == 0, "the next build makes the draft it could not write (never cached without)"
    assert draft.is_file() and not draft.is_symlink() and draft.read_text().startswith("WEBVTT")
    assert "draft: true" in draft.read_text(), "made as a draft"
    assert not (folder / "public" / "episodes" / "talk.vtt").exists(), "a draft waits for the host's review"


@needs_espeak
def test_transcribe_never_writes_a_draft_through_a_symlink(capsys, tmp_path):
    folder = tmp_path / "show"
    transcribing_show(folder)
    gone = tmp_path / "gone.vtt"
    (folder / "show_notes" / "talk.vtt").symlink_to(gone)
    out = tmp_path / "draft.vtt"
    out.symlink_to(tmp_path / "also-gone.vtt")
    for args in ([], ["--out", str(out)]):
        assert main(["transcribe", "talk", "--show", str(folder), *args]) == 1
        err = capsys.readouterr().err
        assert "not written:" in err and "never writes through a symlink" in err and "Traceback" not in err
    assert not gone.exists() and not (tmp_path / "also-gone.vtt").exists()


def test_a_notes_folder_that_cannot_be_written_holds_the_draft_back_in_words(tmp_path):
    import subprocess
    import sys

    from tests.test_folder import _without_root

    folder = tmp_path / "show"
    transcribing_show(folder, speech=False)
    notes = folder / "show_notes"
    wrap = _without_root()
    notes.chmod(0o555)
    try:
        done = subprocess.run(
            [*wrap, sys.executable, "-m", "pipeline.cli", "build", "--show", str(folder)],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent.parent,
            timeout=300,
        )
    finally:
        notes.chmod(0o755)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "show_notes: cannot be written, so the draft transcript talk.vtt cannot be made in it" in done.stderr
    assert sorted(p.name for p in notes.iterdir()) == ["talk.md"]


def transcribing_show(folder: Path, speech: bool = True, phrases: int = 1) -> None:
    """A show of one episode whose transcript the build makes ([transcripts] make = true): real speech (`phrases`
    times two phrases), or a tone."""
    from tests.speech import say

    write_show(folder)
    with (folder / "panelpress.toml").open("a") as handle:
        handle.write("\n[transcripts]\nmake = true\n")
    if speech:
        said = ["Hello and welcome.", 0.6, "Thank you.", 0.6] * phrases
        say(folder / "episodes" / "talk.wav", said[:-1], voice="en-us+m3")
    else:
        make_audio(folder / "episodes" / "talk.wav", seconds=2)
    write_notes(folder, "talk", "title: Talk\ndate: 2026-03-01")


# --- nothing but panelpress's own words: threads, warnings, closed pipes, bugs ------------------------------------

NOISE = """
import sys, threading, warnings
from pipeline import build
real = build.build
class Leaky:
    def __del__(self):
        raise RuntimeError("an error Python can only ignore")
def noisy(*args, **kwargs):
    warnings.warn("a library's warning", UserWarning)
    thread = threading.Thread(target=lambda: 1 / 0, name="helper")
    thread.start()
    thread.join()
    Leaky()
    return real(*args, **kwargs)
build.build = noisy
import pipeline.cli
pipeline.cli.build = noisy
sys.exit(pipeline.cli.main(sys.argv[1:]))
"""


def test_a_thread_a_warning_or_an_ignored_error_never_prints_a_traceback(show):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", NOISE, "build", "--show", str(show)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
        timeout=300,
    )
    said = done.stdout + done.stderr
    assert done.returncode == 0, said
    assert "Traceback" not in said and "Exception ignored" not in said and "UserWarning" not in said
    line = next(line for line in done.stderr.splitlines() if "helper" in line)
    assert line.startswith(
        "error: a bug in panelpress: it failed unexpectedly while running `panelpress build` (helper)"
    )
    log = Path(line.split("the full trace is in ")[1].split(";")[0])
    assert "ZeroDivisionError" in log.read_text()


def test_output_closed_early_ends_quietly(show):
    import os
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)  # the reader has gone before anything is printed (`panelpress info … | head -0`)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "info", str(show / "episodes" / "good-one.wav")],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parent.parent,
            timeout=120,
        )
    finally:
        os.close(write)
    assert done.returncode == 1 and done.stderr == ""


def test_a_bugs_log_goes_to_the_temporary_folder_when_the_cache_cannot_hold_it(tmp_path):
    from pipeline.errors import unexpected

    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the log folder would be")
    error = unexpected("testing", KeyError("x\nsecond line"), blocked / "logs")
    assert error.log is not None and error.log.is_file() and "KeyError" in error.log.read_text()
    assert "\n" not in error.message() and "a bug in panelpress" in error.message()
    error.log.unlink()


def test_every_command_answers_impossible_arguments_in_words(tmp_path, show):
    import subprocess
    import sys

    (tmp_path / "a-file").write_text("not a folder")
    tries = [
        (["init", str(tmp_path / "a-file")], "a-file: cannot be made: File exists"),
        (["init", str(tmp_path / "a-file" / "show")], "cannot be made: Not a directory"),
        (["info", str(tmp_path / "a-file")], "is not a recording panelpress can read"),
        (["serve", "--show", str(show), "--port", "99999"], "'99999' is not a port"),
        (["serve", "--show", str(show), "--port", "-1"], "'-1' is not a port"),
        (["import", str(tmp_path), "--show", str(show)], "cannot be read as a feed"),
        (["transcribe", "nobody", "--show", str(show)], "holds no recording named 'nobody'"),
        (["build", "--show", str(tmp_path / "a-file")], "no panelpress.toml here"),
    ]
    for args, said in tries:
        done = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,  # a folder that is no show: nothing is made in it
            env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
            timeout=120,
        )
        assert done.returncode in (1, 2), (args, done.stderr)
        assert said in done.stderr and "Traceback" not in done.stderr and "a bug" not in done.stderr, (
            args,
            done.stderr,
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "secret.png", "secret.txt", "show"]


@needs_espeak
def test_a_refused_publish_writes_no_draft_into_the_show(capsys, tmp_path):
    folder = tmp_path / "show"
    transcribing_show(folder)
    (folder / "public").mkdir()
    (folder / "public" / "index.html").write_text("<html>the blog's own</html>")
    code, _, err = _build(capsys, folder)
    assert code == 1 and "index.html: is in the way and was not written by panelpress" in err
    assert sorted(p.name for p in (folder / "show_notes").iterdir()) == ["talk.md"]
    assert not (folder / "panelpress-ledger.json").exists()
    (folder / "public" / "index.html").unlink()
    assert _build(capsys, folder)[0] == 0 and (folder / "show_notes" / "talk.vtt").is_file()
