"""config.load: a valid panelpress.toml loads with its defaults; every bad one names the file, the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import config
from pipeline.errors import ConfigError, PanelpressError
from tests.conftest import PNG_1PX, bomb_png, write_show

VALID_SHOW = """\
[show]
title = "Test Panel"
description = "A panel made by the tests."
author = "Test Author"
owner_email = "owner@example.com"
site_url = "https://pod.example.com/show/"
"""


def write_toml(folder: Path, text: str) -> Path:
    """Write a panelpress.toml with exactly this text (no template)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / config.CONFIG_NAME).write_text(text, encoding="utf-8")
    return folder


def load_error(folder: Path) -> ConfigError:
    """Load a show folder that must fail; return the ConfigError after the common checks."""
    with pytest.raises(ConfigError) as caught:
        config.load(folder)
    err = caught.value
    path = (folder / config.CONFIG_NAME).resolve()
    assert err.path == path
    assert str(path) in str(err), "the message must name the file"
    assert err.fix, "the message must say what to do"
    assert isinstance(err, PanelpressError)
    return err


# --- valid configs -------------------------------------------------------------------------


def test_valid_config_loads_with_defaults(show: Path):
    cfg = config.load(show)
    assert cfg.root == show.resolve()
    assert cfg.path == show.resolve() / "panelpress.toml"
    assert cfg.show.title == "Test Panel"
    assert cfg.show.author == "Test Author"
    assert cfg.show.owner_email == "owner@example.com"
    assert cfg.show.category == "Business"
    assert cfg.show.subcategory == "Management"
    assert cfg.show.explicit is False
    # defaults
    assert cfg.show.language == "en"
    assert cfg.show.type == "episodic"
    assert cfg.show.artwork == ""
    assert cfg.artwork_path is None
    assert cfg.owner_name == "Test Author"  # falls back to the author
    assert cfg.build.output == "public"
    assert cfg.build.workers == 0
    assert cfg.output_dir == show.resolve() / "public"
    assert cfg.episodes_dir == show.resolve() / "episodes"
    assert cfg.notes_dir == show.resolve() / "show_notes"
    assert cfg.ledger_path == show.resolve() / "panelpress-ledger.json"
    assert cfg.audio.format == "mp3"
    assert cfg.audio.bitrate == 128
    assert cfg.audio.sample_rate == 44100
    assert cfg.audio.loudness == -16.0
    assert cfg.audio.true_peak == -1.0
    assert cfg.audio.normalize is False  # write_show turns it off
    assert cfg.audio.highpass == 0


def test_minimal_config_only_show_section(tmp_path: Path):
    cfg = config.load(write_toml(tmp_path / "s", VALID_SHOW))
    assert cfg.build == config.BuildSettings()
    assert cfg.audio == config.AudioSettings()
    assert cfg.audio.normalize is True
    assert cfg.show.category == "Business" and cfg.show.subcategory == ""


def test_int_is_accepted_where_a_float_is_expected(tmp_path: Path):
    cfg = config.load(write_show(tmp_path / "s", extra_audio="loudness = -18\ntrue_peak = -2"))
    assert cfg.audio.loudness == -18.0 and isinstance(cfg.audio.loudness, float)
    assert cfg.audio.true_peak == -2.0 and isinstance(cfg.audio.true_peak, float)


def test_strings_are_stripped(tmp_path: Path):
    text = VALID_SHOW.replace('title = "Test Panel"', 'title = "  Spaced Panel  "')
    assert config.load(write_toml(tmp_path / "s", text)).show.title == "Spaced Panel"


def test_existing_artwork_is_accepted(tmp_path: Path):
    folder = write_show(tmp_path / "s", extra_show='artwork = "cover.png"')
    (folder / "cover.png").write_bytes(PNG_1PX)
    cfg = config.load(folder)
    assert cfg.artwork_path == folder.resolve() / "cover.png"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("https://pod.example.com/show/", "https://pod.example.com/show/"),
        ("https://pod.example.com/show", "https://pod.example.com/show/"),
        ("https://pod.example.com", "https://pod.example.com/"),
        ("https://pod.example.com/show//", "https://pod.example.com/show/"),
    ],
)
def test_site_url_always_ends_with_one_slash(tmp_path: Path, written: str, expected: str):
    text = VALID_SHOW.replace("https://pod.example.com/show/", written)
    cfg = config.load(write_toml(tmp_path / "s", text))
    assert cfg.site_url == expected
    assert cfg.site_url.endswith("/") and not cfg.site_url.endswith("//")


def test_starter_config_is_valid_once_its_placeholders_are_replaced(tmp_path: Path):
    folder = write_toml(tmp_path / "s", config.STARTER.format(title="My Panel", **config.PLACEHOLDERS))
    assert "still the starter's" in str(load_error(folder))
    folder = write_toml(
        tmp_path / "s",
        config.STARTER.format(
            title="My Panel", site_url="https://mine.example.org/", owner_email="me@mine.example.org"
        ),
    )
    cfg = config.load(folder)
    assert cfg.show.title == "My Panel"
    assert cfg.audio.bitrate == 128


# --- error paths ---------------------------------------------------------------------------


def test_missing_config_file(tmp_path: Path):
    folder = tmp_path / "empty"
    folder.mkdir()
    err = load_error(folder)
    assert "no panelpress.toml" in err.problem
    assert "panelpress init" in err.fix


def test_toml_syntax_error(tmp_path: Path):
    folder = write_toml(tmp_path / "s", VALID_SHOW + 'language = "en\n')
    err = load_error(folder)
    assert "not valid TOML" in err.problem
    assert "line 7" in err.problem  # tomllib names the place
    assert "syntax" in err.fix


def test_config_that_is_not_utf8(tmp_path: Path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / config.CONFIG_NAME).write_bytes(VALID_SHOW.encode() + b'copyright = "\xff\xfe"\n')
    err = load_error(folder)
    assert "not valid TOML" in err.problem


def test_missing_show_section(tmp_path: Path):
    folder = write_toml(tmp_path / "s", "[audio]\nbitrate = 128\n")
    err = load_error(folder)
    assert "[show]" in err.problem and "missing" in err.problem
    assert "[show]" in err.fix and "title" in err.fix


def test_show_that_is_not_a_table(tmp_path: Path):
    folder = write_toml(tmp_path / "s", 'show = "Test Panel"\n')
    err = load_error(folder)
    assert "`show`" in err.problem and "table" in err.problem
    assert "[show]" in err.fix


@pytest.mark.parametrize("key", ["title", "description", "author", "owner_email", "site_url"])
def test_missing_required_key(tmp_path: Path, key: str):
    text = "\n".join(line for line in VALID_SHOW.splitlines() if not line.startswith(f"{key} ")) + "\n"
    err = load_error(write_toml(tmp_path / "s", text))
    assert err.problem == f"[show] {key} is missing"
    assert f"`{key} = ...`" in err.fix and "[show]" in err.fix


def test_empty_required_key(tmp_path: Path):
    text = VALID_SHOW.replace('author = "Test Author"', 'author = "   "')
    err = load_error(write_toml(tmp_path / "s", text))
    assert "[show] author" in err.problem and "empty" in err.problem
    assert "author" in err.fix


@pytest.mark.parametrize(
    ("section", "line", "key", "words"),
    [
        ("audio", 'bitrate = "128"', "bitrate", "a whole number"),
        ("build", "workers = true", "workers", "a whole number"),  # a bool is not an int
        ("audio", "bitrate = 128.0", "bitrate", "a whole number"),
        ("audio", "normalize = 1", "normalize", "true or false"),
        ("show", 'explicit = "false"', "explicit", "true or false"),
        ("audio", 'loudness = "-16"', "loudness", "a number"),
        ("audio", "loudness = true", "loudness", "a number"),
        ("show", "title = 42", "title", "a quoted string"),
    ],
)
def test_wrong_type(tmp_path: Path, section: str, line: str, key: str, words: str):
    if section == "show":
        text = VALID_SHOW.replace('title = "Test Panel"', line) if key == "title" else VALID_SHOW + line + "\n"
    else:
        text = f"{VALID_SHOW}\n[{section}]\n{line}\n"
    err = load_error(write_toml(tmp_path / "s", text))
    assert err.problem.startswith(f"[{section}] {key} = ")
    assert f"is not {words}" in err.problem
    assert err.fix == f"write {key} as {words}"


def test_unknown_key_suggests_the_right_one(tmp_path: Path):
    text = VALID_SHOW.replace('title = "Test Panel"', 'titel = "Test Panel"')
    err = load_error(write_toml(tmp_path / "s", text))
    assert err.problem == "unknown setting `show.titel`"
    assert err.fix == "did you mean `show.title`?"


def test_unknown_key_in_audio_suggests(tmp_path: Path):
    err = load_error(write_show(tmp_path / "s", extra_audio="bitrat = 96"))
    assert "`audio.bitrat`" in err.problem
    assert "`audio.bitrate`" in err.fix


def test_unknown_key_without_a_close_match_lists_known_keys(tmp_path: Path):
    err = load_error(write_show(tmp_path / "s", extra_build="zzzzzz = 1"))
    assert "`build.zzzzzz`" in err.problem
    assert "known keys" in err.fix and "output" in err.fix and "publish_new" in err.fix


def test_unknown_section_with_suggestion(tmp_path: Path):
    err = load_error(write_toml(tmp_path / "s", VALID_SHOW + "\n[audoi]\nbitrate = 96\n"))
    assert err.problem == "unknown setting `audoi`"
    assert err.fix == "did you mean `audio`?"


def test_unknown_section_without_a_close_match(tmp_path: Path):
    err = load_error(write_toml(tmp_path / "s", VALID_SHOW + "\n[xyzzy]\nfoo = 1\n"))
    assert "`xyzzy`" in err.problem
    assert "show" in err.fix and "build" in err.fix and "audio" in err.fix


@pytest.mark.parametrize(
    ("section", "line", "key", "hint"),
    [
        ("audio", "loudness = -50", "loudness", "between -30 and -10"),
        ("audio", "loudness = -5.0", "loudness", "between -30 and -10"),
        ("audio", "true_peak = 1.0", "true_peak", "between -9 and 0"),
        ("audio", "bitrate = 16", "bitrate", "between 32 and 320"),
        ("audio", "sample_rate = 96000", "sample_rate", "44100"),
        ("audio", "highpass = 10", "highpass", "between 20 and 300"),
        ("audio", 'format = "ogg"', "format", "mp3, m4a"),
        ("build", "workers = 65", "workers", "up to 64"),
        ("show", 'type = "daily"', "type", "episodic, serial"),
        ("show", 'language = "english!"', "language", "language code"),
    ],
)
def test_value_out_of_range(tmp_path: Path, section: str, line: str, key: str, hint: str):
    err = load_error(write_show(tmp_path / "s", **{f"extra_{section}": line}))
    assert err.problem.startswith(f"[{section}] {key} = ")
    assert err.problem.endswith("is not allowed")
    assert hint in err.fix


def test_loudness_out_of_range_message(tmp_path: Path):
    err = load_error(write_show(tmp_path / "s", extra_audio="loudness = -50"))
    assert err.problem == "[audio] loudness = -50.0 is not allowed"
    assert "-16" in err.fix


@pytest.mark.parametrize("email", ["owner", "owner@", "owner@example", "own er@example.com", "@example.com"])
def test_bad_email(tmp_path: Path, email: str):
    text = VALID_SHOW.replace("owner@example.com", email)
    err = load_error(write_toml(tmp_path / "s", text))
    assert err.problem.startswith("[show] owner_email = ")
    assert "host@example.com" in err.fix


@pytest.mark.parametrize("url", ["pod.example.com/show/", "ftp://pod.example.com/", "https://", "/show/"])
def test_bad_site_url(tmp_path: Path, url: str):
    text = VALID_SHOW.replace("https://pod.example.com/show/", url)
    err = load_error(write_toml(tmp_path / "s", text))
    assert err.problem.startswith("[show] site_url = ")
    assert "https://example.com/podcast/" in err.fix


def test_category_not_on_apples_list(tmp_path: Path):
    text = VALID_SHOW + 'category = "Podcasts"\n'
    err = load_error(write_toml(tmp_path / "s", text))
    assert "[show]" in err.problem and "category 'Podcasts'" in err.problem
    assert "Technology" in err.problem  # the list of choices is shown
    assert "Apple" in err.fix


def test_old_itunes_category_is_refused(tmp_path: Path):
    # "Games & Hobbies" was removed from Apple's list in 2019 (feedgen 1.0 still has it).
    err = load_error(write_toml(tmp_path / "s", VALID_SHOW + 'category = "Games & Hobbies"\n'))
    assert "Games & Hobbies" in err.problem


def test_subcategory_not_under_its_category(tmp_path: Path):
    text = VALID_SHOW + 'category = "Business"\nsubcategory = "Physics"\n'
    err = load_error(write_toml(tmp_path / "s", text))
    assert "subcategory 'Physics'" in err.problem and "'Business'" in err.problem
    assert "Management" in err.problem  # the valid subcategories are listed


def test_subcategory_under_a_category_without_any(tmp_path: Path):
    err = load_error(write_toml(tmp_path / "s", VALID_SHOW + 'category = "Technology"\nsubcategory = "Gadgets"\n'))
    assert "leave subcategory empty" in err.problem


def test_valid_category_pairs_load(tmp_path: Path):
    cfg = config.load(write_toml(tmp_path / "s", VALID_SHOW + 'category = "Science"\nsubcategory = "Physics"\n'))
    assert (cfg.show.category, cfg.show.subcategory) == ("Science", "Physics")


def test_artwork_file_missing(tmp_path: Path):
    err = load_error(write_show(tmp_path / "s", extra_show='artwork = "cover.jpg"'))
    assert err.problem == "show.artwork names 'cover.jpg', which does not exist"
    assert "show folder" in err.fix


def test_intro_file_missing(tmp_path: Path):
    err = load_error(write_show(tmp_path / "s", extra_audio='intro = "jingle.wav"'))
    assert "audio.intro" in err.problem and "jingle.wav" in err.problem


def test_artwork_that_is_a_folder_is_missing(tmp_path: Path):
    folder = write_show(tmp_path / "s", extra_show='artwork = "art"')
    (folder / "art").mkdir()
    err = load_error(folder)
    assert "show.artwork" in err.problem


# --- settings that would write into the host's own folders, or publish what is not theirs ----------------------------


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ('output = "."', "is the show folder"),
        ('output = ".."', "holds the show folder"),
        ('output = "episodes"', "is the recordings folder episodes/"),
        ('output = "episodes/site"', "is inside the recordings folder episodes/"),
        ('output = "show_notes"', "is the notes folder show_notes/"),
        ('output = "templates/out"', "is inside the templates folder"),
        ('output = ".panelpress-cache/site"', "is inside the cache folder"),
        ('output = "/"', "a filesystem root"),
        ('cache = "episodes"', "is the recordings folder episodes/"),
        ('cache = "public/cache"', "output (…) holds the cache folder"),  # the site would publish the cache
        ('cache = "."', "is the show folder"),
    ],
)
def test_folders_panelpress_writes_into_are_never_the_hosts_own(tmp_path: Path, line: str, said: str):
    err = load_error(write_show(tmp_path / "s", extra_build=line))
    key, said = (said.split(" (…) ")[0], said.split(" (…) ")[1]) if " (…) " in said else (line.split()[0], said)
    assert err.problem.startswith(f"[build] {key}") and said in err.problem
    assert "panelpress would" in err.problem and "of its own" in err.fix


def test_a_site_folder_inside_the_show_folder_or_next_to_it_is_fine(tmp_path: Path):
    assert (
        config.load(write_show(tmp_path / "s", extra_build='output = "public"')).output_dir
        == (tmp_path / "s" / "public").resolve()
    )
    assert (
        config.load(write_show(tmp_path / "t", extra_build='output = "../blog/public/podcast"')).output_dir
        == (tmp_path / "blog" / "public" / "podcast").resolve()
    )


def test_the_home_folder_is_refused(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    folder = write_show(tmp_path / "home" / "shows" / "s", extra_build=f'output = "{tmp_path / "home"}"')
    assert "is your home folder" in load_error(folder).problem
    assert (
        config.load(write_show(folder, extra_build='output = "../../podcast"')).output_dir
        == (tmp_path / "home" / "podcast").resolve()
    )


@pytest.mark.parametrize(
    ("out", "said"),
    [
        (".", "is the show folder"),
        ("episodes", "is the recordings folder"),
        ("show_notes", "is the notes folder"),
        ("/", "filesystem root"),
    ],
)
def test_with_output_checks_the_out_folder(show: Path, monkeypatch, out: str, said: str):
    monkeypatch.chdir(show)
    with pytest.raises(ConfigError) as caught:
        config.with_output(config.load(show), Path(out))
    assert caught.value.problem.startswith(f"--out {out}") and said in caught.value.problem
    assert config.with_output(config.load(show), Path("site")).output_dir == show.resolve() / "site"


def test_an_output_through_a_symlink_is_judged_where_it_leads(show: Path):
    (show / "public").symlink_to(show / "episodes")
    assert "is the recordings folder episodes/" in load_error(show).problem


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("https://pod.example.com/show/?ref=rss", "has a query"),
        ("https://pod.example.com/show/#top", "has a fragment"),
        ("https://me:secret@pod.example.com/show/", "user name or password"),
        ("http://pod.example.com/show/", "is http://"),
        ("https://pod.example.com/my show/", "holds a space"),
    ],
)
def test_site_url_is_an_absolute_https_address_alone(tmp_path: Path, url: str, said: str):
    err = load_error(write_toml(tmp_path / "s", VALID_SHOW.replace("https://pod.example.com/show/", url)))
    assert err.problem.startswith(f"[show] site_url {url!r}") and said in err.problem
    assert "https://pod.example.com/show/" in err.fix or "https://" in err.fix


def test_http_only_when_the_host_says_so_and_then_with_a_warning(tmp_path: Path):
    cfg = config.load(write_toml(tmp_path / "s", VALID_SHOW.replace("https://", "http://") + "allow_http = true\n"))
    assert cfg.site_url == "http://pod.example.com/show/"
    assert [w.problem for w in cfg.warnings] == [
        "[show] site_url 'http://pod.example.com/show/' is http://: apps fetch the feed and audio unencrypted, and Apple Podcasts may refuse it"
    ]
    assert config.load(write_toml(tmp_path / "t", VALID_SHOW)).warnings == ()


@pytest.mark.parametrize("language", ["xx-invalid", "xx", "en_US", "english", "en-", "e"])
def test_language_is_a_bcp47_tag(tmp_path: Path, language: str):
    err = load_error(write_toml(tmp_path / "s", VALID_SHOW + f'language = "{language}"\n'))
    assert err.problem == f"[show] language = {language!r} is not allowed" and "BCP 47" in err.fix


@pytest.mark.parametrize("language", ["en", "en-US", "de-CH", "pt-BR", "zh-Hant-TW", "es-419"])
def test_real_language_tags_are_accepted(tmp_path: Path, language: str):
    assert config.load(write_toml(tmp_path / "s", VALID_SHOW + f'language = "{language}"\n')).show.language == language


@pytest.mark.parametrize("escape", ["\\u0001", "\\u000B", "\\uFFFE", "\\u001b"])
def test_text_a_feed_cannot_carry_is_refused_with_its_key(tmp_path: Path, escape: str):
    err = load_error(
        write_toml(tmp_path / "s", VALID_SHOW.replace('title = "Test Panel"', f'title = "Test{escape}Panel"'))
    )
    assert (
        err.problem.startswith("[show] title holds ")
        and "which a feed cannot carry" in err.problem
        and "U+" in err.problem
    )


def test_artwork_is_checked_by_content_and_must_be_inside_the_show(tmp_path: Path):
    folder = write_show(tmp_path / "s", extra_show='artwork = "cover.png"')
    (folder / "cover.png").write_bytes(b"<html>not a picture</html>")
    assert (
        load_error(folder).problem
        == "show.artwork names 'cover.png', which is not a JPEG or PNG image (by its content, whatever its name)"
    )
    (tmp_path / "secret.png").write_bytes(PNG_1PX)
    (folder / "cover.png").unlink()
    (folder / "cover.png").symlink_to(tmp_path / "secret.png")
    assert (
        load_error(folder).problem == "show.artwork names 'cover.png', which leads outside the show folder (a symlink)"
    )


def test_a_decompression_bomb_is_named_with_its_size(tmp_path: Path):
    folder = write_show(tmp_path / "s", extra_show='artwork = "huge.png"')
    (folder / "huge.png").write_bytes(bomb_png(20000, 20000))  # 400 megapixels in a few bytes
    err = load_error(folder)
    assert (
        err.problem.startswith("show.artwork names 'huge.png', which is 20000×20000 pixels, more than the")
        and "3000×3000" in err.fix
    )
    (folder / "huge.png").write_bytes(
        bomb_png(10000, 10000)
    )  # over Pillow's limit, under twice it (where it only warns)
    assert "which is 10000×10000 pixels, more than the 89,478,485 panelpress decodes" in load_error(folder).problem


def test_the_shows_own_folders_must_be_folders(tmp_path: Path):
    folder = write_show(tmp_path / "s")
    (folder / "episodes").rmdir()
    (folder / "episodes").write_text("not a folder")
    err = load_error(folder)
    assert err.problem == "episodes/ (the recordings) is a file, not a folder" and "make episodes/ a folder" in err.fix
