"""Web: the one HTTP client of panelpress, and its policy. Every request panelpress makes (`check --url`, notify) goes
through `request`; a network answer is untrusted, so:

    a deadline   each request ends within `seconds` in all (connecting, TLS, every redirect, the headers and the body),
                 not per read: a server that trickles a byte now and then cannot keep it going
    a size cap   at most `limit` bytes of a body are read; a body that must be whole and is larger is refused
    schemes      http and https only, for the first address and every redirect (never file:, ftp:, data:, …)
    redirects    at most REDIRECTS, each one kept so the caller can say where it went
    TLS          the system's certificate store, verification and host names checked
    one answer   every failure (a bad address, no answer, garbage instead of HTTP, a broken-off body, an untrusted
                 certificate) is an `Answer` whose `problem` says in one line what happened; nothing is raised

The standard library's http.client does the talking; proxies named by the usual environment variables
(`https_proxy`, `http_proxy`, `no_proxy`) are used as urllib would.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote, urljoin, urlsplit

from . import __version__

if TYPE_CHECKING:  # the client's modules are loaded by the first request: a command that makes none loads none
    import http.client
    import ssl
    from email.message import Message

DEADLINE = 20.0  # seconds one request may take in all, unless its caller says otherwise
REDIRECTS = 10  # redirects followed at most (apps give up after a few more or fewer; urllib follows 10)
FEED_BYTES = 32 * 2**20  # the most of a feed ever read (a feed of a thousand long episodes is a few MB)
ANSWER_BYTES = 64 * 2**10  # the most of an answer read when only its status matters (a hub's, a ping's)
URL_CHARS = 8192  # a longer address is refused before any request (web servers refuse longer ones too)
SHOWN = 200  # characters of an address or of a server's words shown in a message
CHUNK = 16384  # bytes read at a time, the deadline checked between two reads
USER_AGENT = f"panelpress/{__version__} (+https://pypi.org/project/panelpress/)"
SCHEMES = ("http", "https")
MOVED = (301, 302, 303, 307, 308)
REDIRECT_FIX = "redirect only to whole http(s) addresses: apps follow no others"
TLS_FIX = (
    "serve a certificate from an authority podcast apps trust (e.g. Let's Encrypt) for this host name, with its "
    "intermediate certificates; a private authority of this machine can be named with SSL_CERT_FILE"
)


def _no_headers() -> Message:
    """An answer's empty headers (email's Message: loaded, as the client's modules, by a command that fetches)."""
    from email.message import Message

    return Message()


@dataclass(frozen=True)
class Answer:
    """What a server answered, after following its redirects; status 0 and a problem when there is no answer."""

    status: int
    url: str  # where the answer came from
    headers: Message = field(default_factory=_no_headers)
    body: bytes = b""  # what was read of it
    hops: tuple[tuple[int, str, str], ...] = ()  # (status, from, to) of every redirect followed
    problem: str = ""  # why there is no answer, in one line
    fix: str = ""  # what to do about it, when the client knows better than its caller (a certificate)
    reason: str = ""  # the server's reason phrase, printable


def request(
    url: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
    limit: int = 0,
    whole: bool = False,
    seconds: float = DEADLINE,
    agent: str = USER_AGENT,
) -> Answer:
    """One request under the policy: at most `limit` bytes of the body are read (a larger body is a problem when it
    must be `whole`), redirects followed, all within `seconds`. Never raises."""
    deadline = time.monotonic() + seconds
    hops: list[tuple[int, str, str]] = []
    asked = {"User-Agent": agent, "Connection": "close", **(headers or {})}
    current = url
    for _ in range(REDIRECTS + 1):
        refused = refusal(current)
        if refused and not hops:
            return Answer(0, current, problem=refused)
        if refused:
            code, origin, _target = hops.pop()
            who = "it" if origin == url else shown(origin)
            refused = f"{who} redirects ({code}) to {shown(current)}, which is not followed: {refused}"
            return Answer(0, current, hops=tuple(hops), problem=refused, fix=REDIRECT_FIX)
        answer = _within(_Ask(current, method, asked, data, limit, whole, deadline, seconds))
        location = answer.headers.get("Location") if answer.status in MOVED else None
        if not location:
            return Answer(**{**answer.__dict__, "hops": tuple(hops)})
        try:
            target = urljoin(current, location.strip())
        except ValueError:
            target = location.strip()
        hops.append((answer.status, current, target))
        if answer.status == 303 or (answer.status in (301, 302) and method == "POST"):
            method, data = ("HEAD" if method == "HEAD" else "GET"), None  # as browsers and apps do
        current = target
    return Answer(
        0, current, hops=tuple(hops), problem=f"it redirects more than {REDIRECTS} times (a loop?): not followed"
    )


def refusal(url: str) -> str:
    """Why the client will not ask `url` ('' when it will): only whole http(s) addresses, as apps fetch them."""
    if len(url) > URL_CHARS:
        return f"the address is {len(url)} characters long, more than the {URL_CHARS} web servers take"
    if any(char.isspace() or unicodedata.category(char) == "Cc" for char in url):
        return "the address holds a space or a control character (write spaces as %20)"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:  # a port that is not a number, or brackets that hold no IPv6 address
        return f"it is not a valid web address ({err})"
    if parts.scheme.lower() not in SCHEMES:
        scheme = f"its scheme is {shown(parts.scheme)}:" if parts.scheme else "it is not an absolute address"
        return f"{scheme}, not http or https"
    if not parts.hostname:
        return "the address names no host"
    if port == 0:
        return "its port is 0, which no server listens at"
    try:
        parts.hostname.encode("idna")
    except UnicodeError as err:
        return f"its host name is not a valid one ({shown(str(err))})"
    return ""


def shown(text: str) -> str:
    """Text from the network or a feed as a message may show it: control characters escaped, cut at SHOWN."""
    printable = "".join(
        f"\\x{ord(char):02x}" if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char for char in text
    )
    return printable if len(printable) <= SHOWN else f"{printable[:SHOWN]}… ({len(text)} characters)"


# --- one exchange, under the deadline -------------------------------------------------------------------------------


class _Line:
    """The connection of one exchange, so the deadline can cut it from another thread."""

    def __init__(self) -> None:
        self.connection: http.client.HTTPConnection | None = None
        self.sock = None  # kept once connected: the connection lets go of it when the answer will close it

    def cut(self) -> None:
        import socket

        sock = self.sock or getattr(self.connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):  # the plain socket's, even under TLS: the reader sees the end at once
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


@dataclass(frozen=True)
class _Ask:
    """One exchange to make: the request, what to read of its answer, and when to give up."""

    url: str
    method: str
    headers: dict[str, str]
    data: bytes | None
    limit: int
    whole: bool
    deadline: float  # time.monotonic() at which the whole request ends
    seconds: float  # what the deadline was, as the host set it

    def late(self) -> Answer:
        unit = "second" if self.seconds == 1 else "seconds"
        return Answer(0, self.url, problem=f"no whole answer within {self.seconds:g} {unit}")


def _within(ask: _Ask) -> Answer:
    """One exchange in a thread of its own, given up at the deadline whatever it waits for (a name lookup, a
    handshake, a header trickled a byte at a time)."""
    line, result = _Line(), []
    worker = threading.Thread(
        target=lambda: result.append(_exchange(line, ask)),
        name="panelpress-web",
        daemon=True,  # one stuck in a name lookup must not keep panelpress from exiting
    )
    worker.start()
    worker.join(max(0.0, ask.deadline - time.monotonic()))
    if not result:
        line.cut()
        return ask.late()
    return result[0]


def _exchange(line: _Line, ask: _Ask) -> Answer:
    url, limit, whole, deadline = ask.url, ask.limit, ask.whole, ask.deadline

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        return remaining

    parts = urlsplit(url)
    target = quote(parts.path or "/", safe="/%!$&'()*+,;=:@~") + (
        f"?{quote(parts.query, safe='/%!$&()*+,;=:@~?')}" if parts.query else ""
    )
    try:
        connection, target = _connection(parts, target, left())
        connection.response_class = _response_class()
        line.connection = connection
        connection.request(ask.method, target, body=ask.data, headers=ask.headers)
        line.sock = sock = connection.sock
        sock.settimeout(left())
        response = connection.getresponse()
        if getattr(response, "cut_short", False):
            return Answer(
                0, url, problem="its answer broke off in its headers (the connection closed before their end)"
            )
        declared = response.length
        if whole and declared is not None and declared > limit:
            return Answer(
                0,
                url,
                problem=f"it announces {declared} bytes (Content-Length), more than the {_size(limit)} panelpress reads: not read",
            )
        body = bytearray()
        while len(body) <= limit if whole else len(body) < limit:
            sock.settimeout(left())
            piece = response.read1(min(CHUNK, limit + 1 - len(body)))
            if not piece:
                break
            body += piece
        if whole and len(body) > limit:
            return Answer(0, url, problem=f"it sends more than {_size(limit)}, the most panelpress reads: cut there")
        return Answer(
            response.status, url, response.msg, bytes(body[:limit]), reason=shown(response.reason or "").strip()
        )
    except Exception as err:  # every failure of an untrusted answer becomes one line
        if isinstance(err, TimeoutError) or time.monotonic() >= deadline:
            return ask.late()
        problem, fix = _failure(err)
        return Answer(0, url, problem=problem, fix=fix)
    finally:
        if line.connection is not None:
            line.connection.close()


def _connection(parts, target: str, seconds: float) -> tuple[http.client.HTTPConnection, str]:
    """The connection to ask `parts` (through the environment's proxy for it, if any) and the request target."""
    import http.client
    import urllib.request

    https = parts.scheme.lower() == "https"
    host, port = parts.hostname.encode("idna").decode("ascii"), parts.port or (443 if https else 80)
    proxy = "" if urllib.request.proxy_bypass(host) else urllib.request.getproxies().get(parts.scheme.lower(), "")
    if not proxy:
        kind = http.client.HTTPSConnection if https else http.client.HTTPConnection
        options = {"context": _tls()} if https else {}
        return kind(host, port, timeout=seconds, **options), target
    via = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if https:  # a tunnel through the proxy (CONNECT), TLS with the server itself inside it
        tunnelled = http.client.HTTPSConnection(via.hostname, via.port or 80, timeout=seconds, context=_tls())
        tunnelled.set_tunnel(host, port)
        return tunnelled, target
    netloc = f"[{host}]" if ":" in host else host
    return (
        http.client.HTTPConnection(via.hostname, via.port or 80, timeout=seconds),
        f"http://{netloc}{f':{parts.port}' if parts.port else ''}{target}",
    )


@functools.cache
def _response_class() -> type[http.client.HTTPResponse]:
    """http.client's answer, which also knows whether its headers ended with their blank line or with the end of the
    connection (http.client takes both for the end of the headers)."""
    import http.client

    class Response(http.client.HTTPResponse):
        def begin(self) -> None:
            reader, lines = self.fp, []

            def readline(limit: int = -1) -> bytes:
                line = reader.readline(limit)
                lines.append(line)
                return line

            self.fp = _Reader(reader, readline)
            try:
                super().begin()
            finally:
                if self.fp is not None:
                    self.fp = reader
            self.cut_short = bool(lines) and lines[-1] == b""

    return Response


class _Reader:
    """A file whose readline is watched; everything else is the file's."""

    def __init__(self, reader, readline) -> None:
        self._reader, self.readline = reader, readline

    def __getattr__(self, name: str):
        return getattr(self._reader, name)


def _tls() -> ssl.SSLContext:
    import ssl

    return ssl.create_default_context()  # the system's store (or SSL_CERT_FILE), verification and host names on


def _failure(err: BaseException) -> tuple[str, str]:
    """A failed exchange in one line, and its fix when the client knows it."""
    import http.client
    import socket
    import ssl

    if isinstance(err, ssl.SSLCertVerificationError):
        return f"its TLS certificate is not trusted ({shown(err.verify_message or str(err))})", TLS_FIX
    if isinstance(err, ssl.SSLError):
        reason = err.reason or err.strerror or str(err)
        return (
            f"the TLS handshake failed ({shown(str(reason))})",
            "check that the server speaks HTTPS at this address (or use its http:// address)",
        )
    if isinstance(err, http.client.RemoteDisconnected):
        return "the server closed the connection without an answer", ""
    if isinstance(err, ConnectionResetError | BrokenPipeError):
        return "the connection was reset before the whole answer came", ""
    if isinstance(err, ConnectionRefusedError):
        return "it cannot be reached (connection refused: nothing listens at that port)", ""
    if isinstance(err, socket.gaierror):
        return f"it cannot be reached (its host name is not known: {shown(err.strerror or str(err))})", ""
    if isinstance(err, http.client.BadStatusLine):
        return f"it does not answer in HTTP (it said {shown(str(err))})", ""
    if isinstance(err, http.client.IncompleteRead):
        return "its answer broke off (a closed connection, or chunked encoding that is not valid)", ""
    if isinstance(err, http.client.HTTPException):
        return f"its answer is not valid HTTP ({type(err).__name__}: {shown(str(err))})", ""
    if isinstance(err, OSError):
        return f"it cannot be reached ({shown(err.strerror or str(err) or type(err).__name__)})", ""
    return f"its answer could not be read ({type(err).__name__}: {shown(str(err))})", ""


def _size(count: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= size:
            return f"{count / size:g} {unit}"
    return f"{count} bytes"
