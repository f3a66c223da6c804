"""Explicit content: the tri-state, the profanity scan with locations, and what `[explicit] on_detect` does."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from pipeline import config as config_module
from pipeline.build import build
from pipeline.cli import main
from pipeline.episode import explicit, notes
from pipeline.errors import ConfigError, ExplicitContentError, NotesError
from tests.conftest import show_with, write_notes, write_show
from tests.records import show_config

REPO = Path(__file__).resolve().parent.parent
ITUNES = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd"}

SWEARY_FRONT = """\
title: "Budgets, and why they're shit"
date: 2026-04-01
explicit: false
summary: >
  Two managers argue
  about bullshit metrics.
"""
SWEARY_BODY = "We talk about budgets.\n\nThen Bo says: we're fucked.\n"


def _config(tmp_path: Path, **explicit_settings) -> config_module.Config:
    cfg = show_config(root=tmp_path)
    return replace(cfg, explicit=config_module.ExplicitSettings(**explicit_settings)) if explicit_settings else cfg


def _located(path: Path, finding: explicit.Finding) -> str:
    """The text of the file at a finding's line and column."""
    line = path.read_text(encoding="utf-8").splitlines()[finding.line - 1]
    return line[finding.column - 1 : finding.column - 1 + len(finding.word)]


@pytest.mark.parametrize(
    ("episode", "show", "expected"),
    [
        (True, None, True),
        (True, False, True),
        (False, True, False),
        (None, True, True),
        (None, False, False),
        (None, None, False),
    ],
)
def test_tri_state_episode_wins_then_the_show_then_clean(episode, show, expected):
    assert explicit.effective(episode, show) is expected


def test_show_explicit_is_not_set_unless_written(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    toml = 'title = "T"\ndescription = "D"\nauthor = "A"\nowner_email = "a@example.com"\nsite_url = "https://example.com/"\n'
    (folder / "panelpress.toml").write_text("[show]\n" + toml)
    assert config_module.load(folder).show.explicit is None
    (folder / "panelpress.toml").write_text(
        "[show]\n"
        + toml
        + 'explicit = true\n[explicit]\non_detect = "flag"\nextra_words = ["frak"]\nallow_words = ["bloody"]\n'
    )
    cfg = config_module.load(folder)
    assert cfg.show.explicit is True
    assert cfg.explicit == config_module.ExplicitSettings(
        on_detect="flag", extra_words=("frak",), allow_words=("bloody",)
    )


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ('on_detect = "shout"', "on_detect = 'shout' is not allowed"),
        ('extra_words = "frak"', "extra_words = 'frak' is not a list of quoted strings"),
        ("allow_words = [1, 2]", "holds something that is not a word"),
    ],
)
def test_bad_explicit_settings_are_refused(tmp_path, section, expected):
    folder = write_show(tmp_path / "s")
    toml = folder / "panelpress.toml"
    toml.write_text(toml.read_text() + f"\n[explicit]\n{section}\n")
    with pytest.raises(ConfigError) as caught:
        config_module.load(folder)
    assert expected in caught.value.problem and caught.value.fix


def test_scan_locates_each_word_by_line_and_column(tmp_path):
    text = "Fine first line.\n🎙 שלום — what the fuck\nshit, Shit and SHIT; assessment, Scunthorpe, class\n"
    found = explicit.scan(text, "transcript.vtt", _config(tmp_path))
    assert [(f.word, f.line, f.column) for f in found] == [
        ("fuck", 2, 19),
        ("shit", 3, 1),
        ("Shit", 3, 7),
        ("SHIT", 3, 16),
    ]
    assert {f.where for f in found} == {"transcript.vtt"}
    lines = text.splitlines()
    assert all(lines[f.line - 1][f.column - 1 :].startswith(f.word) for f in found)


def test_inflections_extra_and_allowed_words(tmp_path):
    cfg = _config(tmp_path, extra_words=("frak",), allow_words=("shit",))
    words = [f.word for f in explicit.scan("we're fucked, you fraking wankers; frak that shit and shits", "x", cfg)]
    assert words == [
        "fucked",
        "wankers",
        "frak",
    ]  # "fraking" is not an inflection we add; "shit" and "shits" are allowed
    assert [f.word for f in explicit.scan("frak", "x", _config(tmp_path))] == []


def test_the_show_language_picks_the_dictionary(tmp_path):
    german = replace(_config(tmp_path), show=replace(_config(tmp_path).show, language="de-DE"))
    assert [f.word for f in explicit.scan("Das ist Scheiße, fuck.", "x", german)] == ["Scheiße", "fuck"]


def test_notes_are_scanned_in_title_summary_and_body_with_file_positions(tmp_path):
    path = write_notes(tmp_path, "budget", SWEARY_FRONT, SWEARY_BODY)
    found = explicit.scan_notes(notes.read(path), _config(tmp_path))
    assert [(f.word, f.line, f.column) for f in found] == [("shit", 2, 34), ("bullshit", 7, 9), ("fucked", 12, 21)]
    assert [_located(path, f) for f in found] == ["shit", "bullshit", "fucked"]


def test_panelist_names_and_other_keys_are_not_scanned(tmp_path):
    path = write_notes(
        tmp_path, "names", "title: Clean talk\ndate: 2026-04-01\npanelists: [Shit Happens]", "All clean here."
    )
    assert explicit.scan_notes(notes.read(path), _config(tmp_path)) == ()


def test_warn_says_where_the_words_are_and_keeps_the_episode_clean(tmp_path):
    path = write_notes(tmp_path, "budget", SWEARY_FRONT, SWEARY_BODY)
    parsed = notes.read(path)
    kept, warning = explicit.review(parsed, explicit.scan_notes(parsed, _config(tmp_path)), _config(tmp_path))
    assert kept == parsed
    assert isinstance(warning, ExplicitContentError) and warning.path == path
    assert "is marked clean (explicit: false)" in warning.problem
    assert "'shit' at 2:34, 'bullshit' at 7:9, 'fucked' at 12:21" in warning.problem
    assert "explicit: true" in warning.fix and "allow_words" in warning.fix


def test_flag_marks_the_episode_explicit_and_fail_holds_it_back(tmp_path):
    path = write_notes(tmp_path, "budget", SWEARY_FRONT.replace("explicit: false\n", ""), SWEARY_BODY)
    parsed = notes.read(path)
    found = explicit.scan_notes(parsed, _config(tmp_path))
    flagged, warning = explicit.review(parsed, found, _config(tmp_path, on_detect="flag"))
    assert flagged.explicit is True and "published as explicit" in warning.problem
    assert "is not marked explicit but" in warning.problem
    with pytest.raises(NotesError) as caught:
        explicit.review(parsed, found, _config(tmp_path, on_detect="fail"))
    assert isinstance(caught.value, ExplicitContentError) and "held back" in caught.value.fix


def test_an_explicit_episode_or_show_gets_no_warning(tmp_path):
    path = write_notes(tmp_path, "budget", SWEARY_FRONT.replace("explicit: false", "explicit: true"), SWEARY_BODY)
    parsed = notes.read(path)
    assert explicit.review(parsed, explicit.scan_notes(parsed, _config(tmp_path)), _config(tmp_path)) == (parsed, None)
    unset = notes.read(write_notes(tmp_path, "other", SWEARY_FRONT.replace("explicit: false\n", ""), SWEARY_BODY))
    show = replace(_config(tmp_path), show=replace(_config(tmp_path).show, explicit=True))
    assert explicit.review(unset, explicit.scan_notes(unset, show), show)[1] is None


def test_transcript_findings_are_reported_with_their_file(tmp_path):
    parsed = notes.read(write_notes(tmp_path, "clean", "title: Clean\ndate: 2026-04-01", "All clean."))
    cues = "WEBVTT\n\n00:00.000 --> 00:02.000\n<v Bo>That was shit.\n"
    found = explicit.scan(cues, tmp_path / "episodes" / "clean.vtt", _config(tmp_path))
    _, warning = explicit.review(parsed, explicit.scan_notes(parsed, _config(tmp_path)) + found, _config(tmp_path))
    assert "'shit' at clean.vtt:4:16" in warning.problem


def test_long_lists_of_words_are_counted(tmp_path):
    parsed = notes.read(write_notes(tmp_path, "many", "title: Many\ndate: 2026-04-01", "shit " * 20))
    _, warning = explicit.review(parsed, explicit.scan_notes(parsed, _config(tmp_path)), _config(tmp_path))
    assert warning.problem.count("'shit' at") == explicit.SHOWN and "and 8 more" in warning.problem


def test_the_example_show_is_explicit_so_it_gets_no_warning():
    cfg = config_module.load(REPO)
    parsed = notes.read(REPO / "show_notes" / "management-vs-leadership.md")
    assert parsed.explicit is True
    found = explicit.episode_findings(parsed, cfg, REPO / "episodes" / "management-vs-leadership.vtt")
    assert [f.word for f in found] == ["shit"]  # the panel swears in the transcript…
    assert explicit.review(parsed, found, cfg)[1] is None  # …and the notes say so
    assert explicit.review(replace(parsed, explicit=None), found, cfg)[1] is not None


def _sweary_show(tmp_path: Path, audio_dir: Path, on_detect: str | None = None) -> Path:
    extra = "" if on_detect is None else f'[explicit]\non_detect = "{on_detect}"'
    show = show_with(
        tmp_path / "show", audio_dir, {"calm": ("mono.flac", "title: Calm\ndate: 2026-04-02")}, extra_build=extra
    )
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / "budget.wav")
    write_notes(show, "budget", SWEARY_FRONT, SWEARY_BODY)
    return show


def test_build_warns_about_a_clean_episode_that_swears(tmp_path, audio_dir, capsys):
    show = _sweary_show(tmp_path, audio_dir)
    assert main(["build", "--show", str(show)]) == 0
    out = capsys.readouterr()
    assert "warning:" in out.err and "show_notes/budget.md" in out.err and "'fucked' at 12:21" in out.err
    assert "1 warning" in out.out
    result = build(config_module.load(show))
    assert len(result.warnings) == 1 and result.warnings[0].path.name == "budget.md"
    assert etree.parse(str(show / "public" / "feed.xml")).xpath("//item/itunes:explicit/text()", namespaces=ITUNES) == [
        "false",
        "false",
    ]


def test_flag_publishes_the_episode_as_explicit(tmp_path, audio_dir):
    show = _sweary_show(tmp_path, audio_dir, "flag")
    result = build(config_module.load(show))
    assert [(i.episode.slug, i.explicit) for i in result.published] == [("calm", False), ("budget", True)]
    assert etree.parse(str(show / "public" / "feed.xml")).xpath("//item/itunes:explicit/text()", namespaces=ITUNES) == [
        "false",
        "true",
    ]
    assert 'class="badge explicit"' in (show / "public" / "episodes" / "budget.html").read_text()
    assert (show / "public" / "index.html").read_text().count('class="badge explicit"') == 1


def test_fail_holds_the_episode_back_and_publishes_the_rest(tmp_path, audio_dir, capsys):
    show = _sweary_show(tmp_path, audio_dir, "fail")
    assert main(["build", "--show", str(show)]) == 1
    err = capsys.readouterr().err
    assert "error:" in err and "budget.md" in err and "'shit' at 2:34" in err
    assert etree.parse(str(show / "public" / "feed.xml")).xpath("//item/title/text()") == ["Calm"]


def test_build_scans_the_transcript_too(tmp_path, audio_dir, capsys):
    show = _sweary_show(tmp_path, audio_dir)
    (show / "episodes" / "calm.vtt").write_text(
        "WEBVTT\n\n00:00.000 --> 00:01.000\n<v Bo>That was shit.\n", encoding="utf-8"
    )
    assert main(["build", "--show", str(show)]) == 0
    err = capsys.readouterr().err
    assert "show_notes/calm.md: is not marked explicit" in err and "'shit' at calm.vtt:4:16" in err


# --- long notes: the scan is fast and finds what the library finds --------------------------------------------------


def _library_matches(text: str, lexicon: explicit.Lexicon) -> list[tuple[str, int]]:
    """What an untouched glin-profanity Filter, given the whole text at once, finds: (word, index)."""
    from glin_profanity import Filter

    words = [*Filter({"languages": lexicon.languages}).words]
    plain = Filter({"languages": lexicon.languages, "custom_words": lexicon.custom})
    assert type(plain._scanner._rest_any).__name__ == "Pattern" and words  # not the prefiltered stand-in
    return sorted(
        (m["word"].casefold(), m["index"])
        for m in plain.check_profanity(text)["matches"]
        if m["word"].casefold() not in lexicon.allow
    )


def test_the_quick_scan_finds_what_the_library_finds_over_a_long_text(tmp_path):
    lexicon = explicit.lexicon(_config(tmp_path))
    filler = "We talk about management and leadership, and why teams need both.\n\n" * 70  # more than one chunk
    tricky = [
        "what a blow job",
        "f*ck it",
        "s.h.i.t happens",
        "sh1t",
        "a$$ kicking",
        "bullshitting",
        "SHIT",
        "fuuuuck",
        "2 girls 1 cup",
        "Scunthorpe",
    ]
    text = filler.join(tricky) + filler
    assert len(text) > 3 * explicit.CHUNK
    found = sorted((f.word.casefold(), f.line, f.column) for f in lexicon.find(text, "x"))
    starts = [0, *(i + 1 for i, c in enumerate(text) if c == "\n")]
    expected = []
    for word, index in _library_matches(text, lexicon):
        line = max(n for n, start in enumerate(starts, 1) if start <= index)
        expected.append(
            (
                text[index : index + len(word)].casefold()
                if text[index : index + len(word)].casefold() == word
                else word,
                line,
                index - starts[line - 1] + 1,
            )
        )
    assert found == sorted(set(expected)) and len(found) >= 3


def test_a_long_body_is_scanned_with_its_places(tmp_path):
    paragraph = "We talk about management and leadership, and why teams need both. " * 3
    body = "\n\n".join([paragraph] * 6000 + ["Then Bo says: we're fucked."] + [paragraph] * 6000)  # about 2.5 MB
    path = write_notes(tmp_path, "long", "title: Long\ndate: 2026-04-01", body)
    found = explicit.scan_notes(notes.read(path), _config(tmp_path))
    line = path.read_text().splitlines().index("Then Bo says: we're fucked.") + 1
    assert [(f.word, f.line, f.column) for f in found] == [("fucked", line, 21)]


def test_notes_are_read_once_for_the_scan(tmp_path):
    path = write_notes(tmp_path, "budget", SWEARY_FRONT, SWEARY_BODY)
    parsed = notes.read(path)
    path.unlink()  # the scan works from what reading the notes kept
    assert [(f.word, f.line, f.column) for f in explicit.scan_notes(parsed, _config(tmp_path))] == [
        ("shit", 2, 34),
        ("bullshit", 7, 9),
        ("fucked", 12, 21),
    ]
