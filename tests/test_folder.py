"""The folder target: writes the site folder, feed last, with a manifest; never touches the blog's own files;
recognises its own files after a killed publish or a lost manifest."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from pipeline import layout
from pipeline.errors import PublishError
from pipeline.files import sha256, temp_path
from pipeline.records import PlanFile, SitePlan
from pipeline.show.assemble import plan_digest
from pipeline.targets.folder import Folder
from tests.conftest import checksums, make_audio

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
