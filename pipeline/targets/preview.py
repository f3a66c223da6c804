"""The preview target: a site plan served over HTTP on 127.0.0.1, from memory and the cache, never written anywhere.

It answers as a real web host would: under the site's path prefix (`/podcast/…` for a site_url ending in
`/podcast/`), with byte ranges (206, suffix ranges, 416: podcast apps and the audio player seek with them), MIME
types, ETags; and it tells open pages to reload when a new plan is applied (Server-Sent Events, with a small script
it adds to the HTML it serves, and to nothing else). Python's `http.server` is enough for one listener on one
machine; `ThreadingHTTPServer` lets the audio, the page and the event stream load at once.
"""

from __future__ import annotations

import html
import ipaddress
import re
import socket
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .. import layout
from ..errors import PanelpressError
from ..files import sha256
from ..records import PlanFile, PublishReport, SitePlan

# The feed goes as XML here, as most hosts send .xml, so that a browser shows it (deploy sets its RSS type).
PREVIEW_XML = "application/xml; charset=utf-8"
CHUNK = 256 * 1024
KEEPALIVE = 15.0  # seconds between comments on an idle event stream, so a closed page is noticed
_SPEC = re.compile(r"([0-9]*)-([0-9]*)")
# A position longer than this is past the end of any file (and int() refuses numbers of more than 4300 digits).
_DIGITS = 30
# Bytes of a request's own body read and dropped (a GET has none); a larger one ends the connection.
MAX_BODY = 64 * 1024

# Added to the HTML the preview serves: reload when the server applies another plan; show why a rebuild failed.
RELOAD = """<script>(function () {
  var seen = "%s", box;
  var events = new EventSource("%s");
  events.onmessage = function (event) { if (event.data !== seen) location.reload(); };
  events.addEventListener("problem", function (event) {
    if (!event.data && !box) return;
    box = box || document.body.appendChild(document.createElement("pre"));
    box.setAttribute("role", "alert");
    box.style.cssText = "position:fixed;left:0;right:0;bottom:0;margin:0;padding:1em;background:#fde8e4;color:#611;white-space:pre-wrap;z-index:9";
    box.textContent = event.data ? "panelpress serve: the last rebuild failed\\n" + event.data : "";
    box.hidden = !event.data;
  });
})();</script>
"""


def content_type(rel: str) -> str:
    """The Content-Type of a site file, by its name."""
    return PREVIEW_XML if rel.lower().endswith(".xml") else layout.served_type(rel)


def byte_range(header: str | None, size: int) -> tuple[int, int] | bool | None:
    """The one range a `Range` header asks of `size` bytes, as (first, last), as RFC 9110 §14 reads it. None: send the
    whole file (no header, an invalid one, which a server ignores, another unit, or several ranges, which it may
    answer whole); False: no range asked can be satisfied (416)."""
    if header is None:
        return None
    unit, equals, ranges = header.strip(" \t").partition("=")
    if not equals or unit.lower() != "bytes":  # (no white space around "=": `bytes = 0-1` is not a range)
        return None
    specs = [spec.strip(" \t") for spec in ranges.split(",")]
    specs = [spec for spec in specs if spec]  # a list may hold empty elements (RFC 9110 §5.6.1.2)
    if not specs:
        return None
    satisfiable = []
    for spec in specs:
        match = _SPEC.fullmatch(spec)
        if match is None or match.groups() == ("", ""):
            return None
        first, last = (_position(text) if text else None for text in match.groups())
        if first is None:  # a suffix: the last N bytes
            if last and not size:
                return None  # satisfiable, but no byte to send: the whole (empty) file
            if last:
                satisfiable.append((max(0, size - last), size - 1))
        elif last is not None and last < first:
            return None  # invalid: the whole header is ignored
        elif first < size:
            satisfiable.append((first, size - 1 if last is None else min(last, size - 1)))
    if not satisfiable:
        return False
    return satisfiable[0] if len(specs) == 1 else None


def _position(digits: str) -> int:
    return int(digits) if len(digits) <= _DIGITS else 10**_DIGITS


@dataclass(frozen=True)
class _Served:
    """The site as served: its plan and the version pages see (the plan's digest)."""

    plan: SitePlan | None = None
    problem: str = ""


class Preview:
    """A target that serves the plan it was given last; `apply` swaps it in and tells open pages to reload."""

    def __init__(self, site_url: str) -> None:
        self.prefix = layout.path_prefix(site_url)
        self.media_url = ""  # [deploy] media_url: the pages name the media there; the preview serves them itself
        # The studio page for hosts (layout.PREVIEW_STUDIO), made when asked for; never part of the plan.
        self.studio: Callable[[str], bytes] | None = None  # given the address's query
        self._served = _Served()
        self._changed = threading.Condition()
        self._closed = False

    # --- the Target seam ------------------------------------------------------------------------------------------

    def published_feed(self) -> bytes | None:
        return None  # a preview publishes nothing: it never stands for the real site

    def recover(self) -> tuple[str, ...]:
        return ()

    def is_current(self, digest: str) -> bool:
        plan = self._served.plan
        return plan is not None and plan.digest == digest

    def checksum(self, rel: str) -> str | None:
        file = self.file(rel)
        return file.sha256 if file is not None else None

    def published(self) -> Mapping[str, str]:
        plan = self._served.plan
        return (
            {rel: file.sha256 for rel, file in plan.files.items()} | {plan.feed_path: sha256(plan.feed)} if plan else {}
        )

    def apply(self, plan: SitePlan) -> PublishReport:
        """Serve this plan from now on (in memory: nothing is written)."""
        old = self._served.plan
        before = {**old.files, old.feed_path: None} if old else {}
        written = (
            *tuple(rel for rel, file in plan.files.items() if rel not in before or before[rel].sha256 != file.sha256),
            plan.feed_path,
        )
        with self._changed:
            self._served = _Served(plan)
            self._changed.notify_all()
        return PublishReport(
            written=written,
            unchanged=tuple(rel for rel in plan.files if rel not in written),
            removed=tuple(rel for rel in before if rel not in plan.files and rel != plan.feed_path),
        )

    # --- what the server reads ------------------------------------------------------------------------------------

    def report_problem(self, text: str) -> None:
        """Show open pages why the last rebuild failed ("" clears it); the last good plan is still served."""
        with self._changed:
            self._served = _Served(self._served.plan, text)
            self._changed.notify_all()

    def close(self) -> None:
        """End the event streams (the server is stopping)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def file(self, rel: str) -> PlanFile | None:
        """The plan's file at a site path (the feed included); None: not in the site."""
        plan = self._served.plan
        if plan is None:
            return None
        if rel == plan.feed_path:
            return PlanFile(plan.feed, sha256(plan.feed))
        return plan.files.get(rel)

    @property
    def version(self) -> str:
        plan = self._served.plan
        return plan.digest if plan else ""

    @property
    def state(self) -> tuple[str, str]:
        """(the plan's version, why the last rebuild failed): what an open page is told."""
        served = self._served
        return (served.plan.digest if served.plan else "", served.problem)

    def wait(self, version: str, problem: str, timeout: float) -> tuple[str, str] | None:
        """Wait until the plan or the problem differ from these (or `timeout` passes); None once closed."""
        with self._changed:
            self._changed.wait_for(lambda: self._closed or self.state != (version, problem), timeout)
            return None if self._closed else self.state


def is_local(host: str) -> bool:
    """Whether a client's address is this machine's loopback (127.0.0.0/8, ::1, or either mapped into IPv6)."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def _local_name(host: str) -> bool:
    """Whether a Host header names this machine's loopback: localhost, or a loopback address (with any port)."""
    name = host.strip().lower()
    if name.startswith("["):
        name = name[1 : name.find("]")] if "]" in name else ""
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    return name in ("localhost", "localhost.") or is_local(name)


class Server:
    """The preview's HTTP server, on 127.0.0.1 unless told another address, answering from a `Preview` in threads of
    its own."""

    def __init__(self, preview: Preview, port: int, host: str = "127.0.0.1") -> None:
        self.preview = preview
        self.host = host
        handler = type("Handler", (_Handler,), {"preview": preview})
        server = (
            type("HTTPServer", (ThreadingHTTPServer,), {"address_family": socket.AF_INET6})
            if ":" in host
            else ThreadingHTTPServer
        )
        try:
            self.httpd = server((host, port), handler)
        except OSError as err:
            raise PanelpressError(
                Path(f"{host}:{port}"),
                f"cannot be listened on ({err.strerror or err})",
                "pick another port with --port N (0 takes any free one)",
            ) from err
        self.httpd.daemon_threads = True
        self.httpd.handle_error = _dropped  # a client that goes away mid-request is no news (and never a traceback)
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="panelpress-serve", daemon=True)

    @property
    def url(self) -> str:
        """The address of the site's index on this server."""
        return f"{self.origin}{self.preview.prefix}"

    @property
    def origin(self) -> str:
        """http://host:port of this server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.httpd.server_address[1]}"

    def start(self) -> Server:
        """Answer requests from now on (in the background)."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering, end the event streams and close the socket."""
        self.preview.close()
        if self._thread.is_alive():  # shutdown() waits for serve_forever(), which never ran if start() was not called
            self.httpd.shutdown()
        self.httpd.server_close()


def _dropped(request, client_address) -> None:
    """When answering a request failed: nothing to say if the client went away, one line (never a traceback) if
    something else did; the server answers the next request as usual."""
    error = sys.exc_info()[1]
    if error is not None and not isinstance(error, OSError):
        print(f"warning: the preview could not answer a request: {type(error).__name__}: {error}", file=sys.stderr)


class _Handler(BaseHTTPRequestHandler):
    preview: Preview
    protocol_version = "HTTP/1.1"  # keep-alive: the player asks for many ranges of one file
    server_version = "panelpress-serve"

    def log_message(self, format: str, *args) -> None:
        pass  # a preview is for looking at the site, not its requests

    def do_HEAD(self) -> None:
        self.do_GET(body=False)

    def do_GET(self, body: bool = True) -> None:
        self._drop_body()
        path = unquote(urlsplit(self.path).path)
        if path == layout.PREVIEW_EVENTS:
            return self._events()
        if path == layout.PREVIEW_STUDIO.rstrip("/"):
            return self._redirect(layout.PREVIEW_STUDIO)
        if path == layout.PREVIEW_STUDIO:
            return self._studio(body)
        prefix = unquote(self.preview.prefix)  # as the path is compared: decoded (a site_url may hold %20)
        if not path.startswith(prefix):
            if prefix.startswith(path if path.endswith("/") else path + "/"):  # "/" or "/podcast": the site is below
                return self._redirect(self.preview.prefix)
            return self._error(HTTPStatus.NOT_FOUND, f"The site is served under {prefix} (its site_url's path).")
        rel = path[len(prefix) :]
        if rel == "" or rel.endswith("/"):
            rel += layout.INDEX_PAGE
        file = self.preview.file(rel) if layout.is_safe(rel) else None
        if file is None:
            return self._error(HTTPStatus.NOT_FOUND, f"{rel} is not part of the site.")
        self._send(rel, file, body)

    def _studio(self, body: bool) -> None:
        """The studio page, to this machine alone (whatever address the server listens on): it shows drafts and
        numbers that are not published."""
        # The peer, and the name it asked for: a page elsewhere whose name is made to lead to 127.0.0.1 (DNS
        # rebinding) reaches this machine's server from this machine's browser, but under its own name.
        if not (is_local(self.client_address[0]) and _local_name(self.headers.get("Host", ""))):
            return self._error(
                HTTPStatus.FORBIDDEN, "The studio answers only on this machine: open it at http://127.0.0.1 there."
            )
        make = self.preview.studio
        if make is None:
            return self._error(HTTPStatus.SERVICE_UNAVAILABLE, "The studio is ready once the first preview is made.")
        try:
            page = _with_reload(make(urlsplit(self.path).query), self.preview.version)
        except PanelpressError as err:
            return self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"The studio could not be made: {err.message()}")
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", layout.served_type("studio.html"))
        self.send_header("Content-Length", str(len(page)))
        self.send_header("Cache-Control", "no-store")  # drafts and numbers: kept by no cache
        self.end_headers()
        if body:
            self.wfile.write(page)

    def _drop_body(self) -> None:
        """Read a request's own body (a GET or HEAD has none, but may be sent one), so the next request on the
        connection starts where it should; a body too large or of no stated length ends the connection."""
        length = self.headers.get("Content-Length", "0").strip()
        if self.headers.get("Transfer-Encoding") or not re.fullmatch(r"[0-9]{1,9}", length) or int(length) > MAX_BODY:
            self.close_connection = True
        elif int(length):
            self.rfile.read(int(length))

    def _send(self, rel: str, file: PlanFile, body: bool) -> None:
        kind = content_type(rel)
        etag = f'"{file.sha256[:32]}"'
        data = file.content if isinstance(file.content, bytes) else None
        missing = f"{rel} is missing from the cache: it is rebuilt on the next change."
        if kind.startswith(
            "text/html"
        ):  # only the preview's HTML gets the reload script (a page may be kept as a file)
            try:
                page = file.content.read_bytes() if data is None else data
            except OSError:
                return self._error(HTTPStatus.NOT_FOUND, missing)
            if self.preview.media_url:  # players of episodes not deployed yet play from the preview
                page = page.replace(self.preview.media_url.encode(), self.preview.prefix.encode())
            data = _with_reload(page, self.preview.version)
            etag = f'"{file.sha256[:16]}-{self.preview.version[:15]}"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        try:
            size = len(data) if data is not None else file.content.stat().st_size
        except OSError:
            return self._error(HTTPStatus.NOT_FOUND, missing)
        ranges = self.headers.get_all("Range") or []
        asked = ranges[0] if len(ranges) == 1 else None  # two Range fields are no valid request: the whole file
        if self.headers.get("If-Range") not in (None, etag):
            asked = None  # the client's copy is older: it gets the whole new file
        wanted = byte_range(asked, size)
        if wanted is False:
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        first, last = wanted if wanted else (0, size - 1)
        self.send_response(HTTPStatus.PARTIAL_CONTENT if wanted else HTTPStatus.OK)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(last - first + 1))
        if wanted:
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", etag)
        self.send_header("Cache-Control", "no-cache")  # revalidate every time: the site changes as the host edits
        self.end_headers()
        if not body or size == 0:
            return
        try:
            if data is not None:
                self.wfile.write(data[first : last + 1])
            else:
                self._copy(file.content, first, last - first + 1)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the player moved on (a seek), as players do all the time

    def _copy(self, path: Path, offset: int, length: int) -> None:
        with path.open("rb") as source:
            source.seek(offset)
            while length > 0:
                chunk = source.read(min(CHUNK, length))
                if not chunk:
                    break
                self.wfile.write(chunk)
                length -= len(chunk)

    def _events(self) -> None:
        """The event stream pages listen to: the plan's version now and after each change; why a rebuild failed."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        version, problem = self.preview.state
        try:
            self._event(version, problem)
            while True:
                now = self.preview.wait(version, problem, KEEPALIVE)
                if now is None:
                    return
                if now == (version, problem):
                    self.wfile.write(b": still here\n\n")
                else:
                    version, problem = now
                    self._event(version, problem)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            return

    def _event(self, version: str, problem: str) -> None:
        lines = "".join(f"data: {line}\n" for line in problem.splitlines() or [""])
        self.wfile.write(f"event: problem\n{lines}\ndata: {version}\n\n".encode())
        self.wfile.flush()

    def _redirect(self, to: str) -> None:
        self.send_response(HTTPStatus.FOUND)
        self.send_header("Location", to)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _error(self, status: HTTPStatus, text: str) -> None:
        page = f"<!doctype html><html lang=en><meta charset=utf-8><title>{status.value} {status.phrase}</title><p>{html.escape(text)}</p>".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(page)


def _with_reload(page: bytes, version: str) -> bytes:
    script = (RELOAD % (version, layout.PREVIEW_EVENTS)).encode()
    at = page.rfind(b"</body>")
    return page[:at] + script + page[at:] if at >= 0 else page + script
