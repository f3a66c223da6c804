"""notes.read parses and validates show notes; starter notes are prefilled from tags and never overwrite."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from pipeline import markdown
from pipeline.episode import notes, starter
from pipeline.errors import NotesError, PanelpressError
from pipeline.records import AudioInfo, Panelist
from tests.conftest import PNG_1PX, write_notes


def read_error(path: Path) -> NotesError:
    """Read a notes file that must fail; return the NotesError after the common checks."""
    with pytest.raises(NotesError) as caught:
        notes.read(path)
    err = caught.value
    assert isinstance(err, PanelpressError)
    assert err.path == path
    assert str(path) in str(err), "the message must name the file"
    assert err.fix, "the message must say what to do"
    return err


# --- parsing -------------------------------------------------------------------------------


def test_full_notes_are_parsed(tmp_path: Path):
    path = write_notes(
        tmp_path,
        "ep1",
        """
        title: "  Management vs Leadership  "
        date: 2026-03-04
        summary: Two views on leading teams.
        panelists:
          - Ann Example
          - name: Bo Example
            role: host
            img: https://example.com/bo.png
            href: https://example.com/bo
          - name: Cy Example
            role: moderator
        explicit: true
        season: 2
        episode: 7
        episode_type: bonus
        """,
        body="# Heading\n\nThe body.",
    )
    parsed = notes.read(path)
    assert parsed.path == path
    assert parsed.title == "Management vs Leadership"
    assert parsed.date == datetime(2026, 3, 4, 0, 0, tzinfo=UTC)
    assert parsed.summary == "Two views on leading teams."
    assert parsed.panelists == (
        Panelist(name="Ann Example", role="guest"),
        Panelist(name="Bo Example", role="host", img="https://example.com/bo.png", href="https://example.com/bo"),
        Panelist(name="Cy Example", role="moderator"),
    )
    assert parsed.explicit is True
    assert parsed.season == 2
    assert parsed.episode == 7
    assert parsed.episode_type == "bonus"
    assert parsed.draft is False
    assert parsed.body == "# Heading\n\nThe body."


def test_minimal_notes_use_defaults(tmp_path: Path):
    parsed = notes.read(write_notes(tmp_path, "ep", "title: Only a title"))
    assert parsed.title == "Only a title"
    assert parsed.date is None
    assert parsed.panelists == ()
    assert parsed.explicit is None  # absent: the show's value applies
    assert parsed.season is None and parsed.episode is None
    assert parsed.episode_type == "full"
    assert parsed.draft is False
    assert parsed.summary == "Notes body."  # the first paragraph of the body


def test_date_only_is_midnight_utc(tmp_path: Path):
    parsed = notes.read(write_notes(tmp_path, "ep", "title: T\ndate: 2026-01-31"))
    assert parsed.date == datetime(2026, 1, 31, 0, 0, tzinfo=UTC)
    assert parsed.date.utcoffset() == timedelta(0)


def test_quoted_date_only_is_midnight_utc(tmp_path: Path):
    parsed = notes.read(write_notes(tmp_path, "ep", 'title: T\ndate: "2026-01-31"'))
    assert parsed.date == datetime(2026, 1, 31, 0, 0, tzinfo=UTC)


def test_datetime_with_timezone_is_kept(tmp_path: Path):
    parsed = notes.read(write_notes(tmp_path, "ep", "title: T\ndate: 2026-03-04 10:30:00+02:00"))
    assert parsed.date.utcoffset() == timedelta(hours=2)
    assert (parsed.date.hour, parsed.date.minute) == (10, 30)
    assert parsed.date == datetime(2026, 3, 4, 8, 30, tzinfo=UTC)


def test_quoted_iso_datetime_with_timezone_is_kept(tmp_path: Path):
    parsed = notes.read(write_notes(tmp_path, "ep", 'title: T\ndate: "2026-03-04T10:30:00-05:00"'))
    assert parsed.date.utcoffset() == timedelta(hours=-5)
    assert parsed.date.hour == 10


def test_datetime_without_timezone_is_utc(tmp_path: Path):
    parsed = notes.read(write_notes(tmp_path, "ep", 'title: T\ndate: "2026-03-04 18:45"'))
    assert parsed.date == datetime(2026, 3, 4, 18, 45, tzinfo=UTC)


def test_panelists_as_one_string(tmp_path: Path):
    parsed = notes.read(write_notes(tmp_path, "ep", "title: T\npanelists: Ann Example"))
    assert parsed.panelists == (Panelist(name="Ann Example"),)


@pytest.mark.parametrize(("text", "expected"), [("explicit: true", True), ("explicit: false", False), ("", None)])
def test_explicit_true_false_absent(tmp_path: Path, text: str, expected):
    parsed = notes.read(write_notes(tmp_path, "ep", f"title: T\n{text}"))
    assert parsed.explicit is expected


def test_draft_true(tmp_path: Path):
    assert notes.read(write_notes(tmp_path, "ep", "title: T\ndraft: true")).draft is True


def test_summary_falls_back_to_first_paragraph(tmp_path: Path):
    body = "# A heading is not a summary\n\nFirst paragraph\nover two lines.\n\nSecond paragraph."
    parsed = notes.read(write_notes(tmp_path, "ep", "title: T", body=body))
    assert parsed.summary == "First paragraph over two lines."


def test_explicit_summary_wins_over_body(tmp_path: Path):
    parsed = notes.read(write_notes(tmp_path, "ep", "title: T\nsummary: '  The summary. '", body="Body paragraph."))
    assert parsed.summary == "The summary."


def test_empty_body_gives_empty_summary(tmp_path: Path):
    parsed = notes.read(write_notes(tmp_path, "ep", "title: T", body=""))
    assert parsed.summary == "" and parsed.body == ""


# --- errors --------------------------------------------------------------------------------


def test_broken_yaml_names_the_line(tmp_path: Path):
    # Line 1 of the file is `---`; the badly indented key is line 4 of the file.
    path = write_notes(tmp_path, "ep", "title: Fine\nsummary: ok\n  bad: x")
    assert path.read_text().splitlines()[3] == "  bad: x"
    err = read_error(path)
    assert "not valid YAML" in err.problem
    assert "line 4" in err.problem
    assert "YAML" in err.fix


def test_front_matter_that_is_not_a_mapping(tmp_path: Path):
    path = tmp_path / "ep.md"
    path.write_text("---\n- title: A list, not a mapping\n- date: 2026-03-04\n---\n\nBody\n", encoding="utf-8")
    err = read_error(path)
    assert "mapping" in err.problem


def test_not_utf8(tmp_path: Path):
    path = tmp_path / "ep.md"
    path.write_bytes(b"---\ntitle: Caf\xe9\n---\n")
    err = read_error(path)
    assert "UTF-8" in err.problem


@pytest.mark.parametrize("front", ["date: 2026-03-04", "title: ''", "title: '   '", "title:"])
def test_missing_title(tmp_path: Path, front: str):
    err = read_error(write_notes(tmp_path, "ep", front))
    assert err.problem == "has no title"
    assert "title:" in err.fix


def test_numeric_title_is_not_reported_as_missing(tmp_path: Path):
    path = write_notes(tmp_path, "ep", "title: 1984")
    try:
        parsed = notes.read(path)
    except NotesError as err:
        assert err.problem != "has no title"
    else:
        assert parsed.title == "1984"


def test_no_front_matter_at_all_has_no_title(tmp_path: Path):
    path = tmp_path / "ep.md"
    path.write_text("Just a body.\n", encoding="utf-8")
    assert read_error(path).problem == "has no title"


@pytest.mark.parametrize(("key", "suggested"), [("titel", "title"), ("panelist", "panelists"), ("sumary", "summary")])
def test_unknown_key_with_suggestion(tmp_path: Path, key: str, suggested: str):
    err = read_error(write_notes(tmp_path, "ep", f"title: T\n{key}: x"))
    assert err.problem == f"unknown key `{key}`"
    assert err.fix == f"did you mean `{suggested}`?"


def test_unknown_key_without_suggestion_lists_keys(tmp_path: Path):
    err = read_error(write_notes(tmp_path, "ep", "title: T\nzzqqxx: 1"))
    assert "`zzqqxx`" in err.problem
    assert "title" in err.fix and "panelists" in err.fix


@pytest.mark.parametrize("value", ["next tuesday", "'2026-03-04 at noon'", "2026", "[2026, 3, 4]"])
def test_bad_date(tmp_path: Path, value: str):
    err = read_error(write_notes(tmp_path, "ep", f"title: T\ndate: {value}"))
    assert "is not a date" in err.problem
    assert "YYYY-MM-DD" in err.fix


def test_impossible_calendar_date_is_a_notes_error(tmp_path: Path):
    path = write_notes(tmp_path, "ep", "title: T\ndate: 2026-02-30")
    with pytest.raises(NotesError) as caught:
        notes.read(path)
    assert caught.value.path == path


def test_impossible_quoted_date_is_a_notes_error(tmp_path: Path):
    err = read_error(write_notes(tmp_path, "ep", 'title: T\ndate: "2026-02-30"'))
    assert "is not a date" in err.problem


def test_bad_role(tmp_path: Path):
    err = read_error(write_notes(tmp_path, "ep", "title: T\npanelists:\n  - name: Ann\n    role: producer"))
    assert "'Ann'" in err.problem and "'producer'" in err.problem
    assert "host" in err.fix and "guest" in err.fix and "moderator" in err.fix


def test_panelist_with_unknown_key(tmp_path: Path):
    err = read_error(write_notes(tmp_path, "ep", "title: T\npanelists:\n  - name: Ann\n    twitter: '@ann'"))
    assert "twitter" in err.problem


@pytest.mark.parametrize("item", ["- role: host", "- ''", "- 42"])
def test_panelist_without_name(tmp_path: Path, item: str):
    err = read_error(write_notes(tmp_path, "ep", f"title: T\npanelists:\n  {item}"))
    assert "has no name" in err.problem


def test_panelists_not_a_list(tmp_path: Path):
    err = read_error(write_notes(tmp_path, "ep", "title: T\npanelists:\n  name: Ann"))
    assert "panelists is not a list" in err.problem


@pytest.mark.parametrize("key", ["episode", "season"])
def test_episode_or_season_zero(tmp_path: Path, key: str):
    err = read_error(write_notes(tmp_path, "ep", f"title: T\n{key}: 0"))
    assert err.problem == f"{key} is 0, not a positive number"
    assert "from 1" in err.fix


@pytest.mark.parametrize("value", ['"3"', "true", "2.5"])
def test_episode_not_a_whole_number(tmp_path: Path, value: str):
    err = read_error(write_notes(tmp_path, "ep", f"title: T\nepisode: {value}"))
    assert "not a whole number" in err.problem


@pytest.mark.parametrize("value", ['"yes"', '"true"', "1"])
def test_explicit_must_be_a_boolean(tmp_path: Path, value: str):
    err = read_error(write_notes(tmp_path, "ep", f"title: T\nexplicit: {value}"))
    assert err.problem.startswith("explicit is ")
    assert "not true or false" in err.problem
    assert err.fix == "write `explicit: true`"


def test_bad_episode_type(tmp_path: Path):
    err = read_error(write_notes(tmp_path, "ep", "title: T\nepisode_type: special"))
    assert "'special'" in err.problem
    assert "full, trailer, bonus" in err.fix


# --- starter notes -------------------------------------------------------------------------


def _info(path: Path, **tags: str) -> AudioInfo:
    return AudioInfo(
        path=path,
        format="MP3",
        codec="mp3",
        duration=5.0,
        sample_rate=44100,
        channels=2,
        bitrate=96000,
        tags=tuple(tags.items()),
    )


def test_starter_text_is_prefilled_from_tags(tmp_path: Path):
    info = _info(
        tmp_path / "ep.mp3",
        title="Tagged Title",
        artist="Ann Example; Bo Example",
        date="2026-03-04",
        comment="From the tags.",
    )
    text = starter.starter_text("ep", info, today=date(2030, 1, 1), draft=True)
    assert text.startswith("---\n")
    path = tmp_path / "show_notes" / "ep.md"
    assert starter.write_starter(path, text) is True
    parsed = notes.read(path)  # the starter is itself valid notes
    assert parsed.title == "Tagged Title"
    assert parsed.panelists == (Panelist("Ann Example"), Panelist("Bo Example"))
    assert parsed.date == datetime(2026, 3, 4, tzinfo=UTC)  # the tag, not today
    assert parsed.summary == "From the tags."
    assert parsed.draft is True


def test_starter_text_from_the_real_tagged_fixture(audio_dir: Path, tmp_path: Path):
    from pipeline.episode.probe import probe

    text = starter.starter_text("tagged", probe(audio_dir / "tagged.mp3"), today=date(2030, 1, 1), draft=True)
    path = tmp_path / "tagged.md"
    path.write_text(text, encoding="utf-8")
    parsed = notes.read(path)
    assert parsed.title == "Tagged Title"
    assert [p.name for p in parsed.panelists] == ["Ann Example", "Bo Example"]
    assert parsed.date == datetime(2026, 3, 4, tzinfo=UTC)
    assert parsed.summary == "From the tags."
    assert parsed.draft is True


def test_starter_text_not_draft_when_publishing_new(tmp_path: Path):
    text = starter.starter_text("ep", _info(tmp_path / "a.mp3", title="T"), today=date(2030, 1, 1), draft=False)
    path = tmp_path / "ep.md"
    path.write_text(text, encoding="utf-8")
    assert notes.read(path).draft is False
    assert "draft: false" in text


def test_starter_text_year_only_tag(tmp_path: Path):
    text = starter.starter_text("ep", _info(tmp_path / "a.mp3", date="2025"), today=date(2030, 1, 1), draft=True)
    path = tmp_path / "ep.md"
    path.write_text(text, encoding="utf-8")
    assert notes.read(path).date == datetime(2025, 1, 1, tzinfo=UTC)


def test_starter_text_without_tags_uses_slug_and_today(tmp_path: Path):
    text = starter.starter_text("management_vs-leadership", None, today=date(2026, 5, 6), draft=True)
    path = tmp_path / "ep.md"
    path.write_text(text, encoding="utf-8")
    parsed = notes.read(path)
    assert parsed.title == "Management vs leadership"
    assert parsed.date == datetime(2026, 5, 6, tzinfo=UTC)
    assert parsed.panelists == ()
    assert parsed.draft is True


def test_starter_text_with_yaml_special_title_stays_a_string(tmp_path: Path):
    text = starter.starter_text(
        "ep", _info(tmp_path / "a.mp3", title="yes: no # 42"), today=date(2026, 1, 1), draft=True
    )
    path = tmp_path / "ep.md"
    path.write_text(text, encoding="utf-8")
    assert notes.read(path).title == "yes: no # 42"


def test_write_starter_never_overwrites(tmp_path: Path):
    path = write_notes(tmp_path, "ep", "title: The host's own notes", body="Handwritten.")
    before = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    created = starter.write_starter(path, starter.starter_text("ep", None, today=date(2026, 1, 1), draft=True))
    assert created is False
    assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == mtime


def test_write_starter_creates_the_folder(tmp_path: Path):
    path = tmp_path / "new" / "show_notes" / "ep.md"
    assert starter.write_starter(path, "---\ntitle: X\n---\n") is True
    assert path.read_text(encoding="utf-8") == "---\ntitle: X\n---\n"


# --- files the body links to ---------------------------------------------------------------------


def test_body_links_and_images_naming_files_beside_the_notes_are_found(tmp_path: Path):
    folder = tmp_path / "show_notes"
    (folder / "files").mkdir(parents=True)
    (folder / "photo.png").write_bytes(PNG_1PX)  # a picture by its content: images are checked
    (folder / "files" / "the slides.pdf").write_bytes(b"pdf")
    (folder / "ep2.md").write_text("---\ntitle: Next\ndraft: true\n---\nNot yet.")
    (folder / ".private").write_text("secret")
    body = (
        "![The panel](photo.png)\n\n[Slides](<files/the slides.pdf>) and [again](./photo.png).\n\n"
        "[About us](../about.html), [elsewhere](https://example.com/x.png), [top](#top), [root](/feed.xml), [page 2](files/the%20slides.pdf#page=2)\n\n"
        f"[next week](ep2.md), [hidden](.private), [a very long name]({'x' * 300}.pdf), [nul](a%00b.pdf)"
    )
    parsed = notes.read(write_notes(tmp_path, "ep", "title: T", body))
    assert parsed.files == (
        "photo.png",
        "files/the%20slides.pdf",
        "./photo.png",
        "files/the%20slides.pdf#page=2",
    )  # never notes or hidden files
    assert [markdown.local_name(url) for url in parsed.files] == [
        "photo.png",
        "files/the slides.pdf",
        "photo.png",
        "files/the slides.pdf",
    ]
    assert (
        markdown.relinked("files/the%20slides.pdf#page=2", "https://pod.example.com/x.pdf")
        == "https://pod.example.com/x.pdf#page=2"
    )
    assert (
        parsed.mentions == ("ep2.md",) and markdown.mentioned_slug("ep2.md") == "ep2"
    )  # another episode's notes: linked to its page


@pytest.mark.parametrize("image", ["missing.png", "../outside.png"])
def test_an_image_that_is_not_beside_the_notes_names_its_line(tmp_path: Path, image: str):
    (tmp_path / "outside.png").write_bytes(b"png")
    path = write_notes(tmp_path, "ep", "title: T\ndate: 2026-01-01", f"First paragraph.\n\n![A picture]({image})")
    err = read_error(path)
    assert err.problem == f"line 8: the image {image!r} is not a file in show_notes/"


# --- hostile front matter and files ------------------------------------------------------------------------------------


def test_notes_that_lead_outside_the_show_folder_are_refused(tmp_path: Path):
    (tmp_path / "elsewhere.md").write_text("---\ntitle: Someone else's file\n---\nprivate words\n", encoding="utf-8")
    path = tmp_path / "show" / "show_notes" / "ep.md"
    path.parent.mkdir(parents=True)
    path.symlink_to(tmp_path / "elsewhere.md")
    assert read_error(path).problem == "leads outside the show folder (a symlink)"


def test_front_matter_built_to_hang_or_crash_the_reader_is_an_error(tmp_path: Path):
    deep = read_error(write_notes(tmp_path, "deep", "title: T\nx: " + "[" * 5000 + "]" * 5000))
    assert deep.problem == "front matter is nested too deeply"
    chain = "".join(f"k{i}: &k{i} [{', '.join([f'*k{i - 1}' if i else 'x'] * 9)}]\n" for i in range(12))  # 9**12 leaves
    err = read_error(write_notes(tmp_path, "laughs", "title: T\n" + chain))
    assert err.problem == "unknown key `k0`"  # every scalar is looked at once, not once per path to it


def test_numbers_audio_tags_cannot_hold_are_refused(tmp_path: Path):
    err = read_error(write_notes(tmp_path, "ep", "title: T\nepisode: 70000"))
    assert err.problem == "episode is 70000, more than the 65535 audio tags can hold"


def test_yaml_errors_are_worded_as_pyyaml_words_them(tmp_path: Path):
    # libyaml reads the front matter; on an error PyYAML's own reader words it, as before
    err = read_error(write_notes(tmp_path, "ep", "title: Fine\nsummary: ok\n  bad: x"))
    assert err.problem == "front matter is not valid YAML at line 4: mapping values are not allowed here"


def test_word_processor_breaks_in_the_body_become_spaces_with_a_warning_naming_the_lines(tmp_path: Path):
    path = write_notes(tmp_path, "ep", "title: T", "First\x0bline.\n\nPage\x0cbreak and\x0b another.")
    parsed = notes.read(path)
    assert parsed.body == "First line.\n\nPage break and  another."
    assert parsed.spaced == (5, 7)
    (warning,) = notes.warnings(parsed)
    assert (
        warning.path == path and warning.problem.startswith("lines 5, 7: vertical tabs or form feeds") and warning.fix
    )
    assert notes.warnings(notes.read(write_notes(tmp_path, "clean", "title: T"))) == []


# --- web addresses -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com",
        "http://example.com/a/b?c=d&e=f#g",
        "HTTPS://Example.COM/Path",
        "https://example.com:8443/x",
        "https://[2001:db8::1]/x",
        "https://bücher.example/é",
        "https://example.com/it's%20here",
        'https://example.com/?q="><script>alert(1)</script>&x=<y>#"',  # the pages percent-encode what it holds
    ],
)
def test_a_web_address_is_an_absolute_http_address_with_a_host(url: str):
    assert markdown.address_problem(url) == "" and markdown.is_web_address(url)


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("javascript:alert(1)", "it is a javascript: address"),
        ("JaVaScRiPt:alert(1)", "it is a JaVaScRiPt: address"),
        ("vbscript:msgbox(1)", "it is a vbscript: address"),
        ("data:text/html,<b>x</b>", "it is a data: address"),
        ("data:image/png;base64,iVBORw0KGgo=", "it is a data: address"),
        ("file:///etc/passwd", "it is a file: address"),
        ("ftp://example.com/a", "it is a ftp: address"),
        ("mailto:host@example.com", "it is a mailto: address"),
        (" https://example.com", "not an absolute"),
        ("\x01javascript:alert(1)", "not an absolute"),
        ("//example.com/x", "not an absolute"),
        ("example.com/x", "not an absolute"),
        ("/x", "not an absolute"),
        ("", "it is empty"),
        ("https:/example.com", "it has no host"),
        ("https:example.com", "it has no host"),
        ("http://", "it has no host"),
        ("https:///x", "it has no host"),
        ("http://:80/x", "it has no host"),
        ("http://example.com:80x/", "its host or port cannot be read"),
        ("http://example.com:99999/", "its host or port cannot be read"),
        ("http://example.com:0/", "its port 0"),
        ("https://[::1/x", "its host or port cannot be read"),
        ("https://example.com/a b", "a space"),
        ("https://example.com/\t", "a control character (U+0009)"),
        ("ht\ttps://example.com", "not an absolute"),
        ("https://example.com/\x7f", "a control character (U+007F)"),
        ("https://example.com/\u200b", "an invisible character (U+200B)"),
        ("https://example.com/\u00a0", "a space (U+00A0)"),
        ('https://exa"mple.com/', "its host holds '\"'"),
        ("https://<script>.example/", "its host holds '<'"),
        ("https://example.com\\@evil.example/", "it holds a backslash"),
        ("https:\\\\evil.example/", "it holds a backslash"),
        ("https://me:secret@example.com/", "a user name or password"),
        ("https://example.com@evil.example/", "a user name or password"),
        (42, "it is not text"),
    ],
)
def test_anything_else_is_no_web_address_and_says_why(url, said: str):
    problem = markdown.address_problem(url)
    assert said in problem and not markdown.is_web_address(url)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("slides.pdf", True),
        ("other.md#end", True),
        ("/blog/post/", True),
        ("//example.com/x", True),
        ("https://example.com/", True),
        ("HTTP://example.com/", True),
        ("mailto:host@example.com", True),
        ("javascript:alert(1)", False),
        ("  \x01JavaScript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("vbscript:x", False),
        ("data:image/png;base64,AA", False),
        ("file:///etc/passwd", False),
        ("tel:+1555", False),
    ],
)
def test_a_body_link_is_relative_or_a_web_or_mail_address(url: str, allowed: bool):
    assert markdown.link_allowed(url) is allowed


@pytest.mark.parametrize(
    ("front", "said"),
    [
        ("comments: 'javascript:alert(1)'", "line 4: comments 'javascript:alert(1)' is not a web address"),
        ("comments:\n  url: 'data:text/html,x'\n  protocol: bluesky", "line 5: comments url 'data:text/html,x'"),
        (
            "comments:\n  url: 'https://m.example/1'\n  protocol: nostr\n  account_url: 'https:/m'",
            "line 7: comments account_url",
        ),
        ("comments: {protocol: activitypub}", "comments has a protocol but no url"),
        ("panelists:\n  - Ann\n  - name: Bo\n    img: 'file:///x.png'", "line 7: panelist 'Bo' img 'file:///x.png'"),
        ("panelists:\n  - name: Bo\n    role: host\n    href: '//bo.example'", "line 7: panelist 'Bo' href"),
        (
            "chapters:\n  - start: 0\n    title: A\n    image: 'vbscript:x'",
            "chapter image 'vbscript:x' is not a web address",
        ),
        (
            "chapters:\n  - '0:00 A <JAVASCRIPT:alert(1)>'",
            "line 5: chapter url 'JAVASCRIPT:alert(1)' is not a web address",
        ),
    ],
)
def test_an_address_in_the_notes_that_is_no_web_page_names_its_line(tmp_path: Path, front: str, said: str):
    err = read_error(write_notes(tmp_path, "ep", "title: Ep\ndate: 2026-01-01\n" + front))
    assert said in err.problem and "https://" in err.fix


def test_addresses_in_the_notes_are_kept_as_written_without_the_spaces_around_them(tmp_path: Path):
    parsed = notes.read(
        write_notes(
            tmp_path,
            "ep",
            "title: Ep\ncomments:\n  url: ' https://m.example/@a/1 '\n  protocol: activitypub\n"
            "panelists:\n  - name: Bo\n    href: 'HTTPS://Bo.example/'\nchapters:\n  - 0:00 A <https://a.example/x?y=1>",
        )
    )
    assert parsed.comments.url == "https://m.example/@a/1" and parsed.panelists[0].href == "HTTPS://Bo.example/"
    assert parsed.chapters[0].url == "https://a.example/x?y=1" and parsed.chapters[0].title == "A"
