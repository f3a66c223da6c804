"""The folder target: writes the site folder, feed last, with a manifest; never touches the blog's own files;
recognises its own files after a killed publish or a lost manifest."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import layout
from pipeline.errors import PublishError
from pipeline.files import sha256, temp_path
from pipeline.records import PlanFile, SitePlan
from pipeline.show.assemble import plan_digest
from pipeline.targets.folder import Folder
from tests.conftest import checksums, make_audio, write_notes, write_show

MANIFEST = layout.MANIFEST


def plan(files: dict[str, bytes | Path], feed_name: str, feed: bytes) -> SitePlan:
    """A site plan of these files (bytes, or files to copy) and a feed."""
    planned = {rel: PlanFile(content, sha256(content)) for rel, content in files.items()}
    return SitePlan(files=planned, feed_path=feed_name, feed=feed, digest=plan_digest(planned, feed))


def publish(folder: Path, files: dict[str, bytes | Path], feed_name: str, feed: bytes):
    return Folder(folder).apply(plan(files, feed_name, feed))


def read_manifest(folder: Path) -> dict[str, str]:
    return {rel: written.sha256 for rel, written in Folder(folder).manifest().files.items()}


FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>\n'


@pytest.fixture(scope="module")
def episode_mp3(tmp_path_factory) -> Path:
    """A real (tiny) episode file to copy into the site."""
    folder = tmp_path_factory.mktemp("media")
    return make_audio(folder / "tagged.mp3", seconds=0.5, codec_args=("-c:a", "libmp3lame", "-b:a", "32k"))


@pytest.fixture
def files(episode_mp3: Path) -> dict[str, bytes | Path]:
    return {
        "episodes/ep1.mp3": episode_mp3,
        "ep1/index.html": b"<html><body>Episode 1</body></html>\n",
        "index.html": b"<html><body>All episodes</body></html>\n",
    }


def blog(folder: Path) -> dict[str, bytes]:
    """The blog's own files, written before panelpress ever runs."""
    own = {
        "posts/hello.html": b"<html>Hello from the blog</html>\n",
        "about.html": b"<html>About</html>\n",
        "css/site.css": b"body { color: black }\n",
    }
    for rel, content in own.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(content)
    return own


def manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_publish_writes_files_feed_and_manifest(tmp_path: Path, files, episode_mp3: Path):
    folder = tmp_path / "public"
    report = publish(folder, files, "feed.xml", FEED)
    assert (folder / "episodes/ep1.mp3").read_bytes() == episode_mp3.read_bytes()
    assert (folder / "ep1/index.html").read_bytes() == files["ep1/index.html"]
    assert (folder / "index.html").read_bytes() == files["index.html"]
    assert (folder / "feed.xml").read_bytes() == FEED
    assert report.written == ("episodes/ep1.mp3", "ep1/index.html", "index.html", "feed.xml")
    assert report.written[-1] == "feed.xml"  # the feed last
    assert report.unchanged == () and report.removed == ()
    data = manifest(folder)
    assert data["generator"] == "panelpress" and "pending" not in data
    assert {rel: written[0] for rel, written in data["files"].items()} == {
        "ep1/index.html": sha(files["ep1/index.html"]),
        "episodes/ep1.mp3": sha(episode_mp3.read_bytes()),
        "feed.xml": sha(FEED),
        "index.html": sha(files["index.html"]),
    }
    assert all(written[1] == (folder / rel).stat().st_size for rel, written in data["files"].items())
    assert list(data["files"]) == sorted(data["files"])  # stable order
    assert Folder(folder).is_current(plan(files, "feed.xml", FEED).digest)


def test_no_temporary_files_are_left(tmp_path: Path, files):
    folder = tmp_path / "public"
    publish(folder, files, "feed.xml", FEED)
    leftovers = [p for p in folder.rglob("*") if "panelpress-tmp" in p.name]
    assert leftovers == []
    assert set(checksums(folder)) == {"episodes/ep1.mp3", "ep1/index.html", "index.html", "feed.xml", MANIFEST}


@pytest.mark.parametrize("clash", ["posts/hello.html", "about.html"])
def test_blog_file_in_the_way_stops_before_writing_anything(tmp_path: Path, files, clash: str):
    folder = tmp_path / "public"
    blog(folder)
    before = checksums(folder)
    wanted = {**files, clash: b"<html>panelpress would overwrite this</html>\n"}
    with pytest.raises(PublishError) as caught:
        publish(folder, wanted, "feed.xml", FEED)
    err = caught.value
    assert err.path == folder / clash
    assert "not written by panelpress" in err.problem
    assert str(folder / clash) in str(err)
    assert err.fix
    assert checksums(folder) == before  # nothing written, not even the manifest or the first file
    assert not (folder / MANIFEST).exists()


def test_blog_index_html_is_not_overwritten(tmp_path: Path, files):
    folder = tmp_path / "public"
    (folder).mkdir()
    (folder / "index.html").write_bytes(b"<html>The blog's home page</html>\n")
    before = checksums(folder)
    with pytest.raises(PublishError):
        publish(folder, files, "feed.xml", FEED)
    assert checksums(folder) == before
    assert (folder / "index.html").read_bytes() == b"<html>The blog's home page</html>\n"


def test_blog_feed_xml_is_not_overwritten(tmp_path: Path, files):
    folder = tmp_path / "public"
    folder.mkdir()
    (folder / "feed.xml").write_bytes(b"<rss>the blog's own feed</rss>")
    before = checksums(folder)
    with pytest.raises(PublishError):
        publish(folder, files, "feed.xml", FEED)
    assert checksums(folder) == before


def test_unrelated_blog_files_are_untouched(tmp_path: Path, files):
    folder = tmp_path / "public"
    own = blog(folder)
    mtimes = {rel: (folder / rel).stat().st_mtime_ns for rel in own}
    publish(folder, files, "feed.xml", FEED)
    publish(folder, {"index.html": b"<html>only this now</html>\n"}, "feed.xml", FEED + b"\n")
    for rel, content in own.items():
        assert (folder / rel).read_bytes() == content
        assert (folder / rel).stat().st_mtime_ns == mtimes[rel]
    assert not set(own) & set(read_manifest(folder))


def test_second_publish_with_same_content_changes_nothing(tmp_path: Path, files):
    folder = tmp_path / "public"
    publish(folder, files, "feed.xml", FEED)
    produced = [*files, "feed.xml"]
    mtimes = {rel: (folder / rel).stat().st_mtime_ns for rel in produced}
    inodes = {rel: (folder / rel).stat().st_ino for rel in produced}
    report = publish(folder, files, "feed.xml", FEED)
    assert report.written == ()
    assert report.unchanged == tuple(produced)
    assert report.removed == ()
    for rel in produced:
        assert (folder / rel).stat().st_mtime_ns == mtimes[rel], f"{rel} was rewritten"
        assert (folder / rel).stat().st_ino == inodes[rel], f"{rel} was replaced"


def test_changed_content_is_rewritten_only_where_it_changed(tmp_path: Path, files):
    folder = tmp_path / "public"
    publish(folder, files, "feed.xml", FEED)
    changed = {**files, "index.html": b"<html>New list</html>\n"}
    report = publish(folder, changed, "feed.xml", FEED + b"<!-- new -->\n")
    assert report.written == ("index.html", "feed.xml")
    assert set(report.unchanged) == {"episodes/ep1.mp3", "ep1/index.html"}
    assert (folder / "index.html").read_bytes() == b"<html>New list</html>\n"
    assert read_manifest(folder)["index.html"] == sha(b"<html>New list</html>\n")


def test_a_file_edited_by_hand_after_publishing_is_not_overwritten(tmp_path: Path, files):
    folder = tmp_path / "public"
    publish(folder, files, "feed.xml", FEED)
    (folder / "ep1/index.html").write_bytes(b"the host's edit")
    with pytest.raises(PublishError, match="changed by hand"):
        publish(folder, files, "feed.xml", FEED)
    assert (folder / "ep1/index.html").read_bytes() == b"the host's edit"
    (folder / "ep1/index.html").unlink()  # the fix the message gives
    report = publish(folder, files, "feed.xml", FEED)
    assert report.written == ("ep1/index.html",)


def test_file_no_longer_produced_is_removed(tmp_path: Path, files):
    folder = tmp_path / "public"
    publish(folder, files, "feed.xml", FEED)
    fewer = {rel: content for rel, content in files.items() if not rel.startswith("ep1/")}
    report = publish(folder, fewer, "feed.xml", FEED)
    assert report.removed == ("ep1/index.html",)
    assert not (folder / "ep1/index.html").exists()
    assert "ep1/index.html" not in read_manifest(folder)
    assert (folder / "episodes/ep1.mp3").is_file()


def test_file_no_longer_produced_is_kept_if_someone_else_changed_it(tmp_path: Path, files):
    folder = tmp_path / "public"
    publish(folder, files, "feed.xml", FEED)
    (folder / "ep1/index.html").write_bytes(b"<html>The host edited this by hand</html>\n")
    fewer = {rel: content for rel, content in files.items() if not rel.startswith("ep1/")}
    report = publish(folder, fewer, "feed.xml", FEED)
    assert report.removed == ()
    assert (folder / "ep1/index.html").read_bytes() == b"<html>The host edited this by hand</html>\n"


def test_blog_file_is_never_removed(tmp_path: Path, files):
    folder = tmp_path / "public"
    own = blog(folder)
    publish(folder, files, "feed.xml", FEED)
    report = publish(folder, {}, "feed.xml", FEED)
    assert set(report.removed) == set(files)
    for rel, content in own.items():
        assert (folder / rel).read_bytes() == content
    assert (folder / "feed.xml").read_bytes() == FEED


@pytest.mark.parametrize("rel", ["../x", "a/../../x", "../public-sibling/index.html", "/tmp/abs.html", MANIFEST])
def test_paths_escaping_the_folder_are_refused(tmp_path: Path, files, rel: str):
    folder = tmp_path / "public"
    folder.mkdir()
    with pytest.raises(PublishError) as caught:
        publish(folder, {**files, rel: b"escaped"}, "feed.xml", FEED)
    assert "outside the site folder" in caught.value.problem
    assert not (tmp_path / "x").exists()
    assert not (tmp_path / "public-sibling").exists()
    assert list(folder.iterdir()) == []  # refused before anything was written


def test_feed_name_escaping_the_folder_is_refused(tmp_path: Path, files):
    folder = tmp_path / "public"
    with pytest.raises(PublishError):
        publish(folder, files, "../feed.xml", FEED)
    assert not (tmp_path / "feed.xml").exists()
    assert not (folder / "index.html").exists()


def test_damaged_manifest_is_an_error(tmp_path: Path, files):
    folder = tmp_path / "public"
    folder.mkdir()
    (folder / MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(PublishError) as caught:
        publish(folder, files, "feed.xml", FEED)
    assert caught.value.path == folder / MANIFEST
    assert "damaged" in caught.value.problem
    assert not (folder / "index.html").exists()


def test_blog_file_where_a_folder_is_needed_stops_before_writing_anything(tmp_path: Path, files):
    folder = tmp_path / "public"
    folder.mkdir()
    (folder / "ep1").write_bytes(b"<html>a blog page without an extension</html>\n")
    before = checksums(folder)
    with pytest.raises(PublishError):
        publish(folder, {"a.html": b"first", **files}, "feed.xml", FEED)
    assert checksums(folder) == before


def test_a_lost_manifest_takes_back_identical_files_and_refuses_the_rest(tmp_path: Path, files):
    folder = tmp_path / "public"
    publish(folder, files, "feed.xml", FEED)
    (folder / MANIFEST).unlink()
    report = publish(folder, files, "feed.xml", FEED)
    assert set(report.adopted) == {*files, "feed.xml"} and report.written == ()
    assert set(read_manifest(folder)) == {*files, "feed.xml"}
    (folder / MANIFEST).unlink()
    (folder / "index.html").write_bytes(b"<html>someone else's</html>\n")
    with pytest.raises(PublishError, match="in the way"):
        publish(folder, files, "feed.xml", FEED)
    assert (folder / "index.html").read_bytes() == b"<html>someone else's</html>\n"


def test_a_publish_killed_after_its_manifest_leaves_files_it_still_knows(tmp_path: Path, files):
    """The manifest lists what is about to be written before anything is: files written by a killed publish, and
    its temporary files, are recognised by the next one."""
    folder = tmp_path / "public"
    publish(folder, files, "feed.xml", FEED)
    changed = {**files, "index.html": b"<html>New list</html>\n"}
    target = Folder(folder)
    # What a publish killed between its manifest and its feed leaves: pending checksums, one file written, a temp file.
    data = manifest(folder)
    data["pending"] = {
        rel: sha(content) if isinstance(content, bytes) else sha(content.read_bytes())
        for rel, content in changed.items()
    }
    (folder / MANIFEST).write_text(json.dumps(data))
    (folder / "index.html").write_bytes(changed["index.html"])
    temp_path(folder / "feed.xml").write_bytes(b"half a feed")
    assert not target.is_current(plan(files, "feed.xml", FEED).digest)
    assert target.recover() == ("feed.xml",)
    assert not temp_path(folder / "feed.xml").exists()
    report = publish(folder, changed, "feed.xml", FEED + b"\n")
    assert report.written == ("feed.xml",) and "index.html" in report.unchanged
    assert "pending" not in manifest(folder)


def test_is_current_notices_any_change_to_a_published_file(tmp_path: Path, files):
    folder = tmp_path / "public"
    publish(folder, files, "feed.xml", FEED)
    digest = plan(files, "feed.xml", FEED).digest
    assert Folder(folder).is_current(digest) and not Folder(folder).is_current("other")
    (folder / "index.html").write_bytes(b"<html>edited</html>\n")
    assert not Folder(folder).is_current(digest)


# --- folders a build cannot write, and builds that are refused: through the real command line ----------------------

ROOT = Path(__file__).resolve().parent.parent


def _cli(*args: str, wrap: list[str] | tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*wrap, sys.executable, "-m", "pipeline.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def _tree(base: Path) -> dict[str, str]:
    """Every path below `base` with its content's checksum (a folder: "folder"): to prove nothing was written."""
    return {
        str(p.relative_to(base)): "folder" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(base.rglob("*"))
    }


def _outside_the_cache(show: Path) -> dict[str, str]:
    return {rel: sha for rel, sha in _tree(show).items() if not rel.startswith(".panelpress-cache")}


def _without_root() -> list[str]:
    """A prefix that runs a command without root's power to write anywhere (a folder's mode does not stop root)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip(
            "running as root, whom a folder's mode does not stop: install util-linux (setpriv) to drop that power"
        )
    return [setpriv, "--bounding-set=-all", "--inh-caps=-all"]


def _read_only(folder: Path) -> list[str]:
    """A prefix that runs a command with `folder` on a read-only file system: a read-only bind mount, in a mount
    namespace of the command's own (nothing changes for anyone else)."""
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-rm", "true"], capture_output=True).returncode != 0:
        pytest.skip("a read-only file system needs `unshare -rm` (util-linux, with user namespaces enabled)")
    script = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" "$0" && exec "$@"'
    return [unshare, "-rm", "sh", "-c", script, str(folder)]


def _small_show(base: Path, audio: Path, extra_build: str = "") -> Path:
    show = write_show(base / "show", extra_build=extra_build)
    shutil.copy(audio, show / "episodes" / "panel.wav")
    write_notes(show, "panel", "title: Panel\ndate: 2026-01-05")
    return show


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> Path:
    return make_audio(tmp_path_factory.mktemp("audio") / "panel.wav", seconds=2)


# (how the folder is made unwritable, the folder named, what is said of it, the fix)
UNWRITABLE = {
    "site folder on a read-only file system": (
        "read-only",
        "show/public",
        "it is on a read-only file system",
        "make it writable",
    ),
    "site folder without permission": ("chmod", "show/public", "permission denied", "make it writable"),
    "site folder's parent without permission": ("chmod-parent", "blog", "cannot be made in it", "make it writable"),
    "a file where the site folder's parent should be": (
        "file-parent",
        "blog.txt",
        "is a file, where the site folder",
        "move it away",
    ),
    "cache folder without permission": ("chmod-cache", "show/.panelpress-cache", "permission denied", "[build] cache"),
    "show folder on a read-only file system": (
        "read-only-show",
        "show",
        "it is on a read-only file system, so the cache folder",
        "[build] cache",
    ),
    "show folder without permission, its cache elsewhere": (
        "chmod-show",
        "show",
        "permission denied",
        "panelpress-ledger.json",
    ),
}


@pytest.mark.parametrize("member", list(UNWRITABLE))
def test_a_folder_a_build_cannot_write_is_refused_before_any_work_naming_it(tmp_path, recording, member):
    how, named, said, fix = UNWRITABLE[member]
    show = _small_show(tmp_path, recording, 'cache = "../cache"' if how == "chmod-show" else "")
    args, wrap, locked = ["build", "--show", str(show)], [], None
    if how in ("read-only", "chmod"):
        locked = show / "public"
        locked.mkdir()
        (locked / "blog-post.html").write_text("<p>the blog's own</p>")
        wrap = _read_only(locked) if how == "read-only" else _without_root()
    elif how == "chmod-parent":
        locked = tmp_path / "blog"
        locked.mkdir()
        args += ["--out", str(locked / "podcast")]
        wrap = _without_root()
    elif how == "file-parent":
        (tmp_path / "blog.txt").write_text("not a folder")
        args += ["--out", str(tmp_path / "blog.txt" / "podcast")]
    elif how == "chmod-cache":
        locked = show / ".panelpress-cache"
        locked.mkdir()
        wrap = _without_root()
    elif how == "read-only-show":
        wrap = _read_only(show)
    else:
        locked = show
        wrap = _without_root()
    before = _tree(tmp_path)
    if locked is not None and how != "read-only":
        locked.chmod(0o555)
    try:
        done = _cli(*args, wrap=wrap)
    finally:
        if locked is not None:
            locked.chmod(0o755)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr and "unexpectedly" not in done.stderr
    line = next(line for line in done.stderr.splitlines() if line.startswith("error:"))
    assert f"{tmp_path / named}: " in line and said in line and fix in line, line
    assert _tree(tmp_path) == before, "a refused build writes nothing: no lock, no cache, no site folder"


def test_a_site_folder_holding_a_blogs_own_files_is_refused_and_left_as_it_was(tmp_path, recording):
    show = _small_show(tmp_path, recording)
    shutil.copy(recording, show / "episodes" / "new.wav")  # no notes yet: a build that is not refused starts them
    blog = tmp_path / "blog"
    (blog / "posts").mkdir(parents=True)
    (blog / "index.html").write_text("<html>the blog's own front page</html>")
    (blog / "posts" / "hello.html").write_text("<p>hello</p>")
    before, show_before = _tree(blog), _outside_the_cache(show)
    done = _cli("build", "--show", str(show), "--out", str(blog))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"{blog / 'index.html'}: is in the way and was not written by panelpress" in done.stderr
    assert _tree(blog) == before, "no lock file, no manifest, no audio: nothing in the blog's folder"
    assert _outside_the_cache(show) == show_before and not (show / "panelpress-ledger.json").exists(), (
        "no starter notes, and no ledger: its write-ahead record is not written for a publish that is refused"
    )
    (blog / "index.html").unlink()
    assert _cli("build", "--show", str(show), "--out", str(blog)).returncode == 0
    assert (show / "show_notes" / "new.md").is_file() and (blog / "posts" / "hello.html").is_file()


def test_a_refused_publish_leaves_the_published_site_and_the_ledger_as_they_were(tmp_path, recording):
    show = _small_show(tmp_path, recording)
    assert _cli("build", "--show", str(show)).returncode == 0
    site = show / "public"
    shutil.copy(recording, show / "episodes" / "late.wav")
    write_notes(show, "late", "title: Late\ndate: 2026-01-12")
    (site / "episodes" / "late.html").write_text("<p>a page of someone else's</p>")  # where the new page goes
    before, ledger = _tree(site), (show / "panelpress-ledger.json").read_bytes()
    done = _cli("build", "--show", str(show))
    assert done.returncode == 1 and f"{site / 'episodes' / 'late.html'}: is in the way" in done.stderr
    assert _tree(site) == before and (show / "panelpress-ledger.json").read_bytes() == ledger


def test_a_build_that_may_not_wait_writes_nothing(tmp_path, recording):
    show = _small_show(tmp_path, recording)
    site = tmp_path / "blog" / "podcast"  # not made yet
    from pipeline import config as config_module
    from pipeline import lock

    with lock.hold(config_module.load(show).cache_dir / "build.lock", "this show"):
        before = _tree(tmp_path)
        done = _cli("build", "--show", str(show), "--out", str(site), "--no-wait")
        assert _tree(tmp_path) == before
    assert done.returncode == 2 and "another build of this show is running" in done.stderr
    assert not (tmp_path / "blog").exists()
    site.mkdir(parents=True)
    with lock.hold_folder(site, str(site)):  # another show's build, into the same site folder
        done = _cli("build", "--show", str(show), "--out", str(site), "--no-wait")
    assert done.returncode == 2 and f"another build into {site} is running" in done.stderr
    assert list(site.iterdir()) == [], "the site folder is locked by itself: no lock file in it"
    assert _cli("build", "--show", str(show), "--out", str(site)).returncode == 0
    assert (site / "feed.xml").is_file() and not list(site.glob(".panelpress-lock*"))
