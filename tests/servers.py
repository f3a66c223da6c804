"""Real servers on 127.0.0.1 for the network tests, each in a thread for the length of a `with` block: a WebSub hub
that records what it receives, a static site server with or without byte-range support (over TLS too), and a raw TCP
server whose answers are the test's own bytes: slow, endless, garbage, silent, reset, broken HTTP (`raw` with the
`talk` functions below). `authority` makes a throwaway certificate authority and a server certificate it signed."""

from __future__ import annotations

import contextlib
import http.server
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
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
def serve(handler: type[http.server.BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """Run a server on 127.0.0.1 (a free port) in a thread; yields its base address (https://localhost:… with
    `tls`, a server context whose certificate names localhost)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        yield f"https://localhost:{port}" if tls is not None else f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextlib.contextmanager
def hub(status: int = 204, delay: float = 0.0, tls: ssl.SSLContext | None = None) -> Iterator[Hub]:
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

    with serve(Handler, tls) as base:
        state.url = base
        yield state


@dataclass
class Site:
    """A static server of a site folder."""

    url: str
    requests: list[tuple[str, str, str]]  # (method, path, Range header)


@contextlib.contextmanager
def site(
    folder: Path,
    ranges: bool = True,
    redirects: dict[str, str] | None = None,
    types: dict[str, str] | None = None,
    tls: ssl.SSLContext | None = None,
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

    with serve(Handler, tls) as base:
        yield Site(base, requests)


# --- raw TCP servers: answers that are not what a client hopes for -------------------------------------------------

Talk = Callable[[socket.socket, threading.Event], None]  # one connection; the event is set when the server stops


@dataclass
class Raw:
    """A raw server: its base address, and every request it read (the bytes up to the blank line)."""

    url: str
    port: int
    requests: list[bytes] = field(default_factory=list)


@contextlib.contextmanager
def raw(talk: Talk | dict[str, Talk], tls: ssl.SSLContext | None = None) -> Iterator[Raw]:
    """A TCP server on 127.0.0.1 that hands each connection to `talk`; a dict of {path: talk} reads the HTTP request
    first and picks the talk by its path (404 for the others); a single talk reads nothing (a Dask client, say)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    port = listener.getsockname()[1]
    state = Raw(f"{'https://localhost' if tls else 'http://127.0.0.1'}:{port}", port)
    stop = threading.Event()
    opened: list[socket.socket] = []

    def handle(connection: socket.socket) -> None:
        with connection, contextlib.suppress(OSError, ValueError):
            if tls is not None:
                connection = tls.wrap_socket(connection, server_side=True)
            if callable(talk):
                talk(connection, stop)
                return
            head = _read_request(connection)
            state.requests.append(head)
            path = head.split(b" ", 2)[1].decode("latin-1") if head.count(b" ") >= 2 else ""
            talk.get(urllib.parse.urlsplit(path).path, answer(404))(connection, stop)

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connection.settimeout(None)
            opened.append(connection)
            threading.Thread(target=handle, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
        for connection in opened:
            with contextlib.suppress(OSError):
                connection.close()


def _read_request(connection: socket.socket) -> bytes:
    """The request's head, after reading its body too (by Content-Length): a server that closes with the client's
    bytes unread sends a TCP reset, and the client would read a reset where the test means a close or an answer."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        piece = connection.recv(4096)
        if not piece:
            break
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    left = min(int(length.group(1)), 1 << 20) - len(body) if length else 0
    while left > 0:
        piece = connection.recv(min(left, 65536))
        if not piece:
            break
        left -= len(piece)
    return head


def _head(status: int = 200, headers: dict[str, str] | None = None) -> bytes:
    lines = [
        f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase if status in http.HTTPStatus._value2member_map_ else 'X'}"
    ]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def answer(status: int = 200, headers: dict[str, str] | None = None, body: bytes = b"") -> Talk:
    """A whole, honest answer."""

    def talk(connection: socket.socket, stop: threading.Event) -> None:
        connection.sendall(_head(status, {"Content-Length": str(len(body)), "Connection": "close", **(headers or {})}))
        connection.sendall(body)

    return talk


def redirect(location: str, status: int = 302) -> Talk:
    """A redirect to `location` (anything: file:///etc/passwd, a loop back to itself)."""
    return answer(status, {"Location": location})


def drip(every: float, length: int | None = 2**31, headers: dict[str, str] | None = None) -> Talk:
    """Headers at once (Content-Length `length`; None: none, the body ends when the connection does), then one byte
    of the body every `every` seconds, for as long as the client stays."""

    def talk(connection: socket.socket, stop: threading.Event) -> None:
        sized = {"Content-Length": str(length)} if length is not None else {}
        connection.sendall(_head(200, {**sized, **(headers or {})}))
        while not stop.wait(every):
            connection.sendall(b"x")

    return talk


def header_drip(every: float) -> Talk:
    """The status line, then a header one byte every `every` seconds: the answer never gets past its headers."""

    def talk(connection: socket.socket, stop: threading.Event) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        while not stop.wait(every):
            connection.sendall(b"y")

    return talk


def endless(length: int | None = 2**31) -> Talk:
    """Headers (a huge Content-Length, or none), then bytes as fast as the client takes them, for ever."""

    def talk(connection: socket.socket, stop: threading.Event) -> None:
        sized = {"Content-Length": str(length)} if length is not None else {}
        connection.sendall(_head(200, {"Content-Type": "application/rss+xml", **sized}))
        block = b"<!-- endless -->" * 4096
        while not stop.is_set():
            connection.sendall(block)

    return talk


def garbage(data: bytes = b"\x00\xffSSH-2.0-OpenSSH_9.6 not HTTP at all\r\n" * 64) -> Talk:
    """Bytes that are not HTTP, then the connection closed."""

    def talk(connection: socket.socket, stop: threading.Event) -> None:
        connection.sendall(data)

    return talk


def silent(connection: socket.socket, stop: threading.Event) -> None:
    """Accepts, reads nothing more, says nothing, until the server stops."""
    stop.wait()


def closes(connection: socket.socket, stop: threading.Event) -> None:
    """Closes at once, without a word."""
    connection.close()


def resets(connection: socket.socket, stop: threading.Event) -> None:
    """Closes with a TCP reset (SO_LINGER 0): the client reads ECONNRESET."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


# --- a throwaway certificate authority ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Authority:
    """A certificate authority no system trusts, and a server certificate for localhost (only) it signed."""

    ca: Path  # the authority's certificate (for SSL_CERT_FILE)
    cert: Path
    key: Path

    def server(self) -> ssl.SSLContext:
        """A server's TLS context with the certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


def authority(folder: Path) -> Authority:
    """Make the authority and the certificate in `folder` with the openssl command (the caller skips without it)."""
    if shutil.which("openssl") is None:
        raise FileNotFoundError("openssl")
    folder.mkdir(parents=True, exist_ok=True)
    ca, ca_key, cert, key, request = (folder / name for name in ("ca.pem", "ca.key", "cert.pem", "key.pem", "req.csr"))
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run = lambda *args: subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)  # noqa: E731
    run(
        "req", "-x509", *curve, "-keyout", str(ca_key), "-out", str(ca), "-days", "2", "-subj", "/CN=panelpress test CA"
    )
    run("req", *curve, "-keyout", str(key), "-out", str(request), "-subj", "/CN=localhost")
    extensions = folder / "san.cnf"
    extensions.write_text("subjectAltName=DNS:localhost\n")
    run(
        "x509", "-req", "-in", str(request), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
        "-out", str(cert), "-days", "2", "-extfile", str(extensions),
    )  # fmt: skip
    return Authority(ca, cert, key)
