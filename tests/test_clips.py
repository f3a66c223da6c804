"""Clips of soundbites (`[clips]`): real speech (espeak-ng), real ffmpeg; the videos read back with PyAV (FFmpeg's
own demuxers and decoders, as ffprobe reads them) and measured again here with ffmpeg's ebur128 meter."""

from __future__ import annotations

import re
import string
import subprocess

import av
import numpy as np
import pytest
from PIL import Image

from pipeline import config as config_module
from pipeline import layout
from pipeline.audio import video
from pipeline.audio.ffmpeg import ffmpeg
from pipeline.build import build as run_build
from pipeline.cli import main
from pipeline.episode import clips, explicit
from pipeline.episode.transcript import Cue
from pipeline.errors import ConfigError
from tests.conftest import write_notes, write_show
from tests.speech import levels, needs_espeak, say
from tests.test_audio import measure

pytestmark = needs_espeak

PHRASES = [
    "Welcome to the panel. Today we talk about budgets.",
    2.0,  # the silent moment of the first soundbite
    "And what the",
    0.08,
    "fuck",
    0.08,
    "happened to the plan?",
    0.6,
    "Thanks for listening, and see you next week.",
]
SHAPES = {"square": (1080, 1080), "vertical": (1080, 1920)}


def _t(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    return f"00:00:{ms // 1000:02d}.{ms % 1000:03d}"


def _artwork(path):
    """A 1400-pixel square cover: a gradient, so the card's picture is not one colour."""
    ramp = np.linspace(0, 255, 1400, dtype=np.uint8)
    pixels = np.stack(
        [np.tile(ramp, (1400, 1)), np.tile(ramp[:, None], (1, 1400)), np.full((1400, 1400), 90, np.uint8)], -1
    )
    Image.fromarray(pixels).save(path, quality=85)


def _bites(pieces, second_title: str = "See you next week") -> str:
    first = round(pieces[0].end - 1.0, 3)
    last = pieces[-1]
    return (
        "soundbites:\n"
        f'  - {{start: {first}, duration: {round(pieces[3].end + 0.3 - first, 3)}, title: "What happened to the plan"}}\n'
        f'  - {{start: {round(last.start - 0.2, 3)}, duration: {round(last.end - last.start + 0.4, 3)}, title: "{second_title}"}}\n'
    )


def _show(folder):
    write_show(folder, normalize=True, extra_show='language = "en"\nartwork = "cover.jpg"')
    with (folder / config_module.CONFIG_NAME).open("a") as handle:
        handle.write('\n[clean]\nedition = true\nmode = "mute"\n')
    _artwork(folder / "cover.jpg")
    pieces = say(folder / "episodes" / "swear.wav", PHRASES)
    (folder / "episodes" / "swear.vtt").write_text(
        "WEBVTT\n\n"
        f"00:00:00.000 --> {_t(pieces[0].end + 0.2)}\n<v Ann>Welcome to the panel. Today we talk about budgets.\n\n"
        f"{_t(pieces[1].start - 0.1)} --> {_t(pieces[3].end + 0.2)}\n<v Bo>And what the fuck happened to the plan?\n\n"
        f"{_t(pieces[4].start - 0.1)} --> {_t(pieces[4].end + 0.1)}\n<v Ann>Thanks for listening, and see you next week.\n"
    )
    write_notes(
        folder,
        "swear",
        "title: What the fuck happened\ndate: 2026-02-01\nexplicit: true\npanelists: [Ann, Bo]\n" + _bites(pieces),
        body="Strong words: fuck.",
    )
    return pieces


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """An explicit episode with a clean edition and two soundbites, built once."""
    folder = tmp_path_factory.mktemp("clips") / "show"
    pieces = _show(folder)
    assert main(["build", "--show", str(folder)]) == 0
    return folder, pieces


def _clip(folder, number: int, shape: str):
    return folder / "public" / layout.clip("swear", number, shape)


def _probe(path):
    """What the file declares: (width, height, video codec, pix_fmt, audio codec, duration in seconds)."""
    with av.open(str(path)) as container:
        v = container.streams.video[0]
        a = container.streams.audio[0]
        return (
            v.width,
            v.height,
            v.codec_context.name,
            v.codec_context.format.name,
            a.codec_context.name,
            container.duration / 1e6,
        )


def _frame(path, at: float) -> np.ndarray:
    """The frame shown at `at` seconds, as RGB pixels."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.time is not None and frame.time + 1 / video.FPS > at:
                return frame.to_ndarray(format="rgb24")
    raise AssertionError(f"no frame at {at} s")


def test_every_soundbite_is_a_square_and_a_vertical_mp4(built):
    folder, _ = built
    feed = (folder / "public" / "feed.xml").read_text()  # the soundbites as published: cut to the audio
    durations = [float(d) for d in re.findall(r'<podcast:soundbite startTime="[\d.]+" duration="([\d.]+)"', feed)]
    assert len(durations) == 2
    for number, duration in enumerate(durations, start=1):
        for shape, size in SHAPES.items():
            path = _clip(folder, number, shape)
            width, height, vcodec, pix_fmt, acodec, seconds = _probe(path)
            assert (width, height) == size
            assert (vcodec, pix_fmt, acodec) == ("h264", "yuv420p", "aac")
            assert abs(seconds - duration) <= 0.05, (path.name, seconds, duration)
            head = path.read_bytes()[:4096]
            assert head.find(b"moov") != -1 and head.find(b"moov") < max(head.find(b"mdat"), 4096)  # +faststart


def test_frames_show_the_sound_the_waveform_moves_with_speech(built):
    folder, pieces = built
    start = pieces[0].end - 1.0
    silent = (pieces[0].end + pieces[1].start) / 2 - start  # in the 2-second pause
    spoken = (pieces[1].start + pieces[1].end) / 2 - start
    for shape in SHAPES:
        y, height = video.SHAPES[shape].wave
        quiet = _frame(_clip(folder, 1, shape), silent)[y : y + height].astype(int)
        loud = _frame(_clip(folder, 1, shape), spoken)[y : y + height].astype(int)
        changed = (np.abs(loud - quiet).max(axis=2) > 40).mean()
        assert changed > 0.02, f"{shape}: the waveform band hardly differs between speech and silence ({changed:.3%})"


def test_a_clean_clip_is_cut_from_the_clean_edition_and_its_captions_are_masked(built):
    folder, pieces = built
    config = config_module.load(folder)
    start = pieces[0].end - 1.0
    for shape in SHAPES:
        captions = (folder / "public" / layout.clip("swear", 1, shape, ".vtt")).read_text()
        assert "fuck" not in captions.lower() and "****" in captions
        assert "<v Bo>" in captions  # the speaker's name where the transcript gives it
        assert not explicit.scan(captions, "", config)
        # the word is silenced in the clip's sound, as in the clean edition; the words around it are heard
        word, after = pieces[2], pieces[3]
        found = levels(
            _clip(folder, 1, shape),
            [(word.start - start, word.end - start), (after.start - start, after.end - start)],
            ffmpeg(),
        )
        assert found[0] < found[1] - 30, found


def test_the_clip_sound_is_at_minus_14_lufs_as_decoded(built):
    folder, _ = built
    for number in (1, 2):
        for shape in SHAPES:
            found = measure(_clip(folder, number, shape))  # ffmpeg's ebur128 summary of the decoded clip
            assert abs(found["I"] + 14.0) <= 1.0, found
            assert found["TP"] <= -1.0 + 0.3, found


def test_the_page_links_the_clips_and_the_feed_keeps_its_soundbites(built):
    folder, _ = built
    page = (folder / "public" / layout.page("swear")).read_text()
    assert 'id="clips"' in page
    for shape in SHAPES:
        assert f'href="../{layout.clip("swear", 1, shape)}"' in page
    feed = (folder / "public" / "feed.xml").read_text()
    assert feed.count("<podcast:soundbite") == 2
    assert ".mp4" not in feed


def test_a_second_build_makes_no_clip_and_a_changed_soundbite_only_its_own(built):
    folder, _ = built
    config = config_module.load(folder)
    again = run_build(config)
    assert again.ok and sum(clip.made for clip in again.clips) == 0
    notes = folder / "show_notes" / "swear.md"
    original = notes.read_text()
    try:
        notes.write_text(original.replace("See you next week", "Until next week"))
        changed = run_build(config_module.load(folder))
        assert changed.ok
        made = {(clip.path, clip.made) for clip in changed.clips}
        assert {path for path, fresh in made if fresh} == {layout.clip("swear", 2, s) for s in SHAPES}
        assert {path for path, fresh in made if not fresh} == {layout.clip("swear", 1, s) for s in SHAPES}
    finally:
        notes.write_text(original)
        run_build(config_module.load(folder))


def test_words_take_their_transcripts_times_and_share_a_cues_span():
    cue = Cue(1000, 3000, "one two <x> four", "Ann", timed=((8, 2500),))  # "<x> four" is said from 2.5 s
    said = clips.words([cue], offset=0.5)
    assert [w.text for w in said] == ["one", "two", "<x>", "four"]
    assert said[0].start == pytest.approx(1.5) and said[2].start == pytest.approx(3.0)
    assert said[1].start == pytest.approx(1.5 + 1.5 * 4 / 8)
    shown = clips.captions(said, 1.0, 3.0)
    assert shown[0].speaker == "Ann" and shown[0].start == pytest.approx(0.5)
    assert " ".join(c.text for c in shown) == "one two <x> four"
    assert all(0 <= c.start < c.end <= 3.0 for c in shown)


def test_a_hostile_title_is_drawn_as_text_and_clips_can_stay_out_of_the_site(tmp_path, capsys):
    folder = write_show(tmp_path / "show")
    with (folder / config_module.CONFIG_NAME).open("a") as handle:
        handle.write('\n[clips]\npublish = false\nshapes = ["vertical"]\n')
    pieces = say(folder / "episodes" / "odd.wav", ["Hello there, listeners.", 1.0, "This is fine."])
    hostile = r"""It's 100%: [a]; b, c \\ %{pts} %{e\:1} ''' :fontfile=/etc/passwd"""
    write_notes(
        folder,
        "odd",
        f"title: {hostile!r}\ndate: 2026-01-05\n"
        f'soundbites:\n  - {{start: 0.2, duration: {round(pieces[-1].end - 0.2, 3)}, title: "x:enable=0,y\\\\\'"}}',
    )
    assert main(["build", "--show", str(folder)]) == 0
    out = " ".join("".join(capsys.readouterr()).split())
    assert "no captions" in out and "clips: 1 made" in out and "for you to upload" in out
    kept = folder / "clips" / layout.clip_name("odd", 1, "vertical")
    assert kept.is_file() and not list((folder / "public").rglob("*.mp4"))
    assert 'id="clips"' not in (folder / "public" / layout.page("odd")).read_text()
    frame = _frame(kept, 0.5)
    _, y, _ = video.SHAPES["vertical"].alone  # no picture: the titles stand higher
    band = frame[y : y + 400].astype(int)
    assert (band.min(axis=2) > 200).mean() > 0.005  # the titles are drawn: white letters on the plain card
    _, _, vcodec, _, _, seconds = _probe(kept)
    assert vcodec == "h264" and abs(seconds - (pieces[-1].end - 0.2)) <= 0.05
    # a clip the host changed is theirs now: never replaced, and named
    kept.write_bytes(b"edited by the host")
    notes = folder / "show_notes" / "odd.md"
    notes.write_text(notes.read_text() + "\nMore notes.\n")
    assert main(["build", "--show", str(folder)]) == 0
    assert kept.read_bytes() == b"edited by the host"
    assert "in the way of a clip" in " ".join("".join(capsys.readouterr()).split())


def test_a_clips_folder_must_be_the_shows_own(tmp_path):
    folder = write_show(tmp_path / "show")
    base = (folder / config_module.CONFIG_NAME).read_text()
    for value, problem in (
        ("../elsewhere", "outside the show folder"),
        ("public/clips", "overlaps the site folder"),
        ("episodes", "recordings"),
    ):
        (folder / config_module.CONFIG_NAME).write_text(base + f'\n[clips]\npublish = false\nfolder = "{value}"\n')
        with pytest.raises(ConfigError, match=problem):
            config_module.load(folder)


@pytest.mark.parametrize(
    "name",
    [
        "".join(ch for ch in string.punctuation if ch != "/"),
        "tab\there\nand a line break",
        "ends in a backslash\\",
        "x:y",
    ],
)
def test_drawtext_reads_its_font_and_text_from_any_folder(tmp_path, name):
    """drawtext opens `fontfile` and `textfile` itself (no ffmpeg protocol): both levels of the graph's escaping, and
    the text drawn as written, `%{…}` and all."""
    folder = tmp_path / name
    folder.mkdir()
    font = folder / "font.ttf"
    font.write_bytes(video.font().read_bytes())
    text = folder / "text.txt"
    text.write_text("%{pts} it's: [x]; y, z \\", encoding="utf-8")
    graph = f"color=c=black:s=320x80:d=0.1,{video._text_filter(font, text, 30, 'white', '10', 20)}"
    out = subprocess.run(
        [
            ffmpeg(),
            "-nostdin",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            graph,
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ],
        capture_output=True,
    )
    assert out.returncode == 0, out.stderr.decode()
    assert max(out.stdout) > 200  # letters were drawn


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    """A short recording of speech and silence, and a cover."""
    folder = tmp_path_factory.mktemp("spoken")
    say(folder / "say.wav", ["Every voice gets a turn.", 0.8, "Nobody hides."])
    _artwork(folder / "cover.jpg")
    return folder


def _render(folder, out, work):
    work.mkdir()
    return video.render(
        folder / "say.wav",
        0.1,
        2.0,
        out,
        work,
        "square",
        folder / "cover.jpg",
        video.Titles("Show", "Episode", "Bite"),
        (video.Caption(0.0, 1.2, "Every voice gets a turn.", "Ann"),),
        video.font(),
        -14.0,
        -1.0,
    )


def test_the_same_clip_is_made_byte_for_byte_again(spoken, tmp_path):
    first, second = tmp_path / "1.mp4", tmp_path / "2.mp4"
    made = _render(spoken, first, tmp_path / "w1")
    _render(spoken, second, tmp_path / "w2")
    assert made.texts and first.read_bytes() == second.read_bytes()


def test_without_drawtext_a_clip_is_made_without_text_and_says_so(spoken, tmp_path, monkeypatch):
    monkeypatch.setattr(video, "can_draw_text", lambda: False)
    made = _render(spoken, tmp_path / "plain.mp4", tmp_path / "w")
    assert not made.texts
    assert not list((tmp_path / "w").glob("*.txt"))  # no text was handed to ffmpeg
    width, height, vcodec, _, acodec, seconds = _probe(tmp_path / "plain.mp4")
    assert (width, height, vcodec, acodec) == (1080, 1080, "h264", "aac") and abs(seconds - 2.0) <= 0.05


def test_clips_turned_off_leave_the_site(built):
    folder, _ = built
    settings = folder / config_module.CONFIG_NAME
    original = settings.read_text()
    try:
        settings.write_text(original + "\n[clips]\nmake = false\n")
        off = run_build(config_module.load(folder))
        assert off.ok and not off.clips
        assert not list((folder / "public" / "media").glob("*.clip-*"))
        assert 'id="clips"' not in (folder / "public" / layout.page("swear")).read_text()
    finally:
        settings.write_text(original)
        again = run_build(config_module.load(folder))
        assert sum(clip.made for clip in again.clips) == 0  # back from the cache
