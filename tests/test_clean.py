"""The clean edition: real speech (espeak-ng), the real aligner, the real encoder; both feeds read back by podcast
clients' parsers; what is published measured again here, on the decoded files."""

from __future__ import annotations

import io
import json
import shutil

import feedparser
import podcastparser
import pytest
import webvtt
from lxml import etree

from pipeline import config as config_module
from pipeline import layout
from pipeline.audio.ffmpeg import ffmpeg
from pipeline.build import build as run_build
from pipeline.cli import main
from pipeline.episode import align, clean, transcribe
from pipeline.episode.transcript import Cue
from tests.conftest import checksums, write_notes, write_show
from tests.speech import levels, needs_espeak, say
from tests.test_engine import watching

pytestmark = needs_espeak

PHRASES = [
    "Welcome to the panel. Today we talk about budgets.",
    1.5,  # long enough for a cue of silence alone (a host's cue in the wrong place)
    "And what the",
    0.08,
    "fuck",
    0.08,
    "happened to the plan?",
    0.6,
    "Thanks for listening.",
]
PODCAST = "{https://podcastindex.org/namespace/1.0}"


def _show(folder, mode: str, normalize: bool, vtt: str | None = None):
    write_show(folder, normalize=normalize, extra_show='language = "en"')
    with (folder / config_module.CONFIG_NAME).open("a") as handle:
        handle.write(f'\n[clean]\nedition = true\nmode = "{mode}"\n')
    pieces = say(folder / "episodes" / "swear.wav", PHRASES)
    cue_end = pieces[-2].end
    text = vtt or (
        "WEBVTT\n\n"
        f"00:00:00.000 --> {_t(pieces[0].end + 0.2)}\n<v Ann>Welcome to the panel. Today we talk about budgets.\n\n"
        f"{_t(pieces[1].start - 0.1)} --> {_t(cue_end + 0.2)}\n<v Bo>And what the fuck happened to the plan?\n\n"
        f"{_t(pieces[-1].start - 0.1)} --> {_t(pieces[-1].end + 0.1)}\n<v Ann>Thanks for listening.\n"
    )
    (folder / "episodes" / "swear.vtt").write_text(text)
    write_notes(
        folder,
        "swear",
        "title: What the fuck happened\ndate: 2026-02-01\nexplicit: true\npanelists: [Ann, Bo]\nsummary: Budgets, and the fuck-up.",
        body="Strong words: fuck.",
    )
    write_notes(folder, "calm", "title: Calm\ndate: 2026-01-01\nexplicit: false")
    shutil.copy(folder / "episodes" / "swear.wav", folder / "episodes" / "calm.wav")
    (folder / "episodes" / "calm.vtt").write_text("WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nWelcome to the panel.\n")
    return pieces


def _t(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    return f"00:00:{ms // 1000:02d}.{ms % 1000:03d}"


@pytest.fixture(scope="module")
def muted(tmp_path_factory):
    """A show of one explicit episode and one clean one, built with a muted clean edition."""
    folder = tmp_path_factory.mktemp("clean") / "show"
    pieces = _show(folder, "mute", normalize=False)
    assert main(["build", "--show", str(folder)]) == 0
    return folder, pieces


def test_both_feeds_as_podcast_apps_read_them(muted):
    folder, _ = muted
    site = folder / "public"
    book = json.loads((folder / config_module.LEDGER_NAME).read_text())
    main_feed, clean_feed = (site / layout.FEED_FILE).read_bytes(), (site / layout.CLEAN_FEED_FILE).read_bytes()

    parsed = feedparser.parse(clean_feed)
    assert not parsed.bozo and parsed.feed.title == "Test Panel (Clean)"
    assert [e.title for e in parsed.entries] == ["What the **** happened", "Calm"]
    explicit = etree.fromstring(clean_feed).iterfind(".//{http://www.itunes.com/dtds/podcast-1.0.dtd}explicit")
    assert [e.text for e in explicit] == ["false", "false", "false"], "the channel and every item"
    assert parsed.entries[0].enclosures[0].href.endswith("/media/swear.clean.mp3")
    assert parsed.entries[1].enclosures[0].href.endswith("/media/calm.mp3")  # clean already: published as it is
    assert {e.id for e in parsed.entries} == {entry["guid"] for entry in book["clean"]["episodes"].values()}
    assert not {e.id for e in parsed.entries} & {entry["guid"] for entry in book["episodes"].values()}, "its own GUIDs"
    assert "fuck" not in clean_feed.decode().lower()
    podcast = podcastparser.parse("https://pod.example.com/show/feed-clean.xml", io.BytesIO(clean_feed))
    assert podcast["title"] == "Test Panel (Clean)" and [e["explicit"] for e in podcast["episodes"]] == [False, False]
    assert (
        podcastparser.parse("https://pod.example.com/show/feed.xml", io.BytesIO(main_feed))["episodes"][0]["title"]
        == "What the fuck happened"
    )

    root = etree.fromstring(main_feed)
    guids = {etree.fromstring(xml).find(f"channel/{PODCAST}guid").text for xml in (main_feed, clean_feed)}
    assert len(guids) == 2, "the clean feed has its own podcast:guid"
    swear = next(i for i in root.iterfind("channel/item") if i.findtext("title") == "What the fuck happened")
    editions = swear.findall(f"{PODCAST}alternateEnclosure")
    clean_one = next(e for e in editions if e.get("title") == "Clean")
    assert (
        clean_one.get("rel") == "clean"
        and clean_one.get("type") == "audio/mpeg"
        and int(clean_one.get("length")) == (site / "media/swear.clean.mp3").stat().st_size
    )
    assert clean_one.find(f"{PODCAST}source").get("uri") == "https://pod.example.com/show/media/swear.clean.mp3"
    calm = next(i for i in root.iterfind("channel/item") if i.findtext("title") == "Calm")
    assert calm.find(f"{PODCAST}alternateEnclosure") is None


def test_the_word_is_silenced_and_the_rest_untouched(muted):
    folder, pieces = muted
    site = folder / "public"
    word = next(p for p in pieces if p.text == "fuck")
    outside = [(0.2, pieces[0].end), (pieces[-1].start, pieces[-1].end)]
    explicit_levels = levels(site / "media/swear.mp3", [(word.start, word.end), *outside], ffmpeg())
    clean_levels = levels(site / "media/swear.clean.mp3", [(word.start, word.end), *outside], ffmpeg())
    assert explicit_levels[0] > -50, "the word is there in the explicit edition"
    assert clean_levels[0] <= explicit_levels[0] - 30, (explicit_levels, clean_levels)
    assert all(abs(a - b) < 0.1 for a, b in zip(explicit_levels[1:], clean_levels[1:])), "the rest sounds as it did"


def test_an_edition_listened_to_and_heard_clean_is_published_with_its_review(muted, capsys):
    folder, pieces = muted
    word = next(p for p in pieces if p.text == "fuck")
    (flagged,) = _record(folder).flagged
    assert (flagged.word, flagged.state, flagged.how) == ("fuck", "silenced", "aligned")
    assert abs(flagged.start - word.start) < 0.08 and abs(flagged.end - word.end) < 0.08
    main(["check", "--show", str(folder)])  # (the test show has no artwork: that is a problem of its own)
    out = capsys.readouterr().out
    assert "swear: 1 flagged word (1 silenced); its clean edition is published" in out
    main(["check", "--show", str(folder), "--words"])
    assert "fuck  silenced (aligned)" in capsys.readouterr().out


def test_texts_are_masked_and_the_page_offers_both(muted):
    folder, _ = muted
    site = folder / "public"
    captions = [c.text for c in webvtt.read(site / "episodes/swear.clean.vtt")]
    assert "And what the **** happened to the plan?" in captions and not any("fuck" in c for c in captions)
    assert any("fuck" in c.text for c in webvtt.read(site / "episodes/swear.vtt")), (
        "the explicit transcript is as it was"
    )
    page = (site / "episodes/swear.html").read_text()
    # one player, and a switch between the editions (with a plain link to the clean one for a page without script)
    assert page.count("<audio") == 1 and 'data-edition="clean" data-src="../media/swear.clean.mp3"' in page
    assert 'href="../media/swear.clean.mp3">listen to the clean edition</a>' in page
    index = (site / "index.html").read_text()
    assert 'href="feed.xml"' in index and 'href="feed-clean.xml"' in index


def test_a_second_build_runs_no_recogniser_and_no_program(muted, monkeypatch):
    folder, _ = muted
    made = []
    real = transcribe.decoder
    monkeypatch.setattr(transcribe, "decoder", lambda **kw: made.append(kw) or real(**kw))  # counts, then the real one
    with watching() as seen:
        result = run_build(config_module.load(folder))
    assert result.ok and not result.published and seen["started"] == [] and made == []
    write_notes(
        folder,
        "swear",
        "title: What the fuck happened, again\ndate: 2026-02-01\nexplicit: true\npanelists: [Ann, Bo]",
        body="Strong words: fuck.",
    )
    with watching() as seen:
        assert main(["build", "--show", str(folder)]) == 0  # the summary reads the cached clean edition's report too
    assert seen["started"] == [] and made == [], "the clean audio and the alignment come from the cache"
    assert "What the **** happened, again" in (folder / "public" / layout.CLEAN_FEED_FILE).read_text()


def test_the_bleep_lands_on_the_show_loudness_in_one_encode(tmp_path):
    folder = tmp_path / "show"
    pieces = _show(folder, "bleep", normalize=True)
    result = run_build(config_module.load(folder))
    assert result.ok, result
    item = next(i for i in result.published if i.episode.slug == "swear")
    report = item.clean.report
    assert report.passes == 1 and [t.name for t in report.timings] == ["clean"]
    assert abs(report.output_i - -16.0) <= 0.3 and report.output_tp <= -1.0
    word = next(p for p in pieces if p.text == "fuck")
    checks = clean.verify(
        item.media.path, item.clean.media.path, [(word.start + 0.02, word.end - 0.02, "fuck")], tone=True
    )
    assert checks[0].tone > checks[0].explicit - 12, "the tone is there"
    assert clean.passes(checks[0])


def test_a_word_silenced_in_the_wrong_place_is_heard_and_silenced_again(tmp_path, capsys):
    # The transcript times the word in the pause before it: the window silences air. Listening to the clean edition
    # finds the window silent in the explicit edition too, the word is aligned again, and silenced where it is said.
    folder = tmp_path / "show"
    pieces = _show(folder, "mute", normalize=False, vtt="WEBVTT\n")
    wrong = pieces[1].start - 0.45
    (folder / "episodes" / "swear.vtt").write_text(
        f"WEBVTT\n\n{_t(pieces[1].start - 0.5)} --> {_t(pieces[-2].end)}\nAnd what the <{_t(wrong)}>fuck <{_t(wrong + 0.3)}>happened to the plan?\n"
    )
    assert main(["build", "--show", str(folder)]) == 0, capsys.readouterr()
    _silenced_where_said(folder, pieces)
    (word,) = _record(folder).flagged
    assert word.state == "silenced" and word.how == "transcript" and "silenced again" in word.note


def test_a_window_that_cuts_its_word_grows_to_the_pause(muted, tmp_path):
    # A window that starts 150 ms into its word (a transcript's time that runs late) leaves "fu-" heard. Listening to
    # the encoded edition hears the rest of the sound the window cut; the window grows to the pause before the word,
    # the edition is encoded again, and the word is silenced where it is said.
    from pipeline.audio import mastering
    from pipeline.episode import probe

    folder, pieces = muted
    word = next(p for p in pieces if p.text == "fuck")
    config = config_module.load(folder)
    info = probe.probe(folder / "episodes" / "swear.wav")
    mastered = mastering.master(info, config.audio, config.cache_dir, root=folder)
    late = [(round(word.start + 0.15, 3), round(word.end + 0.03, 3), "fuck")]
    out, work = tmp_path / "clean.mp3", tmp_path / "work"
    work.mkdir()
    _, listened = clean.silence(config, info, config.audio, mastered, late, out, work)
    assert listened.moved == (0,) and listened.encodes == 2 and not listened.heard
    assert listened.windows[0][0] <= word.start < late[0][0]
    explicit_level, clean_level = (levels(path, [(word.start, word.end)], ffmpeg())[0] for path in (mastered.path, out))
    assert explicit_level > -50 and clean_level <= explicit_level - 30, (explicit_level, clean_level)


def test_a_clean_edition_that_would_keep_a_flagged_word_is_held_back(tmp_path, capsys):
    # A cue of silence alone says the word is there: no time the aligner finds holds it, so listening still finds
    # the window silent in the explicit edition. The edition is held back, with the word and its time.
    folder = tmp_path / "show"
    pieces = _show(folder, "mute", normalize=False, vtt="WEBVTT\n")
    quiet = pieces[0].end + 0.5
    (folder / "episodes" / "swear.vtt").write_text(
        f"WEBVTT\n\n{_t(quiet)} --> {_t(quiet + 0.5)}\n<{_t(quiet + 0.1)}>fuck <{_t(quiet + 0.4)}>indeed\n"
    )
    assert main(["build", "--show", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "not published" in err and "'fuck' at" in err and "silent there" in err
    site = folder / "public"
    assert "swear" in (site / layout.FEED_FILE).read_text(), "the episode itself is published"
    assert "swear" not in (site / layout.CLEAN_FEED_FILE).read_text() and not (site / "media/swear.clean.mp3").exists()
    (word,) = _record(folder).flagged
    assert word.state == "heard" and word.word == "fuck"

    main(["check", "--show", str(folder), "--words"])
    out = capsys.readouterr().out
    assert "flagged words" in out and "swear: 1 flagged word (1 heard); its clean edition is held back" in out
    assert "fuck  heard (transcript)" in out


def _record(folder):
    """The episode's record as the last build kept it in the cache."""
    from pipeline.check.memory import Memory

    memory = Memory.load(config_module.load(folder))
    return memory.store.result(memory.entries["swear"].result).item


def _silenced_where_said(folder, pieces):
    site = folder / "public"
    word = next(p for p in pieces if p.text == "fuck")
    explicit_levels = levels(site / "media/swear.mp3", [(word.start, word.end)], ffmpeg())
    clean_levels = levels(site / "media/swear.clean.mp3", [(word.start, word.end)], ffmpeg())
    assert explicit_levels[0] > -50 and clean_levels[0] <= explicit_levels[0] - 30, (explicit_levels, clean_levels)
    assert "swear.clean.mp3" in (site / layout.CLEAN_FEED_FILE).read_text()


def test_verification_measures_the_decoded_files(muted):
    # The explicit file offered as its own clean edition: every window fails, naming the word.
    folder, pieces = muted
    word = next(p for p in pieces if p.text == "fuck")
    explicit_file = folder / "public/media/swear.mp3"
    check = clean.verify(explicit_file, explicit_file, [(word.start, word.end, "fuck")], tone=False)[0]
    assert not clean.passes(check) and check.word == "fuck" and abs(check.clean - check.explicit) < 0.01


def test_masked_texts_are_scanned_again(tmp_path):
    config = config_module.load(write_show(tmp_path / "show"))
    assert clean.masked("What the fuck, you shit-head", config) == "What the ****, you ****-head"
    assert not align.flagged([Cue(0, 1000, clean.masked("fucking bullshit", config))], config)
    with pytest.raises(Exception) as refused:
        clean._recheck(
            config, config_module.__dict__ and _notes(tmp_path), [Cue(61_000, 62_000, "what the shit")], (), (), None
        )
    assert "'shit' in the cue at 00:01:01.000" in str(refused.value)


def _notes(tmp_path):
    from pipeline.records import Notes

    return Notes(path=tmp_path / "n.md", title="Clean title", date=None)


def test_an_explicit_episode_without_a_transcript_has_no_clean_edition(tmp_path, capsys):
    folder = tmp_path / "show"
    _show(folder, "mute", normalize=False)
    (folder / "episodes" / "swear.vtt").unlink()
    assert main(["build", "--show", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "is explicit but has no transcript" in err and "[transcripts] make = true" in err
    assert "Calm" in (folder / "public" / layout.CLEAN_FEED_FILE).read_text()


def test_the_clean_feeds_guids_are_minted_once_and_kept_by_the_ledger(tmp_path, capsys):
    import uuid

    folder = tmp_path / "show"
    pieces = _show(folder, "mute", normalize=False)
    good = (folder / "episodes" / "swear.vtt").read_text()
    assert main(["build", "--show", str(folder)]) == 0
    book = json.loads((folder / config_module.LEDGER_NAME).read_text())
    minted = book["clean"]["episodes"]["swear"]["guid"]
    assert minted == clean.guid(book["episodes"]["swear"]["guid"]) != book["episodes"]["swear"]["guid"]
    expected = str(uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), "pod.example.com/show/feed-clean.xml"))
    clean_feed = folder / "public" / layout.CLEAN_FEED_FILE
    assert (
        book["clean"]["podcast_guid"]
        == expected
        == etree.fromstring(clean_feed.read_bytes()).findtext(f"channel/{PODCAST}guid")
    )

    # This build's clean edition fails (a cue of silence says the word is there): the clean feed keeps the one it has.
    quiet = pieces[0].end + 0.5
    (folder / "episodes" / "swear.vtt").write_text(
        f"WEBVTT\n\n{_t(quiet)} --> {_t(quiet + 0.5)}\n<{_t(quiet + 0.1)}>fuck <{_t(quiet + 0.4)}>indeed\n"
    )
    assert main(["build", "--show", str(folder)]) == 1
    assert "kept the clean edition of 'swear' as last published" in capsys.readouterr().out
    entry = next(e for e in feedparser.parse(clean_feed.read_bytes()).entries if e.title.startswith("What the"))
    assert entry.id == minted and entry.enclosures[0].href.endswith("/media/swear.clean.mp3")
    assert (folder / "public" / "media" / "swear.clean.mp3").is_file()

    # GUIDs minted by an earlier build (say, another version of panelpress) are the ones the feed keeps carrying.
    book = json.loads((folder / config_module.LEDGER_NAME).read_text())
    book["clean"]["episodes"]["swear"]["guid"], book["clean"]["podcast_guid"] = (
        "urn:uuid:minted-earlier",
        "0c3b2a0e-5a4e-5e7b-9f0e-6f1d2c3b4a59",
    )
    (folder / config_module.LEDGER_NAME).write_text(json.dumps(book, indent=2))
    (folder / "episodes" / "swear.vtt").write_text(good)
    assert main(["build", "--show", str(folder)]) == 0
    parsed = podcastparser.parse("https://pod.example.com/show/feed-clean.xml", io.BytesIO(clean_feed.read_bytes()))
    assert {e["guid"] for e in parsed["episodes"]} >= {"urn:uuid:minted-earlier"}
    assert (
        etree.fromstring(clean_feed.read_bytes()).findtext(f"channel/{PODCAST}guid")
        == "0c3b2a0e-5a4e-5e7b-9f0e-6f1d2c3b4a59"
    )
    assert (
        json.loads((folder / config_module.LEDGER_NAME).read_text())["clean"]["episodes"]["swear"]["guid"]
        == "urn:uuid:minted-earlier"
    )


def test_turning_the_clean_edition_on_after_a_build_makes_it(tmp_path):
    folder = tmp_path / "show"
    _show(folder, "mute", normalize=False)
    settings = folder / config_module.CONFIG_NAME
    with_clean = settings.read_text()
    settings.write_text(with_clean.replace("[clean]\nedition = true", "[clean]\nedition = false"))
    assert main(["build", "--show", str(folder)]) == 0
    assert not (folder / "public" / layout.CLEAN_FEED_FILE).exists()
    settings.write_text(with_clean)  # the episodes are cached: the new setting must still reach them
    assert main(["build", "--show", str(folder)]) == 0
    titles = [e.title for e in feedparser.parse((folder / "public" / layout.CLEAN_FEED_FILE).read_bytes()).entries]
    assert any(title.startswith("What the") for title in titles)
    assert (folder / "public" / "media" / "swear.clean.mp3").is_file()


def test_a_remaster_makes_the_clean_edition_again(tmp_path):
    folder = tmp_path / "show"
    _show(folder, "mute", normalize=False)
    assert main(["build", "--show", str(folder)]) == 0
    (kept,) = (config_module.load(folder).cache_dir / "clean").glob("*.mp3")
    before = kept.stat().st_ino
    assert (
        main(["build", "--show", str(folder)]) == 0 and kept.stat().st_ino == before
    )  # a build takes it from the cache
    assert main(["remaster", "--show", str(folder)]) == 0
    assert kept.stat().st_ino != before, "made again, not taken from the cache"
    assert (folder / "public" / "media" / "swear.clean.mp3").is_file()


def test_the_clean_feed_rendered_anew_from_a_summarised_episode_is_what_was_kept(tmp_path):
    """An unchanged episode is assembled from its summary; when its clean feed item must be rendered anew (nothing
    kept), it is rendered from its whole record: the site is byte for byte what was published."""
    folder = tmp_path / "show"
    _show(folder, "mute", normalize=False)
    assert main(["build", "--show", str(folder)]) == 0
    site = {rel: sha for rel, sha in checksums(folder / "public").items() if rel not in layout.RESERVED}
    assert layout.CLEAN_FEED_FILE in site
    state = next((config_module.load(folder).cache_dir / "state").iterdir())
    assert (state / "summaries.log").stat().st_size
    (state / "html.log").unlink()  # every page and item rendered anew
    index = json.loads((state / "index.json").read_text())
    (state / "index.json").write_text(json.dumps({**index, "data": {**index["data"], "noop": ""}}))
    result = run_build(config_module.load(folder))
    assert result.ok and not result.published, "no episode made again"
    assert {rel: sha for rel, sha in checksums(folder / "public").items() if rel not in layout.RESERVED} == site
