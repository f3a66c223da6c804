"""End to end through the real CLI: recordings in, a feed podcast apps accept out."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import feedparser
import podcastparser
import pytest
from lxml import etree
from markupsafe import escape
from mutagen.mp3 import MP3

from pipeline import config as config_module
from pipeline.cli import main
from tests.conftest import PNG_1PX, SPEECH, checksums, make_audio, write_notes, write_show
from tests.speech import needs_espeak

NS = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd"}
TRICKY = "Q&A: <Leaders> \"lead\", managers 'manage' 🎙️"


def _three_episode_show(root: Path, audio_dir: Path) -> Path:
    show = write_show(root / "show")
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / "first-panel.wav")
    shutil.copy(audio_dir / "mono.flac", show / "episodes" / "second-panel.flac")
    shutil.copy(audio_dir / "tagged.mp3", show / "episodes" / "third-panel.mp3")
    write_notes(show, "first-panel", "title: First panel\ndate: 2026-01-05\nexplicit: true\npanelists: [Ann, Bo]")
    write_notes(
        show, "second-panel", f"title: {json.dumps(TRICKY, ensure_ascii=False)}\ndate: 2026-02-10 18:30:00+01:00"
    )
    write_notes(show, "third-panel", "title: Third panel\ndate: 2026-03-15\nexplicit: false\nepisode: 3\nseason: 1")
    return show


def _parse(feed: Path):
    parsed = feedparser.parse(feed.read_bytes())
    with feed.open("rb") as handle:
        gpodder = podcastparser.parse("https://pod.example.com/show/feed.xml", handle)
    return parsed, gpodder


@pytest.fixture
def built(tmp_path, audio_dir):
    show = _three_episode_show(tmp_path, audio_dir)
    before = checksums(show / "episodes")
    assert main(["build", "--show", str(show)]) == 0
    return show, before


def test_build_publishes_a_feed_both_parsers_accept(built):
    show, _ = built
    site = show / "public"
    parsed, gpodder = _parse(site / "feed.xml")
    assert not parsed.bozo, parsed.get("bozo_exception")
    titles = ["Third panel", TRICKY, "First panel"]  # newest first
    assert [e.title for e in parsed.entries] == titles
    assert [e["title"] for e in gpodder["episodes"]] == titles
    assert parsed.feed.title == gpodder["title"] == "Test Panel"

    expected_seconds = {"Third panel": 5.0, TRICKY: 3.0, "First panel": 4.0}
    for entry, episode in zip(parsed.entries, gpodder["episodes"]):
        enclosure = episode["enclosures"][0]
        local = site / "media" / enclosure["url"].rsplit("/", 1)[1]
        assert enclosure["file_size"] == local.stat().st_size
        assert int(entry.enclosures[0]["length"]) == local.stat().st_size
        assert enclosure["mime_type"] == "audio/mpeg"
        assert abs(episode["total_time"] - expected_seconds[entry.title]) <= 1
        assert abs(MP3(local).info.length - expected_seconds[entry.title]) <= 1
    assert [e["explicit"] for e in gpodder["episodes"]] == [False, False, True]
    # feedparser only knows yes/clean; read Apple's true/false straight from the XML
    tree = etree.parse(str(site / "feed.xml"))
    assert tree.xpath("//item/itunes:explicit/text()", namespaces=NS) == ["false", "false", "true"]
    published = [e["published"] for e in gpodder["episodes"]]
    assert published == sorted(published, reverse=True)
    # the feed says true/false, Apple's current values
    xml = (site / "feed.xml").read_text(encoding="utf-8")
    assert "<itunes:explicit>true</itunes:explicit>" in xml
    assert "yes</itunes:explicit>" not in xml


def test_pages_escape_titles_and_show_the_explicit_badge(built):
    show, _ = built
    site = show / "public"
    page = (site / "episodes" / "second-panel.html").read_text(encoding="utf-8")
    assert str(escape(TRICKY)) in page
    assert "<Leaders>" not in page
    first = (site / "episodes" / "first-panel.html").read_text(encoding="utf-8")
    assert 'class="badge explicit"' in first and 'class="badge explicit"' not in page
    index = (site / "index.html").read_text(encoding="utf-8")
    assert index.index("Third panel") < index.index("First panel")
    assert index.count('class="badge explicit"') == 1


def test_rebuild_is_byte_identical_and_keeps_guids(built):
    show, before = built
    site = show / "public"
    first = checksums(site)
    ledger_text = (show / config_module.LEDGER_NAME).read_text()
    guids = [e.id for e in feedparser.parse(site / "feed.xml").entries]
    assert main(["build", "--show", str(show)]) == 0
    assert checksums(site) == first
    assert (show / config_module.LEDGER_NAME).read_text() == ledger_text
    assert [e.id for e in feedparser.parse(site / "feed.xml").entries] == guids
    assert checksums(show / "episodes") == before


def test_a_blog_file_in_the_site_folder_is_untouched(tmp_path, audio_dir):
    show = _three_episode_show(tmp_path, audio_dir)
    blog = show / "public" / "posts" / "hello.html"
    blog.parent.mkdir(parents=True)
    blog.write_text("<p>my blog</p>")
    assert main(["build", "--show", str(show)]) == 0
    assert main(["build", "--show", str(show)]) == 0
    assert blog.read_text() == "<p>my blog</p>"


def test_a_blog_index_is_never_overwritten(tmp_path, audio_dir, capsys):
    show = _three_episode_show(tmp_path, audio_dir)
    index = show / "public" / "index.html"
    index.parent.mkdir(parents=True)
    index.write_text("the blog's own index")
    assert main(["build", "--show", str(show)]) == 1
    assert index.read_text() == "the blog's own index"
    assert not (show / "public" / "feed.xml").exists()
    assert "index.html" in capsys.readouterr().err


BAD_RECORDINGS = {
    "not-audio.wav": (lambda p: p.write_text("this is a shopping list, not audio"), "not a recording"),
    "empty.mp3": (lambda p: p.write_bytes(b""), "empty"),
    "truncated.wav": (None, "truncated"),
}


@pytest.mark.parametrize("name", sorted(BAD_RECORDINGS))
def test_a_bad_recording_fails_alone(tmp_path, audio_dir, capsys, name):
    show = _three_episode_show(tmp_path, audio_dir)
    bad = show / "episodes" / name
    writer, expected = BAD_RECORDINGS[name]
    if writer:
        writer(bad)
    else:  # a WAV cut short: the header promises 6 s, the file holds about 2
        make_audio(bad, seconds=6)
        bad.write_bytes(bad.read_bytes()[: 44 + 2 * 2 * 44100 * 2])
    write_notes(show, bad.stem, "title: Bad one\ndate: 2026-04-01")
    before = checksums(show / "episodes") | checksums(show / "show_notes")
    assert main(["build", "--show", str(show)]) == 1
    out = capsys.readouterr()
    assert name in out.err and expected in out.err
    assert len(feedparser.parse(show / "public" / "feed.xml").entries) == 3
    assert checksums(show / "episodes") | checksums(show / "show_notes") == before


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("title: Fine\n- not a mapping", "not valid YAML at line 3"),
        ("date: 2026-04-01", "has no title"),
    ],
)
def test_bad_notes_fail_alone(tmp_path, audio_dir, capsys, front, expected):
    show = _three_episode_show(tmp_path, audio_dir)
    make_audio(show / "episodes" / "fourth.wav", seconds=2)
    write_notes(show, "fourth", front)
    before = checksums(show / "show_notes")
    assert main(["build", "--show", str(show)]) == 1
    err = capsys.readouterr().err
    assert "fourth.md" in err and expected in err
    assert len(feedparser.parse(show / "public" / "feed.xml").entries) == 3
    assert checksums(show / "show_notes") == before


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('bitrate = "loud"', "bitrate = 'loud' is not a whole number"),
        ("volume = 3", "unknown setting `audio.volume`"),
    ],
)
def test_a_bad_config_stops_before_any_work(tmp_path, audio_dir, capsys, extra, expected):
    show = _three_episode_show(tmp_path, audio_dir)
    write_show(show, extra_audio=extra)
    assert main(["build", "--show", str(show)]) == 2
    err = capsys.readouterr().err
    assert "panelpress.toml" in err and expected in err
    assert not (show / "public").exists()


def test_a_recording_without_notes_gets_a_draft_starter(tmp_path, audio_dir, capsys):
    show = write_show(tmp_path / "show")
    shutil.copy(audio_dir / "tagged.mp3", show / "episodes" / "new-one.mp3")
    assert main(["build", "--show", str(show)]) == 0
    notes = (show / "show_notes" / "new-one.md").read_text()
    assert "title: Tagged Title" in notes and "draft: true" in notes and "2026-03-04" in notes
    assert "- Ann Example" in notes and "summary: From the tags." in notes
    out = capsys.readouterr().out
    assert "started notes" in out and "skipped" in out
    assert feedparser.parse(show / "public" / "feed.xml").entries == []
    # the host's edits are never overwritten by a later build
    (show / "show_notes" / "new-one.md").write_text(notes.replace("draft: true", "draft: false"))
    assert main(["build", "--show", str(show)]) == 0
    assert "draft: false" in (show / "show_notes" / "new-one.md").read_text()
    assert len(feedparser.parse(show / "public" / "feed.xml").entries) == 1


def test_init_starts_a_show_and_refuses_to_overwrite(tmp_path, capsys):
    folder = tmp_path / "myshow"
    assert main(["init", str(folder)]) == 0
    text = (folder / "panelpress.toml").read_text()
    with pytest.raises(config_module.ConfigError, match="still the starter's"):
        config_module.load(folder)  # valid TOML, but a show must not publish under the placeholder address
    for key, value in config_module.PLACEHOLDERS.items():
        text = text.replace(
            value, {"site_url": "https://mine.example.org/pod/", "owner_email": "me@mine.example.org"}[key]
        )
    (folder / "panelpress.toml").write_text(text)
    config_module.load(folder)
    (folder / "panelpress.toml").write_text(text + "\n# mine\n")
    assert main(["init", str(folder)]) == 0
    assert (folder / "panelpress.toml").read_text().endswith("# mine\n")
    assert "already exists" in capsys.readouterr().err


def test_help_explains_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["build", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--show" in out and "--out" in out and "Exit code" in out


def test_out_overrides_the_site_folder(tmp_path, audio_dir):
    show = _three_episode_show(tmp_path, audio_dir)
    out = tmp_path / "blog" / "podcast"
    assert main(["build", "--show", str(show), "--out", str(out)]) == 0
    assert (out / "feed.xml").is_file() and not (show / "public").exists()


def test_the_summary_shows_each_episode_loudness_report(tmp_path, capsys):
    show = write_show(tmp_path / "show", normalize=True)
    make_audio(show / "episodes" / "loud.wav", seconds=6, source=SPEECH.format(seed=2))
    write_notes(show, "loud", "title: Loud\ndate: 2026-01-05")
    assert main(["build", "--show", str(show)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.lstrip("│ ").startswith("loud ") and " dB " in line)
    published = row.split("│")[4].split("/")
    assert "measured on the decoded file" in out
    assert abs(float(published[0]) + 16) <= 0.5 and float(published[1]) <= -1.0


def _started(show: Path, ignoring: bool = False) -> subprocess.Popen:
    """`panelpress build` in a process group of its own, as a terminal runs a foreground job (with `ignoring`, as a
    shell that ignores Ctrl-C starts one), its output read as it prints it."""
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "build", "--show", str(show)],
        start_new_session=True,
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignoring else None,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_ctrl_c_stops_the_build_without_starting_queued_episodes(tmp_path):
    show = write_show(tmp_path / "show", normalize=True, extra_build="workers = 1")
    for n in range(3):
        make_audio(show / "episodes" / f"panel-{n}.wav", seconds=120, source=SPEECH.format(seed=n))
        write_notes(show, f"panel-{n}", f"title: Panel {n}\ndate: 2026-01-0{n + 1}")
    cache = config_module.load(show).cache_dir / "master"
    build = _started(show)
    deadline = time.monotonic() + 120
    while (
        not (cache.is_dir() and any(p.is_dir() for p in cache.iterdir())) and time.monotonic() < deadline
    ):  # the first episode is mastering
        time.sleep(0.05)
    assert build.poll() is None, "the build ended before it could be interrupted"
    os.killpg(build.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole foreground group gets it
    _, err = build.communicate(timeout=120)
    assert build.returncode == 130 and "interrupted" in err
    assert list(cache.iterdir()) == []  # nothing mastered after the interrupt, nothing half-written kept
    assert not (show / "public" / "feed.xml").exists()


def test_files_the_notes_link_to_are_published_with_the_episode(tmp_path, audio_dir):
    show = write_show(tmp_path / "show")
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / "linked-panel.wav")
    (show / "show_notes" / "files").mkdir(parents=True)
    (show / "show_notes" / "whiteboard.png").write_bytes(PNG_1PX)
    (show / "show_notes" / "files" / "poll results.json").write_text('{"yes": 3}')
    body = "![The whiteboard](whiteboard.png)\n\nThe [poll](<files/poll results.json#yes>) and [our blog](../blog/)."
    body += "\n\nLast week: [the first one](first-panel.md#end); next: [a draft](next-panel.md)."
    write_notes(show, "linked-panel", "title: Linked\ndate: 2026-01-05", body)
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / "first-panel.wav")
    write_notes(show, "first-panel", "title: First\ndate: 2026-01-01")
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / "next-panel.wav")
    write_notes(show, "next-panel", "title: Next\ndate: 2026-01-12\ndraft: true")
    notes_before = checksums(show / "show_notes")
    assert main(["build", "--show", str(show)]) == 0

    site = show / "public"
    assert (site / "episodes" / "linked-panel" / "whiteboard.png").read_bytes() == PNG_1PX
    assert (site / "episodes" / "linked-panel" / "files" / "poll results.json").read_text() == '{"yes": 3}'
    page = (site / "episodes" / "linked-panel.html").read_text(encoding="utf-8")
    assert '<img src="linked-panel/whiteboard.png" alt="The whiteboard"' in page
    assert 'href="linked-panel/files/poll%20results.json#yes"' in page and 'href="../blog/"' in page
    assert (
        'href="first-panel.html#end"' in page and 'href="next-panel.md"' in page
    )  # a draft's notes are never published
    assert not list(site.rglob("*.md"))
    parsed, _ = _parse(site / "feed.xml")
    html = next(e for e in parsed.entries if e.title == "Linked").content[0].value
    assert '<a href="https://pod.example.com/show/episodes/linked-panel/whiteboard.png">The whiteboard</a>' in html
    assert 'href="https://pod.example.com/show/episodes/linked-panel/files/poll%20results.json#yes"' in html
    assert 'href="https://pod.example.com/show/blog/"' in html
    assert 'href="https://pod.example.com/show/episodes/first-panel.html#end"' in html
    assert not etree.parse(str(site / "feed.xml")).xpath(
        "//*[local-name()='transcript']"
    )  # a linked .json is not a transcript
    assert checksums(show / "show_notes") == notes_before


def test_a_recording_without_tags_or_art_gets_a_plain_draft_starter(tmp_path, capsys):
    show = write_show(tmp_path / "show")
    make_audio(show / "episodes" / "bare-panel.wav", seconds=2)
    assert main(["build", "--show", str(show)]) == 0
    notes = (show / "show_notes" / "bare-panel.md").read_text(encoding="utf-8")
    assert "title: Bare panel" in notes and "draft: true" in notes and "image:" not in notes
    assert sorted(p.name for p in (show / "show_notes").iterdir()) == ["bare-panel.md"]


# --- Ctrl-C and stops: an interrupted build publishes nothing, whoever hears the signal first ----------------------


@pytest.fixture(scope="module")
def mastering(tmp_path_factory) -> Path:
    """A published show of one episode, with two long recordings waiting to be mastered by the next build."""
    show = write_show(tmp_path_factory.mktemp("ctrl-c") / "show", normalize=True, extra_build="workers = 2")
    make_audio(show / "episodes" / "short.wav", seconds=2, source=SPEECH.format(seed=9))
    write_notes(show, "short", "title: Short\ndate: 2026-01-01")
    assert main(["build", "--show", str(show)]) == 0
    for n in range(2):
        make_audio(show / "episodes" / f"long-{n}.wav", seconds=90, source=SPEECH.format(seed=n))
        write_notes(show, f"long-{n}", f"title: Long {n}\ndate: 2026-01-0{n + 2}")
    return show


def _begun(build: subprocess.Popen) -> str:
    """The line in which the build says an episode's audio work began (read as it prints it; '' if it ends first)."""
    for line in build.stderr:
        if "audio work began" in line:
            return line
    return ""


def _ffmpeg_children(pid: int, reading: str = "") -> list[int]:
    """The ffmpeg processes a process runs now (from /proc); with `reading`, those whose command line names it."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            try:
                named = reading in Path(f"/proc/{child}/cmdline").read_text(errors="replace")
                if named and Path(f"/proc/{child}/comm").read_text().startswith("ffmpeg"):  # a wheel's: ffmpeg-linux-…
                    found.append(int(child))
            except OSError:
                continue
    return found


def _state(pid: int) -> str:
    """A process's state letter (R running, S sleeping, T stopped, Z ended but not yet reaped), from /proc."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return ""


def _held(build: subprocess.Popen) -> int:
    """An ffmpeg of the build, stopped (SIGSTOP) while it runs: one that ended first is passed over (0: the build
    ended first)."""
    while child := _an_ffmpeg_of(build):
        os.kill(child, signal.SIGSTOP)
        while (state := _state(child)) not in ("T", "Z", ""):  # the stop lands a moment later
            time.sleep(0.001)
        if state == "T":
            return child
    return 0


def _signal_one_ffmpeg(build: subprocess.Popen, sent: int) -> None:
    """Send one ffmpeg of the build a signal, held still first so that the signal finds it running whatever its
    speed; it acts on it once let go."""
    child = _held(build)
    assert child, "the build ended before its ffmpeg could be interrupted"
    os.kill(child, sent)
    os.kill(child, signal.SIGCONT)


def _an_ffmpeg_of(build: subprocess.Popen) -> int:
    """An ffmpeg the build is running, once it runs one (0 if the build ends first)."""
    if not Path(f"/proc/{build.pid}/task").is_dir():
        pytest.skip("finding the build's ffmpeg needs Linux's /proc")
    deadline = time.monotonic() + 120  # bounds a failure only
    while build.poll() is None and time.monotonic() < deadline:
        found = _ffmpeg_children(build.pid, "/long-")  # a pass over a recording, not `ffmpeg -version`
        if found:
            return found[0]
        time.sleep(0.01)
    return 0


# who gets the signal: the terminal's whole group (Ctrl-C), one ffmpeg only (it heard Ctrl-C first), the build only
STOPS = {
    "Ctrl-C to the group": ("group", signal.SIGINT, 130),
    "Ctrl-C heard by ffmpeg alone": ("ffmpeg", signal.SIGINT, 130),
    "SIGTERM to ffmpeg alone": ("ffmpeg", signal.SIGTERM, 130),
    "SIGTERM to the build": ("build", signal.SIGTERM, 143),
    # started by a shell that ignores Ctrl-C (a background job's): ffmpeg hears it anyway, and so must the build
    "Ctrl-C to a build started ignoring it": ("build", signal.SIGINT, 130),
}


@pytest.mark.parametrize("how", list(STOPS))
def test_an_interrupted_build_publishes_nothing_whoever_hears_the_signal_first(mastering, tmp_path, how):
    whom, sent, code = STOPS[how]
    mastering = Path(shutil.copytree(mastering, tmp_path / "show", symlinks=True))
    feed = (mastering / "public" / "feed.xml").read_bytes()
    for _ in range(3 if whom == "group" else 1):  # the race a terminal's Ctrl-C starts, tried again
        build = _started(mastering, ignoring="ignoring" in how)
        try:
            assert "long-" in _begun(build), "the build said when mastering began"
            child = _an_ffmpeg_of(build)
            assert child, "the build ended before it could be interrupted"
            seen = set(_ffmpeg_children(build.pid))
            if whom == "group":
                os.killpg(build.pid, sent)
            elif whom == "build":
                os.kill(build.pid, sent)
            else:
                _signal_one_ffmpeg(build, sent)
            out, err = build.communicate(timeout=300)
        finally:
            if build.poll() is None:
                build.kill()
        said = out + err
        assert build.returncode == code, said
        assert ("stopped" if code == 143 else "interrupted") in err and "the last good build" in err
        assert "export it again" not in said and "could not process" not in said and "Traceback" not in said
        assert (mastering / "public" / "feed.xml").read_bytes() == feed, "nothing was published"
        assert not (mastering / "public" / "media" / "long-0.mp3").exists()
        for pid in seen:  # the ffmpeg it ran went with it
            assert _state(pid) in ("", "Z")


def test_ctrl_c_heard_by_the_mix_of_a_panels_tracks_alone_stops_the_build(tmp_path):
    """The mix reads its tracks with ffmpeg runs of its own (not run_ffmpeg's): one of them stopped first is an
    interruption too, never a track 'to export again'."""
    show = write_show(tmp_path / "show", normalize=True)
    for n, name in enumerate(("dana", "sam")):
        make_audio(show / "episodes" / "long-panel" / f"{name}.wav", seconds=240, source=SPEECH.format(seed=n))
    write_notes(show, "long-panel", "title: Long panel\ndate: 2026-01-02\npanelists: [Dana, Sam]")
    build = _started(show)
    try:
        assert "long-panel" in _begun(build), "the build said when the mix began"
        _signal_one_ffmpeg(build, signal.SIGINT)
        out, err = build.communicate(timeout=300)
    finally:
        if build.poll() is None:
            build.kill()
    said = out + err
    assert build.returncode == 130, said
    assert "interrupted" in err and "export it again" not in said and "could not read the tracks" not in said
    assert not (show / "public" / "feed.xml").exists(), "nothing was published"


def _outside_the_cache(show: Path) -> dict[str, str]:
    return {rel: sha for rel, sha in checksums(show).items() if not rel.startswith(".panelpress-cache")}


INTERRUPTER = """
import os, signal, sys
from pipeline import {module}
real = {module}.{function}
def interrupted(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGINT)
    return real(*args, **kwargs)
{module}.{function} = interrupted
from pipeline.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_during_check_or_import_is_one_line_and_changes_nothing(tmp_path, audio_dir):
    show = _three_episode_show(tmp_path, audio_dir)
    assert main(["build", "--show", str(show)]) == 0
    before = _outside_the_cache(show)
    old_feed = tmp_path / "old.xml"
    shutil.copy(show / "public" / "feed.xml", old_feed)
    runs = {
        "check": (("check", "summary"), ["check", "--show", str(show)], "check changes nothing"),
        "import": (("show.ledger", "save"), ["import", str(old_feed), "--show", str(show)], "import again"),
    }
    for command, ((module, function), args, said) in runs.items():
        package, _, name = module.rpartition(".")
        code = INTERRUPTER.format(module=name, function=function)
        if package:
            code = code.replace(f"from pipeline import {name}", f"from pipeline.{package} import {name}")
        done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == 130, (command, done.stdout, done.stderr)
        assert done.stderr.startswith("interrupted: ") and said in done.stderr
        assert "Traceback" not in done.stdout + done.stderr
        assert _outside_the_cache(show) == before, f"an interrupted {command} changed the show"


@needs_espeak
def test_ctrl_c_while_transcribing_publishes_nothing_and_writes_no_draft(tmp_path):
    from tests.test_hostile import transcribing_show

    folder = tmp_path / "show"
    transcribing_show(folder, phrases=6)
    build = _started(folder)
    try:
        assert "talk: audio work began (transcribe)" in _begun(build)
        os.killpg(build.pid, signal.SIGINT)  # the terminal's Ctrl-C: the build, the transcriber's ffmpeg
        out, err = build.communicate(timeout=300)
    finally:
        if build.poll() is None:
            build.kill()
    assert build.returncode == 130 and "interrupted" in err and "Traceback" not in out + err
    assert not (folder / "show_notes" / "talk.vtt").exists() and not (folder / "public" / "feed.xml").exists()


def test_ffmpeg_told_to_stop_is_told_from_ffmpeg_failing(tmp_path):
    from pipeline.audio.ffmpeg import run_ffmpeg, stopped

    assert stopped(255, "size=N/A\nExiting normally, received signal 2.\n")
    assert stopped(0, "Exiting normally, received signal 15.\n"), (
        "stopped while opening its input: exit 0, nothing made"
    )
    assert stopped(-signal.SIGINT, "") and stopped(-signal.SIGTERM, "") and stopped(255, "")  # -loglevel error
    assert not stopped(-signal.SIGKILL, "") and not stopped(1, "Invalid data found when processing input")
    assert not stopped(255, "Operation not permitted")
    # a file may be named anything: its name in ffmpeg's log is not ffmpeg's word
    named = make_audio(tmp_path / "Exiting normally, received signal 2.wav", seconds=1)
    run = run_ffmpeg(named, ["-i", str(named), "-f", "null", "-"], 1.0)
    assert str(named) in run.log
