"""Real HTTP servers on 127.0.0.1 for the network tests: a WebSub hub that records what it receives, and a static
site server with or without byte-range support. Each runs in a thread for the length of a `with` block."""

from __future__ import annotations

import contextlib
import http.server
import os
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Received:
    """One request a test server got."""

    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class Hub:
    """What a recording endpoint answers, and what it received."""

    status: int = 204
    delay: float = 0.0  # seconds before answering (longer than the client's timeout: no answer in time)
    received: list[Received] = field(default_factory=list)
    url: str = ""


@contextlib.contextmanager
def serve(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """Run a server on 127.0.0.1 (a free port) in a thread; yields its base address."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextlib.contextmanager
def hub(status: int = 204, delay: float = 0.0) -> Iterator[Hub]:
    """A minimal WebSub hub (and Podcast Index ping) endpoint: records every request, answers `status`."""
    state = Hub(status=status, delay=delay)

    class Handler(_Quiet):
        def _record(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            size = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(size).decode() if size else ""
            state.received.append(
                Received(
                    self.command,
                    parts.path,
                    urllib.parse.parse_qs(parts.query),
                    urllib.parse.parse_qs(body),
                    dict(self.headers),
                )
            )
            if state.delay:
                time.sleep(state.delay)
            try:
                self.send_response(state.status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the client gave up waiting

        do_GET = do_POST = _record

    with serve(Handler) as base:
        state.url = base
        yield state


@dataclass
class Site:
    """A static server of a site folder."""

    url: str
    requests: list[tuple[str, str, str]]  # (method, path, Range header)


@contextlib.contextmanager
def site(
    folder: Path, ranges: bool = True, redirects: dict[str, str] | None = None, types: dict[str, str] | None = None
) -> Iterator[Site]:
    """Serve `folder` as a web server would: GET and HEAD, byte ranges when `ranges`, permanent redirects of some
    paths (`{"/old/feed.xml": "/feed.xml"}`), and Content-Types by suffix (`types` overrides some)."""
    requests: list[tuple[str, str, str]] = []
    kinds = {
        ".xml": "application/rss+xml",
        ".mp3": "audio/mpeg",
        ".opus": "audio/ogg",
        ".m4a": "audio/mp4",
        **(types or {}),
    }

    class Handler(_Quiet):
        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

        def _answer(self, body: bool) -> None:
            path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
            requests.append((self.command, path, self.headers.get("Range", "")))
            if redirects and path in redirects:
                self.send_response(301)
                self.send_header("Location", redirects[path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            file = folder / path.lstrip("/")
            if not file.is_file() or not file.resolve().is_relative_to(folder.resolve()):
                self.send_error(404)
                return
            data = file.read_bytes()
            wanted = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", "")) if ranges else None
            if wanted:
                first = int(wanted.group(1))
                last = min(int(wanted.group(2) or len(data) - 1), len(data) - 1)
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {first}-{last}/{len(data)}")
                data = data[first : last + 1]
            else:
                self.send_response(200)
            if ranges:
                self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Type", kinds.get(os.path.splitext(path)[1], "application/octet-stream"))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                with contextlib.suppress(OSError):  # the client read the headers only (a GET to see the status)
                    self.wfile.write(data)

    with serve(Handler) as base:
        yield Site(base, requests)
