"""The build engine: a build costs what changed, the cache is invalidated by every input and by nothing else, the
guard runs before any audio work, and cold builds are byte-identical.

What a build reads and runs is observed with Python's audit hooks (real events of the process: every file opened,
every program started), not with stand-ins.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image

from pipeline import config as config_module
from pipeline import layout
from pipeline.build import build as run_build
from pipeline.build import preview
from pipeline.cli import main
from tests.conftest import PNG_1PX, checksums, make_audio, write_notes, write_show

VTT = "WEBVTT\n\n00:00:00.500 --> 00:00:02.000\n<v Ann>Hello.\n\n00:00:02.000 --> 00:00:03.000\n<v Bo>Hi, Ann.\n"

_watchers: list[dict[str, list]] = []


def _audit(event: str, args: tuple) -> None:
    for seen in _watchers:
        if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            seen["opened"].append(os.fsdecode(args[0]))
        elif event == "subprocess.Popen":
            seen["started"].append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


@contextmanager
def watching():
    """Record every file this process opens and every program it starts while the block runs."""
    seen: dict[str, list] = {"opened": [], "started": []}
    _watchers.append(seen)
    try:
        yield seen
    finally:
        _watchers.remove(seen)


def site(folder: Path) -> dict[str, str]:
    """Checksums of the site's published files (not the manifest, which records their times on this disk)."""
    return {rel: digest for rel, digest in checksums(folder).items() if rel not in layout.RESERVED}


def build(show: Path, *args: str) -> int:
    return main(["build", "--show", str(show), *args])


@pytest.fixture
def show(tmp_path) -> Path:
    """A built show of two episodes: one with a transcript, a chapters file and an image; show artwork."""
    folder = write_show(tmp_path / "show", extra_show='artwork = "cover.jpg"')
    Image.new("RGB", (1400, 1400), (30, 90, 160)).save(folder / "cover.jpg")
    make_audio(folder / "episodes" / "alpha.wav", seconds=3)
    make_audio(folder / "episodes" / "beta.wav", seconds=2, volume_db=-6)
    (folder / "episodes" / "alpha.vtt").write_text(VTT)
    (folder / "episodes" / "alpha.chapters.txt").write_text("00:00:00 Welcome\n00:00:01.500 Topic\n")
    (folder / "show_notes" / "board.png").write_bytes(PNG_1PX)
    write_notes(folder, "alpha", "title: Alpha\ndate: 2026-01-05\nimage: board.png\npanelists: [Ann, Bo]")
    write_notes(folder, "beta", "title: Beta\ndate: 2026-01-12")
    assert build(folder) == 0
    return folder


def _made(show: Path, capsys=None) -> tuple[set[str], list[str]]:
    """Build again; return the episodes made anew (the others came from the cache) and the programs started."""
    with watching() as seen:
        result = run_build(config_module.load(show))
    assert result.ok, result
    return {item.episode.slug for item in result.published}, seen["started"]


def test_a_build_with_nothing_to_do_reads_no_recording_and_starts_no_program(show, capsys):
    site = checksums(show / "public")
    times = {p: p.stat().st_mtime_ns for p in (show / "public").rglob("*") if p.is_file()}
    with watching() as seen:
        assert build(show) == 0
    recordings = [p for p in seen["opened"] if p.endswith(".wav")]
    notes = [p for p in seen["opened"] if p.endswith(".md")]
    assert recordings == [] and notes == [] and seen["started"] == []
    assert checksums(show / "public") == site
    assert {p: p.stat().st_mtime_ns for p in times} == times, "nothing in the site was rewritten"
    assert "2 unchanged" in capsys.readouterr().out


def _touch(path: Path) -> None:
    later = time.time() + 5
    os.utime(path, (later, later))


@pytest.mark.parametrize(
    "change, remade, ffmpeg",
    [
        (lambda s: make_audio(s / "episodes" / "alpha.wav", seconds=4), {"alpha"}, True),  # the recording replaced
        (
            lambda s: write_notes(s, "alpha", "title: Alpha, renamed\ndate: 2026-01-05\nimage: board.png"),
            {"alpha"},
            False,
        ),
        (lambda s: (s / "episodes" / "alpha.vtt").write_text(VTT.replace("Hello.", "Hello there.")), {"alpha"}, False),
        (
            lambda s: (s / "episodes" / "alpha.chapters.txt").write_text("00:00:00 Welcome\n00:00:02 Later topic\n"),
            {"alpha"},
            False,
        ),
        (lambda s: (s / "show_notes" / "board.png").write_bytes(PNG_1PX + b"edited"), {"alpha"}, False),
        (lambda s: (s / "episodes" / "beta.vtt").write_text(VTT), {"beta"}, False),  # a transcript added
        (lambda s: _setting(s, "[audio]", "bitrate = 96"), {"alpha", "beta"}, True),  # changes the sound
        (
            lambda s: _reword(s, 'author = "Test Author"', 'author = "Another Author"'),
            {"alpha", "beta"},
            False,
        ),  # changes the tags
        (
            lambda s: Image.new("RGB", (1400, 1400), "white").save(s / "cover.jpg"),
            {"alpha", "beta"},
            False,
        ),  # embedded art
        (lambda s: _setting(s, "[show]", 'copyright = "© 2026"'), set(), False),  # the channel only
        (lambda s: [_touch(p) for p in (s / "episodes").iterdir()], set(), False),  # new times, same bytes
    ],
    ids=[
        "recording",
        "notes",
        "transcript",
        "chapters-file",
        "image",
        "transcript-added",
        "audio-setting",
        "tag-setting",
        "artwork",
        "channel-setting",
        "touch",
    ],
)
def test_the_cache_follows_every_input_and_nothing_else(show, capsys, change, remade, ffmpeg):
    change(show)
    made, started = _made(show, capsys)
    assert made == remade
    assert bool(started) == ffmpeg, "only a change to the sound masters again"
    made, started = _made(show, capsys)
    assert made == set() and started == [], "and the build after it has nothing to do"


def _setting(show: Path, section: str, line: str) -> None:
    _reword(show, section, f"{section}\n{line}")


def _reword(show: Path, old: str, new: str) -> None:
    path = show / config_module.CONFIG_NAME
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))


def test_a_new_version_of_panelpress_remakes_every_episode_but_masters_none(show, capsys):
    cache = config_module.load(show).cache_dir
    for index in (cache / "state").rglob("index.json"):
        data = json.loads(index.read_text())
        index.write_text(json.dumps({**data, "format": "written by another version"}))
    made, started = _made(show, capsys)
    assert made == {"alpha", "beta"} and started == []


def test_a_fresh_copy_of_the_show_with_its_cache_masters_nothing(show, tmp_path, capsys):
    copy = tmp_path / "elsewhere" / "show"
    shutil.copytree(show, copy, copy_function=shutil.copy)  # new times everywhere, same bytes
    published = site(show / "public")
    shutil.rmtree(copy / "public")
    made, started = _made(copy, capsys)
    assert started == [] and made == {"alpha", "beta"}  # other paths: re-tagged from the cached masters
    assert site(copy / "public") == published


def test_an_edit_of_the_notes_reads_none_of_the_episodes_unchanged_files(show):
    """A changed episode's files that kept their size and time are taken as its last build stamped them, as a build
    with nothing to do takes them: an edit of the notes of an hour's recording does not hash the hour again. Seen
    through a recording whose bytes change under the same size and time: the edit re-tags the episode from its
    cached master, as it would if the recording were not read at all."""
    recording = show / "episodes" / "alpha.wav"
    before = recording.stat()
    data = bytearray(recording.read_bytes())
    data[-64:] = bytes(64)  # its last samples silenced: the same size
    recording.write_bytes(bytes(data))
    os.utime(recording, ns=(before.st_atime_ns, before.st_mtime_ns))
    write_notes(show, "alpha", "title: Alpha, renamed\ndate: 2026-01-05\nimage: board.png\npanelists: [Ann, Bo]")
    made, started = _made(show)
    assert made == {"alpha"} and started == [], "re-tagged from its cached master: the recording was not read"
    _touch(recording)  # a new time: now it is read, and its new bytes are mastered
    made, started = _made(show)
    assert made == {"alpha"} and started, "mastered again"


def _imported(show: Path) -> set[str]:
    """`panelpress build` run as a host runs it; the modules its process imported (`python -X importtime`)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pipeline.cli", "build", "--show", str(show)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


def test_an_edit_of_the_notes_tags_the_audio_again_without_the_audio_stack(show):
    """Retitling an episode re-tags the audio its last build mastered: nothing is decoded or mastered, and the audio
    stack (numpy, PyAV, the mastering code) is not even imported, nor langcodes' registry (the pages' locale is kept
    with them); the next change to its sound masters it again."""
    write_notes(show, "alpha", "title: Alpha, renamed\ndate: 2026-01-05\nimage: board.png\npanelists: [Ann, Bo]")
    imported = _imported(show)
    assert "pipeline.episode.tags" in imported, "the episode was tagged again"
    assert not imported & {"numpy", "av", "scipy", "pipeline.audio.mastering", "langcodes"}, sorted(imported)
    assert "Alpha, renamed" in (show / "public" / "feed.xml").read_text()
    make_audio(show / "episodes" / "alpha.wav", seconds=4)
    assert "pipeline.audio.mastering" in _imported(show), "a new recording is mastered"


def test_an_edit_of_words_reads_no_picture(show):
    """The show's artwork is checked and shrunk for the tags once per artwork, and kept in the cache: retitling an
    episode without pictures of its own does not load Pillow (the site stays a cold build's: the other tests). What
    the artwork is, is remembered by the first command that finds the cache folder there (the fixture's build made it)."""
    assert build(show) == 0
    write_notes(show, "beta", "title: Beta, renamed\ndate: 2026-01-12")
    imported = _imported(show)
    assert "pipeline.episode.tags" in imported, "the episode was tagged again"
    assert "PIL.Image" not in imported, sorted(imported)
    assert "Beta, renamed" in (show / "public" / "feed.xml").read_text()
    (show / "cover.jpg").write_bytes(b"not a picture")
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "build", "--show", str(show)], capture_output=True, text=True
    )
    assert done.returncode == 2 and "cover.jpg" in done.stderr and "not a JPEG or PNG image" in done.stderr, (
        "a changed artwork is read again"
    )


def test_an_edit_whose_mastered_audio_left_the_cache_masters_it_again(show):
    """The audio an edit would tag again is taken only while it is still in the cache; otherwise it is made again,
    as a build without the cache would make it."""
    published = site(show / "public")
    for path in (config_module.load(show).cache_dir / "master").rglob("*"):
        if path.is_file():
            path.unlink()
    write_notes(show, "alpha", "title: Alpha, renamed\ndate: 2026-01-05\nimage: board.png\npanelists: [Ann, Bo]")
    made, started = _made(show)
    assert made == {"alpha"} and started, "mastered again"
    write_notes(show, "alpha", "title: Alpha\ndate: 2026-01-05\nimage: board.png\npanelists: [Ann, Bo]")
    assert build(show) == 0
    again = site(show / "public")
    assert {rel: again[rel] for rel in published if rel != "feed.xml"} == {  # its lastBuildDate moved twice
        rel: sha for rel, sha in published.items() if rel != "feed.xml"
    }, "the same audio and pages as before"


def test_an_edit_of_one_title_rewrites_only_that_episodes_files_the_index_and_the_feed(show):
    """Editing one episode's title re-writes its page, its audio (re-tagged) and chapters, the index and the feed;
    nothing of the other episodes (their pages and feed items come from what earlier builds rendered)."""
    beta_before = {rel: sha for rel, sha in site(show / "public").items() if "beta" in rel}
    write_notes(show, "alpha", "title: Alpha, renamed\ndate: 2026-01-05\nimage: board.png\npanelists: [Ann, Bo]")
    result = run_build(config_module.load(show))
    assert result.ok and result.report is not None
    written = set(result.report.written)
    assert {"episodes/alpha.html", "index.html", "feed.xml"} <= written
    assert all("alpha" in rel for rel in written - {"index.html", "feed.xml"}), written
    assert {rel: sha for rel, sha in site(show / "public").items() if "beta" in rel} == beta_before
    assert "Alpha, renamed" in (show / "public" / "feed.xml").read_text()


def test_two_builds_from_a_cold_cache_make_byte_identical_sites(show):
    first = site(show / "public")
    ledger_text = (show / config_module.LEDGER_NAME).read_text()
    shutil.rmtree(config_module.load(show).cache_dir)
    shutil.rmtree(show / "public")
    assert build(show) == 0
    assert site(show / "public") == first
    assert (show / config_module.LEDGER_NAME).read_text() == ledger_text


@pytest.mark.parametrize(
    "change",
    [
        lambda s: write_notes(
            s, "alpha", "title: Alpha, renamed\ndate: 2026-01-05\nimage: board.png\npanelists: [Ann, Bo]"
        ),
        lambda s: _reword(s, 'title = "Test Panel"', 'title = "Another Panel"'),  # every page, the channel
        lambda s: (s / "templates").mkdir() or (s / "templates" / "site.css").write_text("body { color: teal; }\n"),
    ],
    ids=["notes", "page-setting", "template"],
)
def test_what_a_build_keeps_of_earlier_builds_publishes_what_a_cold_build_does(show, change):
    """Feed items and pages are kept by what they are made from: after a change, the site a build makes from what
    it kept is byte for byte the site a build makes with nothing kept (and what it kept did not hide the change)."""
    before = site(show / "public")
    change(show)
    assert build(show) == 0
    warm = site(show / "public")
    assert warm != before, "the change is published"
    ledger_text = (show / config_module.LEDGER_NAME).read_text()
    kept = list((config_module.load(show).cache_dir / "state").rglob("html.log"))
    assert kept and all(log.stat().st_size for log in kept)
    for log in kept:  # every page and feed item is rendered anew, from the same records
        log.unlink()
        index = log.with_name("index.json")  # and the build assembles (it is no longer sure nothing changed)
        state = json.loads(index.read_text())
        index.write_text(json.dumps({**state, "data": {**state["data"], "noop": ""}}))
    assert build(show) == 0
    assert site(show / "public") == warm and (show / config_module.LEDGER_NAME).read_text() == ledger_text


def test_a_build_the_guard_refuses_masters_nothing(show, capsys):
    make_audio(show / "episodes" / "gamma.wav", seconds=2)
    write_notes(show, "gamma", "title: Gamma\ndate: 2026-01-19")
    write_notes(show, "beta", "title: Beta\ndate: 2026-01-13")  # a published episode re-dated
    master = config_module.load(show).cache_dir / "master"
    before = sorted(master.iterdir())
    with watching() as seen:
        assert build(show) == 1
    assert "would change its pubDate" in capsys.readouterr().err
    assert seen["started"] == [] and sorted(master.iterdir()) == before


def test_a_scheduled_episode_is_made_when_it_is_due(show, capsys):
    make_audio(show / "episodes" / "gamma.wav", seconds=2)
    write_notes(show, "gamma", "title: Gamma\ndate: 2999-01-01")
    made, _ = _made(show, capsys)
    assert made == set()
    assert build(show) == 0 and "scheduled for 2999-01-01" in capsys.readouterr().out


def test_a_preview_makes_the_plan_and_touches_neither_the_site_nor_the_ledger(show, capsys):
    make_audio(show / "episodes" / "gamma.wav", seconds=2)
    write_notes(show, "gamma", "title: Gamma\ndate: 2026-01-19")
    make_audio(show / "episodes" / "delta.wav", seconds=2)  # no notes yet: a preview starts none
    before = checksums(show)
    cached = {rel: digest for rel, digest in before.items() if rel.startswith(".panelpress-cache")}
    result = preview(config_module.load(show))
    after = checksums(show)
    assert {rel: d for rel, d in after.items() if not rel.startswith(".panelpress-cache")} == {
        rel: d for rel, d in before.items() if not rel.startswith(".panelpress-cache")
    }
    assert (
        result.plan is not None
        and "media/gamma.mp3" in result.plan.files
        and b"<title>Gamma</title>" in result.plan.feed
    )
    assert ("delta", "no notes yet: `panelpress build` starts them") in result.skipped
    assert cached != {rel: d for rel, d in after.items() if rel.startswith(".panelpress-cache")}, (
        "what it made is cached"
    )
    with watching() as seen:
        assert build(show) == 0  # the build after it masters nothing again
    assert all("ffmpeg" not in program for program in seen["started"])


def test_a_cache_written_by_another_version_is_replaced_not_appended_to(show, capsys):
    state = next((config_module.load(show).cache_dir / "state").iterdir())
    for log in ("results.log", "html.log"):
        text = (state / log).read_text(encoding="utf-8")
        (state / log).write_text("written by another version\n" + text.split("\n", 1)[1], encoding="utf-8")
    index = json.loads((state / "index.json").read_text())
    (state / "index.json").write_text(json.dumps({**index, "format": "written by another version"}))
    made, started = _made(show)
    assert made == {"alpha", "beta"} and started == []
    assert (state / "results.log").read_text(encoding="utf-8").split("\n", 1)[0] != "written by another version"
    made, started = _made(show)
    assert made == set() and started == [], "what it wrote is read back"


def test_a_damaged_cache_is_made_again_not_an_error(show):
    state = next((config_module.load(show).cache_dir / "state").iterdir())
    for log in (state / "results.log", state / "summaries.log"):  # alpha's record cut, and its summary
        log.write_text(log.read_text(encoding="utf-8").replace('"title":"Alpha"', '"title":'), encoding="utf-8")
    make_audio(show / "episodes" / "gamma.wav", seconds=2)
    write_notes(show, "gamma", "title: Gamma\ndate: 2026-01-19")
    master = config_module.load(show).cache_dir / "master"
    before = set(master.iterdir())
    made, _ = _made(show)
    assert made == {"alpha", "gamma"}
    new = set(master.iterdir()) - before
    assert sorted(p.suffix for p in new) == [".f32", ".json", ".mp3"], (
        "only gamma was mastered (its record, its audio, its gain curve): alpha's audio came from the cache"
    )


def test_an_edit_assembles_the_unchanged_episodes_from_their_summaries(show):
    """The episodes an edit leaves unchanged are assembled from their summaries, not their whole records: with
    beta's record unreadable (its summary kept), an edit of alpha publishes beta as it was."""
    state = next((config_module.load(show).cache_dir / "state").iterdir())
    beta_before = {rel: sha for rel, sha in site(show / "public").items() if "beta" in rel}
    log = state / "results.log"
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    log.write_text(
        "".join(line.replace('"title":"Beta"', '"title":') for line in lines), encoding="utf-8"
    )  # beta's record cut, its summary whole
    write_notes(show, "alpha", "title: Alpha, renamed\ndate: 2026-01-05\nimage: board.png\npanelists: [Ann, Bo]")
    made, _ = _made(show)
    assert made == {"alpha"}
    assert {rel: sha for rel, sha in site(show / "public").items() if "beta" in rel} == beta_before
    assert "Alpha, renamed" in (show / "public" / "index.html").read_text()


def test_a_shows_own_index_page_is_rendered_from_the_whole_records(show):
    """A show's own index template may show any field of any episode, even one a summary leaves out (the notes'
    body, the panelists): its index is rendered from every episode's whole record."""
    (show / "templates").mkdir()
    (show / "templates" / "index.html").write_text(
        "{% for item in items %}<p>{{ item.episode.notes.title }}: "
        "{{ item.episode.notes.panelists | map(attribute='name') | join(', ') }}</p>\n{% endfor %}"
    )
    assert build(show) == 0
    write_notes(show, "beta", "title: Beta, renamed\ndate: 2026-01-12")
    made, _ = _made(show)
    assert made == {"beta"}
    assert (show / "public" / "index.html").read_text() == "<p>Beta, renamed: </p>\n<p>Alpha: Ann, Bo</p>\n"


def test_a_build_hands_what_it_froze_back_to_the_collector(show):
    """The records a build reads are kept out of the cyclic collector's scans while it runs, and handed back when it
    ends: a long-running `serve` that builds again and again keeps nothing out of its reach."""
    write_notes(show, "beta", "title: Beta, renamed\ndate: 2026-01-12")
    assert build(show) == 0
    assert gc.get_freeze_count() == 0
    assert preview(config_module.load(show)).plan is not None
    assert gc.get_freeze_count() == 0


def test_a_damaged_record_whose_texts_are_rendered_anew_is_made_again(show):
    """An unchanged episode is assembled from its summary, and its whole record is read only when one of its texts
    is rendered anew. When that record cannot be read (a damaged line of the cache), the episode is made again from
    its cached audio (not an error): the site is what a build from a cold cache makes, and the line is written
    again, so the next build makes nothing."""
    state = next((config_module.load(show).cache_dir / "state").iterdir())
    log = state / "results.log"
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    log.write_text("".join(line.replace('"title":"Beta"', '"title":') for line in lines), encoding="utf-8")
    (show / "templates").mkdir()
    (show / "templates" / "site.css").write_text("body { color: teal; }\n")  # every page is rendered anew
    master = config_module.load(show).cache_dir / "master"
    before = sorted(master.iterdir())
    made, _ = _made(show)
    assert made == {"beta"}, "alpha's record is read whole; beta's is made again"
    assert sorted(master.iterdir()) == before, "from the cached audio"
    warm = site(show / "public")
    assert "teal" in (show / "public" / "assets" / "site.css").read_text()
    assert _made(show) == (set(), []), "its record was written again"
    shutil.rmtree(config_module.load(show).cache_dir)
    shutil.rmtree(show / "public")
    assert build(show) == 0
    assert site(show / "public") == warm


def test_the_pages_are_kept_as_files_and_published_without_being_read(show):
    """An episode's page is kept in the cache's store of published bytes, by what it is rendered from: an edit of
    another episode publishes it without reading it; one whose kept file is gone is rendered again (and kept)."""
    import hashlib

    page = show / "public" / "episodes" / "beta.html"
    published = page.read_bytes()
    sha = hashlib.sha256(published).hexdigest()
    kept = config_module.load(show).cache_dir / "files" / sha[:2] / sha
    assert kept.read_bytes() == published
    write_notes(show, "alpha", "title: Alpha, renamed\ndate: 2026-01-05\nimage: board.png\npanelists: [Ann, Bo]")
    with watching() as seen:
        assert build(show) == 0
    assert "Alpha, renamed" in (show / "public" / "episodes" / "alpha.html").read_text()
    assert not [path for path in seen["opened"] if Path(path).name == sha], "beta's page was not read"
    kept.unlink()
    write_notes(show, "alpha", "title: Alpha, renamed again\ndate: 2026-01-05\nimage: board.png\npanelists: [Ann, Bo]")
    assert build(show) == 0
    assert page.read_bytes() == published and kept.read_bytes() == published, "rendered again, the same, and kept"
