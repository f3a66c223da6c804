"""`panelpress serve`: the preview target answers like a real web host (byte ranges, types, the path prefix), and the
command rebuilds on a change without touching the site folder or the ledger. No browser needed."""

from __future__ import annotations

import http.client
import shutil
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pipeline import layout
from pipeline.files import sha256
from pipeline.records import PlanFile, SitePlan
from pipeline.serve import MAX_FOLDERS
from pipeline.targets.preview import Preview, Server, byte_range, content_type
from tests.browser import Served
from tests.conftest import checksums, make_audio, write_notes, write_show
from tests.sites import picture

AUDIO = bytes(range(256)) * 40  # 10240 bytes


def _plan(tmp_path: Path, page: bytes = b"<!doctype html><title>x</title><p>hello</p></body>") -> SitePlan:
    audio = tmp_path / "audio.mp3"
    audio.write_bytes(AUDIO)
    files = {
        "index.html": PlanFile(page, sha256(page)),
        "media/a b.mp3": PlanFile(audio, sha256(AUDIO)),  # a file to copy (from the cache), with a space in its name
        "assets/site.css": PlanFile(b"body{}", sha256(b"body{}")),
        "episodes/x.vtt": PlanFile(b"WEBVTT\n", sha256(b"WEBVTT\n")),
    }
    return SitePlan(files=files, feed_path="feed.xml", feed=b"<rss/>", digest=sha256(page)[:32])


@pytest.fixture
def server(tmp_path):
    preview = Preview("https://example.com/podcast/")
    preview.apply(_plan(tmp_path))
    running = Server(preview, 0).start()
    yield running
    running.stop()


def _get(server: Server, path: str, method: str = "GET", **headers: str) -> http.client.HTTPResponse:
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request(method, path, headers=headers)
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def test_byte_ranges_as_rfc_9110_says():
    assert byte_range(None, 100) is None
    assert byte_range("bytes=0-9", 100) == (0, 9)
    assert byte_range("bytes=90-", 100) == (90, 99)
    assert byte_range("bytes=90-500", 100) == (90, 99)  # a last byte past the end is the end
    assert byte_range("bytes=-10", 100) == (90, 99)  # a suffix: the last 10 bytes
    assert byte_range("bytes=-500", 100) == (0, 99)
    assert byte_range("bytes=100-", 100) is False  # nothing there: 416
    assert byte_range("bytes=-0", 100) is False
    assert byte_range("bytes=0-", 0) is False
    assert byte_range("bytes=0-1,5-6", 100) is None  # several ranges: the whole file is a valid answer
    assert byte_range("items=0-1", 100) is None
    assert byte_range("bytes=abc", 100) is None


def test_the_audio_answers_ranges_206_and_416(server):
    whole = _get(server, "/podcast/media/a%20b.mp3")
    assert whole.status == 200 and whole.body == AUDIO
    assert whole.getheader("Accept-Ranges") == "bytes" and whole.getheader("Content-Type") == "audio/mpeg"
    part = _get(server, "/podcast/media/a%20b.mp3", Range="bytes=100-199")
    assert part.status == 206 and part.body == AUDIO[100:200]
    assert (
        part.getheader("Content-Range") == f"bytes 100-199/{len(AUDIO)}" and part.getheader("Content-Length") == "100"
    )
    suffix = _get(server, "/podcast/media/a%20b.mp3", Range="bytes=-16")
    assert (
        suffix.status == 206
        and suffix.body == AUDIO[-16:]
        and suffix.getheader("Content-Range") == f"bytes {len(AUDIO) - 16}-{len(AUDIO) - 1}/{len(AUDIO)}"
    )
    open_ended = _get(server, "/podcast/media/a%20b.mp3", Range="bytes=10000-")
    assert open_ended.status == 206 and open_ended.body == AUDIO[10000:]
    beyond = _get(server, "/podcast/media/a%20b.mp3", Range=f"bytes={len(AUDIO)}-")
    assert beyond.status == 416 and beyond.getheader("Content-Range") == f"bytes */{len(AUDIO)}" and beyond.body == b""
    head = _get(server, "/podcast/media/a%20b.mp3", method="HEAD", Range="bytes=0-0")
    assert head.status == 206 and head.getheader("Content-Length") == "1" and head.body == b""
    stale = _get(server, "/podcast/media/a%20b.mp3", Range="bytes=0-9", **{"If-Range": '"an older copy"'})
    assert stale.status == 200 and stale.body == AUDIO  # the client's copy changed: the whole new file
    fresh = _get(server, "/podcast/media/a%20b.mp3", Range="bytes=0-9", **{"If-Range": whole.getheader("ETag")})
    assert fresh.status == 206 and fresh.body == AUDIO[:10]
    assert _get(server, "/podcast/media/a%20b.mp3", **{"If-None-Match": whole.getheader("ETag")}).status == 304


def test_the_site_is_served_under_the_path_of_site_url_with_its_types(server):
    assert _get(server, "/").status == 302 and _get(server, "/").getheader("Location") == "/podcast/"
    assert _get(server, "/podcast").getheader("Location") == "/podcast/"
    index = _get(server, "/podcast/")
    assert index.status == 200 and index.getheader("Content-Type") == "text/html; charset=utf-8"
    assert index.body == _get(server, "/podcast/index.html").body
    assert _get(server, "/podcast/assets/site.css").getheader("Content-Type") == "text/css; charset=utf-8"
    assert _get(server, "/podcast/feed.xml").getheader("Content-Type") == "application/xml; charset=utf-8"
    assert _get(server, "/podcast/episodes/x.vtt").getheader("Content-Type") == "text/vtt; charset=utf-8"
    for missing in (
        "/podcast/nothing.html",
        "/podcast/../etc/passwd",
        "/podcast/%2e%2e/secret",
        "/elsewhere/index.html",
        "/podcast/.panelpress-manifest.json",
    ):
        assert _get(server, missing).status == 404, missing
    assert [
        content_type(name) for name in ("a.mp3", "a.m4a", "a.jpg", "a.png", "a.ico", "a.js", "a.xsl", "a.json", "a.srt")
    ] == [
        "audio/mpeg",
        "audio/mp4",
        "image/jpeg",
        "image/png",
        "image/vnd.microsoft.icon",
        "text/javascript; charset=utf-8",
        "text/xsl; charset=utf-8",
        "application/json",
        "application/x-subrip; charset=utf-8",
    ]


def test_only_the_previews_html_gets_the_reload_script_and_pages_hear_of_a_new_plan(server, tmp_path):
    page = _get(server, "/podcast/index.html").body
    assert b"new EventSource" in page and page.index(b"new EventSource") < page.index(b"</body>")
    assert b"EventSource" not in _get(server, "/podcast/assets/site.css").body
    parts = urlsplit(server.url)
    stream = socket.create_connection((parts.hostname, parts.port), timeout=10)
    stream.sendall(f"GET {layout.PREVIEW_EVENTS} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    received = b""
    while b"data: " + server.preview.version.encode() not in received:
        received += stream.recv(4096)
    assert b"text/event-stream" in received
    newer = _plan(tmp_path, b"<!doctype html><title>y</title><p>changed</p></body>")
    server.preview.apply(newer)
    while b"data: " + newer.digest.encode() not in received:
        received += stream.recv(4096)
    stream.close()
    assert b"changed" in _get(server, "/podcast/").body


def test_a_site_url_with_an_escaped_path_is_served_under_it(tmp_path):
    preview = Preview("https://example.com/my%20podcast/")
    preview.apply(_plan(tmp_path))
    running = Server(preview, 0).start()
    try:
        assert running.url.endswith("/my%20podcast/")
        assert _get(running, "/my%20podcast/").status == 200
        assert _get(running, "/").getheader("Location") == "/my%20podcast/"
    finally:
        running.stop()


def test_pages_naming_media_url_play_the_previews_own_audio(tmp_path):
    preview = Preview("https://example.com/podcast/")
    preview.media_url = "https://media.example.net/podcast/"
    page = b'<audio src="https://media.example.net/podcast/media/a%20b.mp3"></audio></body>'
    preview.apply(_plan(tmp_path, page))
    running = Server(preview, 0).start()
    try:
        served = _get(running, "/podcast/index.html").body
        assert b'src="/podcast/media/a%20b.mp3"' in served and b"media.example.net" not in served
        assert _get(running, "/podcast/media/a%20b.mp3", Range="bytes=0-9").status == 206
    finally:
        running.stop()


def test_a_busy_port_is_refused_with_what_to_do():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        from pipeline.errors import PanelpressError

        with pytest.raises(PanelpressError, match="cannot be listened on") as caught:
            Server(Preview("https://example.com/"), port)
        assert "--port" in caught.value.fix


def test_serve_rebuilds_on_a_change_and_never_touches_the_site_or_the_ledger(tmp_path):
    show = write_show(tmp_path / "show", extra_show='artwork = "cover.png"')
    picture(show / "cover.png", 1400, "#222244")
    make_audio(show / "episodes" / "one.wav", seconds=2)
    notes = write_notes(show, "one", "title: The First Title\ndate: 2026-01-02")
    make_audio(show / "episodes" / "new.wav", seconds=2)  # no notes: a preview waits for a build to start them
    before = checksums(show)
    served = Served(show)
    try:
        url = served.url
        assert url.endswith("/show/")

        def page(path: str) -> str:
            parts = urlsplit(url)
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            connection.request("GET", parts.path + path)
            return connection.getresponse().read().decode()

        assert "The First Title" in page("episodes/one.html")
        assert "favicon.ico" in page("") and "<h1>Test Panel</h1>" in page("")
        notes.write_text(notes.read_text().replace("The First Title", "A Better Title"))
        served.wait_for("preview: ")  # the rebuild after the change
        deadline = time.monotonic() + 60
        while "A Better Title" not in page("episodes/one.html") and time.monotonic() < deadline:
            served.wait_for("preview: ")
        assert "A Better Title" in page("episodes/one.html")
        # a change that breaks the settings keeps the last good site, and says why
        toml = show / "panelpress.toml"
        good = toml.read_text()
        toml.write_text(good.replace('title = "Test Panel"', 'titel = "Test Panel"'))
        served.wait_for("the preview was not rebuilt")
        assert "A Better Title" in page("episodes/one.html")
        toml.write_text(good)
        served.wait_for("preview: ")
    finally:
        assert served.stop() == 0
    assert not (show / "public").exists()
    after = checksums(show)
    changed = {name for name in after if before.get(name) != after[name]}
    assert {name for name in changed if not name.startswith(".panelpress-cache")} == {
        "show_notes/one.md"
    }  # the test's own edit
    assert not (show / "show_notes" / "new.md").exists() and not (show / "panelpress-ledger.json").exists()


# --- byte ranges as a real `panelpress serve` answers them, on one kept-alive connection --------------------------------


class _Raw:
    """One HTTP/1.1 connection, kept alive, spoken by hand: every answer is read exactly as its headers say, so an
    answer with a wrong length leaves the next one unreadable (as it leaves a player hanging)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.socket = socket.create_connection((parts.hostname, parts.port), timeout=30)
        self.file = self.socket.makefile("rb")

    def ask(self, method: str, path: str, headers: list[tuple[str, str]] = (), body: bytes = b""):
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{name}: {value}" for name, value in headers)]
        self.socket.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        status = int(self.file.readline().split()[1])
        fields: dict[str, str] = {}
        while (line := self.file.readline().decode("latin-1").strip()) != "":
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        length = int(fields["content-length"]) if status != 304 else 0
        assert length >= 0, fields
        data = self.file.read(length) if method != "HEAD" else b""
        assert len(data) == (length if method != "HEAD" else 0)
        return status, fields, data

    def close(self) -> None:
        self.file.close()
        self.socket.close()


@pytest.fixture(scope="module")
def served_show(tmp_path_factory):
    """`panelpress serve` of a show of one episode, and the MP3 it serves."""
    show = write_show(tmp_path_factory.mktemp("ranges") / "show")
    make_audio(show / "episodes" / "one.wav", seconds=2)
    write_notes(show, "one", "title: One\ndate: 2026-01-02")
    served = Served(show)
    try:
        path = urlsplit(served.url).path + "media/one.mp3"
        raw = _Raw(served.url)
        status, _, whole = raw.ask("GET", path)
        raw.close()
        assert status == 200 and len(whole) > 1000
        yield served, path, whole
    finally:
        assert served.stop() == 0


def _ranges(size: int) -> list[tuple[str, int, tuple[int, int] | None]]:
    """(Range header, the status RFC 9110 calls for, the bytes a 206 carries)."""
    huge = "9" * 5000  # past any file, and more digits than int() takes
    return [
        ("bytes=5-2", 200, None),  # invalid (last before first): the header is ignored
        ("bytes=100-50", 200, None),
        ("bytes=0-", 206, (0, size - 1)),
        ("bytes=0-0", 206, (0, 0)),
        ("bytes=-500", 206, (size - 500, size - 1)),  # a suffix
        (f"bytes=-{size * 3}", 206, (0, size - 1)),  # a suffix longer than the file: all of it
        ("bytes=-0", 416, None),
        (f"bytes={size}-", 416, None),  # starts past the end
        (f"bytes={size + 100}-{size + 200}", 416, None),
        (f"bytes=10-{size * 3}", 206, (10, size - 1)),  # a last byte past the end: the end
        (f"bytes=0-{huge}", 206, (0, size - 1)),
        (f"bytes={huge}-", 416, None),
        ("bytes=0-1,5-6", 200, None),  # several ranges: the whole file is a valid answer
        (f"bytes={size}-,{size + 1}-", 416, None),  # several, none satisfiable
        ("bytes=1-2,", 206, (1, 2)),  # an empty list element is no range
        ("Bytes=1-2", 206, (1, 2)),  # the unit is case-blind
        ("bytes=\t1-2 ", 206, (1, 2)),
        ("bytes = 1-2", 200, None),  # no white space around "=" in the grammar
        ("bytes=1 - 2", 200, None),
        ("items=1-2", 200, None),  # another unit
        ("bytes=", 200, None),
        ("bytes=-", 200, None),
        ("bytes=1-2-3", 200, None),
        ("bytes=a-b", 200, None),
        ("bytes=٣-٤", 200, None),  # digits, but not ASCII ones
        ("bytes=²-³", 200, None),
        ("garbage", 200, None),
        ("", 200, None),
    ]


def test_every_range_gets_the_answer_rfc_9110_calls_for_and_the_connection_lives_on(served_show):
    served, path, whole = served_show
    size = len(whole)
    raw = _Raw(served.url)
    try:
        for header, expected, span in _ranges(size):
            for method in ("GET", "HEAD"):
                status, fields, body = raw.ask(method, path, [("Range", header)])
                said = f"{method} Range: {header[:40]!r}"
                assert status == expected, said
                if status == 206:
                    first, last = span
                    assert fields["content-range"] == f"bytes {first}-{last}/{size}", said
                    assert int(fields["content-length"]) == last - first + 1, said
                    assert method == "HEAD" or body == whole[first : last + 1], said
                elif status == 416:
                    assert fields["content-range"] == f"bytes */{size}" and fields["content-length"] == "0", said
                else:
                    assert "content-range" not in fields and int(fields["content-length"]) == size, said
                    assert method == "HEAD" or body == whole, said
        # Two Range fields are no valid request: the whole file.
        status, _, body = raw.ask("GET", path, [("Range", "bytes=0-9"), ("Range", "bytes=10-19")])
        assert status == 200 and body == whole
        # If-Range: the ranges of the copy the client has (its ETag), else the whole file (another ETag, a date).
        etag = raw.ask("HEAD", path)[1]["etag"]
        assert raw.ask("GET", path, [("Range", "bytes=0-9"), ("If-Range", etag)])[:2][0] == 206
        for other in ('"an older copy"', f"W/{etag}", "Wed, 21 Oct 2015 07:28:00 GMT"):
            status, _, body = raw.ask("GET", path, [("Range", "bytes=0-9"), ("If-Range", other)])
            assert status == 200 and body == whole, other
        # A request sent a body (a GET has none) is answered, and so is the next one.
        status, _, body = raw.ask("GET", path, [("Range", "bytes=0-3"), ("Content-Length", "5")], body=b"hello")
        assert status == 206 and body == whole[:4]
        assert raw.ask("GET", path, [("Range", "bytes=4-7")])[2] == whole[4:8]
    finally:
        raw.close()
    assert "Traceback" not in "".join(served.output)


def test_an_empty_file_has_no_byte_to_range_over(tmp_path):
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    plan = SitePlan(
        files={"media/empty.mp3": PlanFile(empty, sha256(b""))}, feed_path="feed.xml", feed=b"<rss/>", digest="d" * 32
    )
    preview = Preview("https://example.com/")
    preview.apply(plan)
    running = Server(preview, 0).start()
    raw = _Raw(running.url)
    try:
        for header, expected in [
            ("bytes=0-", 416),  # no first byte
            ("bytes=0-0", 416),
            ("bytes=-5", 200),  # satisfiable, but there is no byte to send: the whole (empty) file
            ("bytes=5-2", 200),
            ("items=0-1", 200),
        ]:
            status, fields, body = raw.ask("GET", "/media/empty.mp3", [("Range", header)])
            assert status == expected and body == b"", header
            assert fields.get("content-range") == ("bytes */0" if expected == 416 else None), header
    finally:
        raw.close()
        running.stop()


# --- what the preview watches: the show's own folders, never through a symlink out of them ------------------------------


def _page(url: str, path: str) -> str:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request("GET", parts.path + path)
    return connection.getresponse().read().decode()


def _edit_and_see(served: Served, notes: Path, old: str, new: str) -> None:
    """Change the notes' title and wait, by what the server prints, for the page to show it."""
    notes.write_text(notes.read_text().replace(old, new))
    for _ in range(10):  # a rebuild already under way when the notes changed is followed by another
        served.wait_for("preview: ")
        if new in _page(served.url, "episodes/one.html"):
            return
    raise AssertionError(f"the page never showed {new!r}:\n{''.join(served.output)}")


def test_symlinks_out_of_the_show_and_loops_are_not_watched_and_later_edits_are_rebuilt(tmp_path):
    show = write_show(tmp_path / "show")
    make_audio(show / "episodes" / "one.wav", seconds=2)
    notes = write_notes(show, "one", "title: Title One\ndate: 2026-01-02")
    (show / "show_notes" / "files").symlink_to("/")  # the whole file system, /proc included
    (show / "show_notes" / "loop").symlink_to("..")  # the show folder again
    (show / "show_notes" / "sub" / "deeper").mkdir(parents=True)
    (show / "show_notes" / "sub" / "deeper" / "up").symlink_to("../../..")  # a loop two folders down
    (show / "show_notes" / "sub" / "self").symlink_to(".")
    (show / "episodes" / "elsewhere").symlink_to(tmp_path)  # a folder of the recordings leading out of the show
    (tmp_path / "templates elsewhere").mkdir()
    (show / "templates").symlink_to(tmp_path / "templates elsewhere")  # kept by the host outside the show
    served = Served(show)
    try:
        _edit_and_see(served, notes, "Title One", "Title Two")
        # A watched folder removed, a new one made: the watches follow, and edits are still seen.
        shutil.rmtree(show / "show_notes" / "sub")
        _edit_and_see(served, notes, "Title Two", "Title Three")
        (show / "show_notes" / "new" / "deep").mkdir(parents=True)
        _edit_and_see(served, notes, "Title Three", "Title Four")
    finally:
        assert served.stop() == 0
    said = "".join(served.output)
    assert "Traceback" not in said and "Error" not in said
    warnings = [line for line in said.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: templates/ leads outside the show folder (a symlink): changes there are not seen"]


def test_a_show_of_more_folders_than_are_watched_says_so_once_and_still_rebuilds(tmp_path):
    show = write_show(tmp_path / "show")
    make_audio(show / "episodes" / "one.wav", seconds=2)
    notes = write_notes(show, "one", "title: Title One\ndate: 2026-01-02")
    for k in range(MAX_FOLDERS + 10):  # an archive of old attachments, a folder each
        (show / "show_notes" / "archive" / f"{k:05d}").mkdir(parents=True)
    served = Served(show)
    try:
        _edit_and_see(served, notes, "Title One", "Title Two")
        _edit_and_see(served, notes, "Title Two", "Title Three")
    finally:
        assert served.stop() == 0
    said = "".join(served.output)
    warnings = [line for line in said.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and f"more than {MAX_FOLDERS} folders" in warnings[0], said
    assert "Traceback" not in said
