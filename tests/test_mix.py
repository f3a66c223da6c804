"""mix: panels recorded one track per speaker, made with espeak-ng voices (bleed, noise, a room track), mixed by the
real mix stage and measured with ffmpeg's ebur128 and astats: levels within 1 LU, bleed and noise down, turns
attributed, offsets found, tracks that cannot be lined up refused, channels of one recording mapped to panelists,
and a cached mix reused."""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from pipeline import config as config_module
from pipeline.audio import mastering, mix
from pipeline.audio.ffmpeg import ffmpeg
from pipeline.build import build as run_build
from pipeline.cli import main
from pipeline.config import AudioSettings, MixSettings
from pipeline.episode import probe, stages
from pipeline.episode.discover import discover
from pipeline.errors import AudioError, ConfigError
from pipeline.files import file_sha256
from pipeline.records import AudioInfo, Track
from pipeline.show import pages
from tests.conftest import SPEECH, make_audio, write_notes, write_show
from tests.panel import Panel, espeak, loudness, make_panel, multichannel, rms
from tests.test_engine import watching

needs_espeak = pytest.mark.skipif(espeak() is None, reason="espeak-ng is not installed: apt-get install -y espeak-ng")
NAMES = ("Dana Whitfield", "Sam Okafor", "Priya Raman")
PANELISTS = "panelists: [Dana Whitfield, Sam Okafor, Priya Raman]"


@pytest.fixture(scope="module")
def panel(tmp_path_factory) -> Panel:
    """A 36-second panel: three voices recorded 4-8 dB apart, bleed, noise, a room track with an audience question."""
    return make_panel(tmp_path_factory.mktemp("panel") / "tracks", 36, speakers=3, question_every=30, seed=3)


def _tracks(panel: Panel) -> list[mix.Track]:
    return [
        Track(path=path, channel=0, who=who, info=probe.probe(path), sha256=file_sha256(path))
        for who, path in panel.tracks.items()
    ]


@pytest.fixture(scope="module")
def mixed(panel, tmp_path_factory):
    return mix.mix(_tracks(panel), MixSettings(), AudioSettings(), tmp_path_factory.mktemp("cache"))


def plain_sum(panel: Panel, out: Path) -> Path:
    inputs = [arg for path in panel.tracks.values() for arg in ("-i", str(path))]
    subprocess.run(
        [
            ffmpeg(),
            "-v",
            "error",
            *inputs,
            "-filter_complex",
            f"amix=inputs={len(panel.tracks)}:normalize=0",
            "-c:a",
            "pcm_s24le",
            "-y",
            str(out),
        ],
        check=True,
    )
    return out


@needs_espeak
def test_every_panelist_lands_within_1_lu_when_mastered_and_noise_between_phrases_drops(panel, mixed, tmp_path):
    recorded = [loudness(panel.tracks[who], panel.alone(who)) for who in NAMES]
    assert max(recorded) - min(recorded) >= 6, "the panel's voices are recorded 6-8 dB apart"
    # Mastered as a build masters it (the mix levels for what mastering's limiter will take from each voice).
    info = AudioInfo(
        path=mixed.path, format="FLAC", codec="flac", duration=mixed.duration, sample_rate=48000, channels=1, bitrate=0
    )
    published = mastering.master(
        info, stages.mixed_settings(AudioSettings()), tmp_path / "cache", source_sha=mixed.key
    ).path
    levels = [loudness(published, panel.alone(who)) for who in NAMES]
    assert max(levels) - min(levels) <= 1.0, levels
    plain = plain_sum(panel, tmp_path / "plain.wav")
    # The noise between phrases, against each file's own speech: at least 10 dB lower than in the plain sum.
    speech = panel.alone(NAMES[0])
    ours = rms(published, panel.quiet()) - rms(published, speech)
    theirs = rms(plain, panel.quiet()) - rms(plain, speech)
    assert theirs - ours >= 10, (ours, theirs)


@needs_espeak
def test_while_one_panelist_speaks_the_other_tracks_are_15_db_lower_than_in_the_plain_sum(panel, tmp_path):
    tracks = _tracks(panel)
    settings, audio = MixSettings(), AudioSettings()
    starts, _, duration, plan = mix.analyse(tracks, settings, audio, tmp_path, lambda name, total: lambda done: None)
    rate = mix.mix_rate(tracks)
    for who in NAMES:
        index = [t.who for t in tracks].index(who)
        inside = np.zeros(int(duration * rate) + rate, bool)
        for a, b in panel.alone(who):
            inside[int(a * rate) : int(b * rate)] = True
        found = {}
        for name, gains in (("plain", np.ones_like(plan.gains)), ("mixed", plan.gains)):
            own = rest = 0.0
            done = 0
            for block, gain in mix.blocks(tracks, starts, duration, gains, audio, settings, tmp_path):
                pick = inside[done : done + len(block)]
                parts = (block * gain)[pick]
                own += float(np.sum(np.square(parts[:, index], dtype=np.float64)))
                rest += float(np.sum(np.square(parts.sum(axis=1) - parts[:, index], dtype=np.float64)))
                done += len(block)
            found[name] = 10 * np.log10(rest / own)
        assert found["plain"] - found["mixed"] >= 15, (who, found)


@needs_espeak
def test_speaker_turns_attribute_95_percent_of_the_speech(panel, mixed):
    hop = 0.02
    said = np.full(int(panel.seconds / hop) + 1, "", dtype=object)
    for turn in mixed.turns:
        said[int(turn.start / hop) : int(turn.end / hop)] = "audience" if turn.speaker == mix.AUDIENCE else turn.speaker
    right = total = 0
    for who in (*NAMES, "audience"):
        for a, b in panel.alone(who, margin=0.0):
            right += int(np.sum(said[int(a / hop) : int(b / hop)] == who))
            total += int(b / hop) - int(a / hop)
    assert right / total >= 0.95
    talk = {t.who: t.talk for t in mixed.report.tracks}
    assert all(talk[who] > 3 for who in NAMES) and talk["room"] > 2  # the audience question is the room's


@needs_espeak
def test_offsets_between_recorders_are_found_and_reported(tmp_path):
    late = make_panel(
        tmp_path / "late", 30, speakers=3, question_every=20, seed=5, offsets={"Sam Okafor": 2.5, "room": -1.25}
    )
    made = mix.mix(_tracks(late), MixSettings(), AudioSettings(), tmp_path / "cache")
    offsets = {t.who: (t.offset, t.sync) for t in made.report.tracks}
    # The room recorder ran longest (it started first): the episode keeps its timeline, the others are moved onto it.
    assert made.report.reference == "room.wav" and offsets["room"] == (0.0, "reference")
    assert offsets["Sam Okafor"][1] == offsets["Dana Whitfield"][1] == "detected"
    # (within the 10-20 ms the room microphone hears the panel late: sound takes that long to reach it)
    assert abs(offsets["Dana Whitfield"][0] - 1.25) < 0.025 and abs(offsets["Sam Okafor"][0] - 3.75) < 0.025
    # Lined up, every voice is found where the script put it (on the room's timeline: 1.25 s later than the script's).
    hop = 0.02
    said = np.full(int(33 / hop), "", dtype=object)
    for turn in made.turns:
        said[int(turn.start / hop) : int(turn.end / hop)] = turn.speaker
    for who in ("Sam Okafor", "Dana Whitfield", "Priya Raman"):
        frames = np.concatenate(
            [np.arange(int((a + 1.25) / hop), int((b + 1.25) / hop)) for a, b in late.alone(who, margin=0.0) if a > 2.5]
        )
        assert np.mean(said[frames] == who) >= 0.9, who


def test_tracks_that_share_no_sound_and_disagree_in_length_are_refused(tmp_path):
    a = make_audio(tmp_path / "a.wav", seconds=12, channels=1, source=SPEECH.format(seed=1))
    b = make_audio(tmp_path / "b.wav", seconds=20, channels=1, source=SPEECH.format(seed=2))
    tracks = [
        Track(path=p, channel=0, who=who, info=probe.probe(p), sha256=file_sha256(p)) for p, who in ((a, "A"), (b, "B"))
    ]
    with pytest.raises(AudioError) as caught:
        mix.mix(tracks, MixSettings(), AudioSettings(), tmp_path / "cache")
    err = caught.value
    assert err.path == a and "differ by 8.0 s and share no sound to line them up by" in err.problem
    assert "from the same start" in err.fix
    # Of one length, unrelated tracks are taken as started together (and said so).
    c = make_audio(tmp_path / "c.wav", seconds=12, channels=1, source=SPEECH.format(seed=3))
    tracks[1] = Track(path=c, channel=0, who="B", info=probe.probe(c), sha256=file_sha256(c))
    made = mix.mix(tracks, MixSettings(), AudioSettings(), tmp_path / "cache")
    assert [t.sync for t in made.report.tracks] == ["reference", "assumed"]


def test_a_track_whose_rate_cannot_be_resampled_fails_its_episode_alone(tmp_path, capsys):
    show = write_show(tmp_path / "show")
    make_audio(show / "episodes" / "panel" / "dana.wav", seconds=3, channels=1, rate=48000)
    make_audio(
        show / "episodes" / "panel" / "sam.wav",
        seconds=3,
        channels=1,
        rate=4000,
        source="sine=frequency=300:sample_rate=4000",
    )
    make_audio(show / "episodes" / "solo.wav", seconds=2)
    write_notes(show, "panel", "title: Panel\ndate: 2026-01-05\npanelists: [Dana Whitfield, Sam Okafor]")
    write_notes(show, "solo", "title: Solo\ndate: 2026-01-06")
    assert main(["build", "--show", str(show)]) == 1
    err = capsys.readouterr().err
    assert (
        "sam.wav: has a sample rate of 4000 Hz, which panelpress cannot resample to the others' — export it again at 44.1 or 48 kHz"
        in err
    )
    assert (show / "public" / "media" / "solo.mp3").is_file()


def test_a_track_named_after_no_panelist_is_refused_with_the_fix(tmp_path, capsys):
    show = write_show(tmp_path / "show")
    for name in ("dana.wav", "mic3.wav"):
        make_audio(show / "episodes" / "panel" / name, seconds=2, channels=1)
    write_notes(show, "panel", "title: Panel\ndate: 2026-01-05\npanelists: [Dana Whitfield, Sam Okafor]")
    assert main(["build", "--show", str(show)]) == 1
    err = capsys.readouterr().err
    assert (
        "mic3.wav: matches no panelist of panel.md (Dana Whitfield, Sam Okafor)" in err
        and "under `tracks:` in the notes" in err
    )
    write_notes(
        show,
        "panel",
        "title: Panel\ndate: 2026-01-05\npanelists: [Dana Whitfield, Sam Okafor]\ntracks:\n  dana.wav: Dana Whitfield\n  mic3.wav: Sam Okafr",
    )
    assert main(["build", "--show", str(show)]) == 1
    assert (
        "line 7: track 'mic3.wav' is 'Sam Okafr', who is not among the panelists — did you mean 'Sam Okafor'?"
        in capsys.readouterr().err
    )


def test_a_folder_of_tracks_is_one_episode_beside_single_recordings(tmp_path):
    show = write_show(tmp_path / "show")
    make_audio(show / "episodes" / "solo.wav", seconds=1)
    make_audio(show / "episodes" / "panel" / "dana.wav", seconds=1)
    make_audio(show / "episodes" / "panel" / "sam.flac", seconds=1)
    (show / "episodes" / "panel" / "notes.txt").write_text("not a track")
    make_audio(show / "episodes" / ".hidden" / "x.wav", seconds=1)
    (show / "episodes" / "empty").mkdir()
    make_audio(show / "episodes" / "clash" / "a.wav", seconds=1)
    make_audio(show / "episodes" / "clash.mp3", seconds=1)
    recordings, failures = discover(config_module.load(show))
    found = {rec.slug: rec for rec in recordings}
    assert set(found) == {"solo", "panel"}
    assert [p.name for p in found["panel"].tracks] == ["dana.wav", "sam.flac"] and found["solo"].tracks == ()
    assert found["panel"].notes_path == show / "show_notes" / "panel.md"
    assert [f.slug for f in failures] == ["clash"] and "clash/, clash.mp3" in failures[0].error.problem


@needs_espeak
def test_channels_of_one_recording_are_mapped_to_panelists_and_the_build_reports_talk_time(panel, tmp_path, capsys):
    show = write_show(tmp_path / "show", normalize=True)
    multichannel(panel, show / "episodes" / "live.wav")  # Dana, Sam, Priya, room: one recorder
    write_notes(
        show,
        "live",
        f"title: Live\ndate: 2026-01-05\n{PANELISTS}\ntracks:\n  1: Dana Whitfield\n  2: Sam Okafor\n  3: Priya Raman\n  4: room",
    )
    (show / "episodes" / "live.vtt").write_text(
        "WEBVTT\n\n"
        + "".join(f"{_vtt(s)} --> {_vtt(e)}\nA line.\n\n" for s, e, who in panel.speech if who != "audience")
    )
    assert main(["build", "--show", str(show)]) == 0
    out = capsys.readouterr().out
    assert "talk time" in out and "recorder" in out and "Priya Raman" in out
    page = (show / "public" / "episodes" / "live.html").read_text()
    assert "Talk time:" in page and all(name in page.split("Talk time:")[1].split("</p>")[0] for name in NAMES)
    vtt = (show / "public" / "episodes" / "live.vtt").read_text()
    voices = re.findall(r"<v ([^>]+)>", vtt)
    truth = [who for _, _, who in panel.speech if who != "audience"]
    assert voices == truth, "every cue without a speaker got the one the turns found"
    mastered = show / "public" / "media" / "live.mp3"
    assert probe.probe(mastered).channels == 1 and abs(loudness(mastered, [(0, panel.seconds)]) + 16) <= 0.6


def _vtt(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


@needs_espeak
def test_a_no_op_build_reuses_the_cached_mix_and_a_changed_track_mixes_again(panel, tmp_path):
    show = write_show(tmp_path / "show")
    folder = show / "episodes" / "panel"
    folder.mkdir(parents=True)
    for path in panel.tracks.values():
        (folder / path.name).write_bytes(path.read_bytes())
    write_notes(show, "panel", f"title: Panel\ndate: 2026-01-05\n{PANELISTS}")
    config = config_module.load(show)
    first = run_build(config)
    assert first.ok and first.published[0].mix is not None and len(list((config.cache_dir / "mix").glob("*.flac"))) == 1
    with watching() as seen:
        again = run_build(config)
    assert again.ok and again.unchanged == ("panel",) and seen["started"] == []
    assert not [p for p in seen["opened"] if p.endswith(".wav")], "no track is read"
    # The notes changed (a title): the episode is made again from the cached mix and master, no ffmpeg.
    write_notes(show, "panel", f"title: Panel, renamed\ndate: 2026-01-05\n{PANELISTS}")
    with watching() as seen:
        assert run_build(config).ok
    assert not [p for p in seen["started"] if "ffmpeg" in p]
    # A track replaced: mixed again.
    make_audio(folder / "room.wav", seconds=36, channels=1, source="anoisesrc=c=pink:a=0.001:seed=9", rate=48000)
    remade = run_build(config)
    assert remade.ok and [item.episode.slug for item in remade.published] == ["panel"]
    assert len(list((config.cache_dir / "mix").glob("*.flac"))) == 2


def test_cues_without_a_speaker_take_the_one_who_speaks_most_in_them():
    from pipeline.episode import turns
    from pipeline.episode.transcript import Cue, Transcript
    from pipeline.records import Turn

    said = (Turn(0.0, 4.0, "Dana Whitfield"), Turn(4.2, 9.0, "Sam Okafor"), Turn(9.5, 10.0, mix.AUDIENCE))
    cues = (
        Cue(500, 3000, "Hi."),
        Cue(3500, 6000, "Both."),
        Cue(7000, 8000, "Kept.", speaker="Priya Raman"),
        Cue(12000, 13000, "Nobody."),
    )
    labelled = turns.label(Transcript(Path("x.vtt"), cues), said)
    assert [c.speaker for c in labelled.cues] == ["Dana Whitfield", "Sam Okafor", "Priya Raman", ""]
    assert pages.talk_time(said) == [("Sam Okafor", 4.8), ("Dana Whitfield", 4.0), (mix.AUDIENCE, 0.5)]
    assert turns.shift(said, 2.0, 10.0) == (Turn(2.0, 6.0, "Dana Whitfield"), Turn(6.2, 10.0, "Sam Okafor"))


@pytest.mark.parametrize(
    "tracks, problem",
    [
        ("tracks: dana.wav", "tracks is not a list of `track: panelist` lines"),
        ("tracks:\n  1: Dana Whitfield\n  sam.wav: Sam Okafor", "tracks mixes file names and channel numbers"),
        ("tracks:\n  0: Dana Whitfield", "line 6: track 0 is neither a file name nor a channel number"),
        ("tracks:\n  ../x.wav: Dana Whitfield", "line 6: track '../x.wav' is neither a file name"),
        ("tracks:\n  2: Nobody", "line 6: track 2 is 'Nobody', who is not among the panelists"),
    ],
)
def test_a_tracks_list_the_notes_cannot_mean_is_refused_with_its_line(show, tracks, problem):
    from pipeline.episode import notes
    from pipeline.errors import NotesError

    path = write_notes(
        show, "panel", f"title: Panel\ndate: 2026-01-05\npanelists: [Dana Whitfield, Sam Okafor]\n{tracks}"
    )
    with pytest.raises(NotesError) as caught:
        notes.read(path)
    assert problem in caught.value.problem


def test_tracks_map_files_and_channels_case_blind_with_room_and_skip(show):
    from pipeline.episode import notes
    from pipeline.records import TrackSpec

    path = write_notes(
        show,
        "panel",
        "title: Panel\ndate: 2026-01-05\npanelists: [Dana Whitfield, Sam Okafor]\ntracks:\n  dana.wav: dana whitfield\n  hall.flac: Room\n  spare.wav: skip",
    )
    assert notes.read(path).tracks == (
        TrackSpec("dana.wav", 0, "Dana Whitfield"),
        TrackSpec("hall.flac", 0, "room"),
        TrackSpec("spare.wav", 0, "skip"),
    )


def test_a_new_folder_of_tracks_starts_notes_naming_a_panelist_per_track(tmp_path):
    show = write_show(tmp_path / "show")
    for name in ("dana.wav", "sam-okafor.wav", "room.wav"):
        make_audio(show / "episodes" / "panel" / name, seconds=1, channels=1)
    run_build(config_module.load(show))
    text = (show / "show_notes" / "panel.md").read_text()
    assert (
        "panelists:\n- Dana\n- Sam Okafor\n" in text
        and "tracks:\n  dana.wav: Dana\n  room.wav: room\n  sam-okafor.wav: Sam Okafor\n" in text
    )
    assert "draft: true" in text


def test_a_folder_name_too_long_for_the_episodes_files_fails_alone(tmp_path):
    show = write_show(tmp_path / "show")
    make_audio(show / "episodes" / ("p" * 201) / "dana.wav", seconds=1)
    make_audio(show / "episodes" / "solo.wav", seconds=1)
    recordings, failures = discover(config_module.load(show))
    assert [rec.slug for rec in recordings] == ["solo"]
    assert (
        "201 bytes long" in failures[0].error.problem and failures[0].error.fix == "rename the folder (and its notes)"
    )


@pytest.mark.parametrize(
    "line, words",
    [
        ("floor = 6", "between -60 and 0"),
        ("room_duck = -3", "between 0 and 40"),
        ("highpass = 10", "between 20 and 300"),
        ("automix = 1", "true or false"),
    ],
)
def test_bad_mix_settings_are_refused_before_any_work(show, line, words):
    path = show / config_module.CONFIG_NAME
    path.write_text(path.read_text() + f"\n[mix]\n{line}\n")
    with pytest.raises(ConfigError, match=re.escape(words)):
        config_module.load(show)


# --- large panels -----------------------------------------------------------------------------------------------------

RATE_8K = 8000  # Hz: tracks of a large panel (small files, quick to mix)
SLOT, VOICE = 0.8, (0.1, 0.5)  # s: each panelist speaks alone in a slot of their own, from 0.1 s to 0.5 s into it
VOICE_DB, BLEED_DB, FLOOR_DB = -14.0, -30.0, -66.0  # a voice on its own track, into the others' (relative), the noise


def _slotted_panel(show: Path, count: int, silent: tuple[int, ...] = ()) -> list[str]:
    """An episode folder of `count` microphones in one room (8 kHz mono WAVs): panelist k speaks alone in slot k, heard
    by the other microphones 30 dB down, over each microphone's own noise; and a transcript of a cue per slot naming
    nobody. `silent`: tracks of digital silence throughout. The panelists' names, in slot order."""
    rng = np.random.default_rng(7)
    names = [f"Panelist {k:03d}" for k in range(count)]
    samples = int(count * SLOT * RATE_8K)
    voices, own = np.zeros(samples), np.zeros(samples, dtype=int) - 1
    for k in range(count):
        start, end = (int((k * SLOT + at) * RATE_8K) for at in VOICE)
        voices[start:end] = rng.standard_normal(end - start) * 10 ** (VOICE_DB / 20)
        own[start:end] = k
    folder = show / "episodes" / "panel"
    folder.mkdir(parents=True)
    for k in range(count):
        heard = voices * np.where(own == k, 1.0, 10 ** (BLEED_DB / 20))
        data = np.zeros(samples) if k in silent else heard + rng.standard_normal(samples) * 10 ** (FLOOR_DB / 20)
        with wave.open(str(folder / f"mic {k:03d}.wav"), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE_8K)
            out.writeframes((np.clip(data, -1, 1) * 32767).astype("<i2").tobytes())
    cues = "".join(f"{_vtt(k * SLOT + VOICE[0])} --> {_vtt(k * SLOT + VOICE[1])}\nLine {k}.\n\n" for k in range(count))
    (show / "episodes" / "panel.vtt").write_text(f"WEBVTT\n\n{cues}")
    mapping = "".join(f"  mic {k:03d}.wav: {name}\n" for k, name in enumerate(names))
    write_notes(show, "panel", f"title: Panel\ndate: 2026-01-05\npanelists: [{', '.join(names)}]\ntracks:\n{mapping}")
    return names


def _slot_levels(path: Path, count: int) -> list[float]:
    """The published audio's level (dBFS) in the middle of each slot's voice."""
    raw = subprocess.run(
        [ffmpeg(), "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(RATE_8K), "-f", "f32le", "-"],
        capture_output=True,
        check=True,
    ).stdout
    audio = np.frombuffer(raw, dtype="<f4")
    middle = [(k * SLOT + VOICE[0] + 0.1, k * SLOT + VOICE[1] - 0.1) for k in range(count)]
    return [
        float(10 * np.log10(np.mean(np.square(audio[int(a * RATE_8K) : int(b * RATE_8K)], dtype=np.float64))))
        for a, b in middle
    ]


@pytest.mark.parametrize("count", [40, 70])
def test_a_panel_of_more_tracks_than_one_ffmpeg_filter_takes_is_mixed_whole(tmp_path, count):
    """amerge takes at most 64 inputs and the analysis needs two a track: larger panels are read by several ffmpeg
    runs in step, each opening its own tracks (the build runs with 256 open files at most, macOS's default). Every
    panelist is heard in their own slot at their own level, and named in the transcript there."""
    show = write_show(tmp_path / "show")
    names = _slotted_panel(show, count)
    built = _build_with_few_files(show)
    assert built.returncode == 0, built.stdout + built.stderr
    levels = _slot_levels(show / "public" / "media" / "panel.mp3", count)
    assert all(abs(level - VOICE_DB) < 3 for level in levels), levels
    voices = re.findall(r"<v ([^>]+)>", (show / "public" / "episodes" / "panel.vtt").read_text())
    assert voices == names


def _build_with_few_files(show: Path) -> subprocess.CompletedProcess:
    """`panelpress build` as a process allowed 256 open files."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "build", "--show", str(show)],
        cwd=Path(__file__).resolve().parent.parent,
        preexec_fn=limit,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_microphone_silent_throughout_leaves_the_others_mixed(tmp_path, capsys):
    show = write_show(tmp_path / "show")
    names = _slotted_panel(show, 4, silent=(1,))
    assert main(["build", "--show", str(show)]) == 0, capsys.readouterr().err
    levels = _slot_levels(show / "public" / "media" / "panel.mp3", 4)
    assert all(abs(levels[k] - VOICE_DB) < 3 for k in (0, 2, 3)), levels
    voices = re.findall(r"<v ([^>]+)>", (show / "public" / "episodes" / "panel.vtt").read_text())
    assert names[1] not in voices and [name for name in names if name in voices] == [names[0], names[2], names[3]]


def test_a_recording_of_more_channels_than_ffmpeg_can_pick_from_is_refused_with_the_fix(tmp_path, capsys):
    show = write_show(tmp_path / "show")
    with wave.open(str(show / "episodes" / "live.wav"), "wb") as out:  # a 70-channel poly WAV, as a big desk writes
        out.setnchannels(70)
        out.setsampwidth(2)
        out.setframerate(RATE_8K)
        out.writeframes(bytes(2 * 70 * 2 * RATE_8K))
    names = [f"Panelist {k}" for k in range(70)]
    mapping = "".join(f"  {k + 1}: {name}\n" for k, name in enumerate(names))
    write_notes(show, "live", f"title: Live\ndate: 2026-01-05\npanelists: [{', '.join(names)}]\ntracks:\n{mapping}")
    assert main(["build", "--show", str(show)]) == 1
    assert (
        "episodes/live.wav: has 70 channels, and panelpress takes microphones from files of at most 64 — export its "
        "microphones as separate files (any number of them) into the folder episodes/live/" in capsys.readouterr().err
    )
