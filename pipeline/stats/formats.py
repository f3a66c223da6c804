"""Access logs read line by line, whatever server wrote them: each format found per file from its first lines.

A line becomes a `Request`: (seconds since the epoch, client address, method, path, status, body bytes sent, the
Range header, user agent), the client address and agent as the log holds them (bytes). Formats: nginx's and
Apache's `combined` with or without a Range field after it (`"$http_range"`, `"%{Range}i"`), Caddy's JSON access
log, S3 server access logs and CloudFront standard logs (tab-separated, with their `#Fields:` line). A gzip file is
read through; its format is the one of the lines inside.

A log is read a chunk of lines at a time (`reader`): combined lines are cut into their fields all at once, by one
split of the chunk on quotes, and read one by one only where a line has not the format's number of quotes; both
ways give the same requests (tests/test_stats_fast.py).
"""

from __future__ import annotations

import calendar
import functools
import gzip
import itertools
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, unquote_to_bytes

from ..errors import PanelpressError

COMBINED, CADDY, S3, CLOUDFRONT = "combined", "caddy", "s3", "cloudfront"
FORMATS = (COMBINED, CADDY, S3, CLOUDFRONT)
HOW = "give a log nginx or Apache wrote in the combined format, Caddy's JSON log, an S3 server access log or a CloudFront standard log (see the stats how-to)"
MONTHS = {name.encode(): number for number, name in enumerate(calendar.month_abbr) if name}


class Request(NamedTuple):
    """One line of a log, as the counting reads it. The combined reader makes its requests as plain tuples of these
    fields, in this order, and the rules read them by position: Python unpacks a plain tuple on a fast path that a
    tuple's subclass does not take (0.3 µs less per line read, and 0.15 µs less per line counted)."""

    ts: int
    ip: bytes
    method: bytes
    path: bytes  # without its query
    status: int
    sent: int  # bytes of the body sent
    range: bytes  # the Range header as asked ("" when the log does not say)
    agent: bytes


Parse = Callable[[bytes], "Request | None"]
# lines joined by "\n" → their requests, the indexes of the lines that are none
Read = Callable[[bytes], "tuple[list[Request], list[int]]"]
SKIP = Request(0, b"", b"", b"", 0, 0, b"", b"")  # a line of no interest, left unparsed


def parser(fmt: str, header: str) -> Parse:
    """The parser of a format (CloudFront's from its `#Fields:` header)."""
    if fmt == CLOUDFRONT:
        return cloudfront(header[len("#Fields:") :].split())
    return {COMBINED: combined, CADDY: caddy, S3: s3}[fmt]


def reader(fmt: str, parse: Parse, keep: Callable[[bytes], bool]) -> Read:
    """The reader of a format's lines (joined by `\\n`), told which paths are of interest (for combined logs, the
    others are not parsed): the requests among the lines, in order, and the indexes of the lines that are not
    requests."""
    if fmt == COMBINED:
        return functools.partial(combined_block, keep=keep, asked={})
    return functools.partial(_each, parse)


def _each(parse: Parse, block: bytes) -> tuple[list[Request], list[int]]:
    found: list[Request] = []
    unread: list[int] = []
    _one_by_one(parse, block.split(b"\n"), 0, found, unread)
    return found, unread


def _one_by_one(parse: Parse, lines: list[bytes], start: int, found: list[Request], unread: list[int]) -> None:
    """Each line parsed: its request into `found`, or its index (counted from `start`) into `unread`."""
    for index, line in enumerate(lines, start):
        request = parse(line)
        if request is None:
            unread.append(index)
        elif request is not SKIP:
            found.append(request)


def is_gzip(path: Path) -> bool:
    """Whether a file is gzip-compressed (by its first bytes, not its name)."""
    with path.open("rb") as stream:
        return stream.read(2) == b"\x1f\x8b"


def open_log(path: Path):
    """The log's lines as bytes, gzip or not."""
    return gzip.open(path, "rb") if is_gzip(path) else path.open("rb")


def detect(path: Path, lines: list[bytes]) -> tuple[str, Parse]:
    """The format of a log from its first lines (CloudFront's `#Fields:` read from them); an error naming the file and
    the line when no format reads it."""
    fields: list[str] = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        if text.startswith(b"#"):
            if text.startswith(b"#Fields:"):
                fields = text[len(b"#Fields:") :].decode("ascii", "replace").split()
            continue
        if fields:
            parse = cloudfront(fields)
            if parse(text) is not None:
                return CLOUDFRONT, parse
        elif text.startswith(b"{"):
            if caddy(text) is not None:
                return CADDY, caddy
        elif combined(text) is not None:
            return COMBINED, combined
        elif s3(text) is not None:
            return S3, s3
        raise PanelpressError(path, f"line {number} is in no access-log format panelpress reads", HOW)
    raise PanelpressError(path, "the log has no request in it", HOW)


_statuses: dict[bytes, int] = {}  # a status as written → its number

# The time of a combined log, `06/Dec/2026:10:00:00 +0000`: the day and zone parsed once per day, not per line.
_days: dict[bytes, int] = {}
_minutes: dict[bytes, int] = {}


def _clf_time(text: bytes) -> int:
    minute = _minutes.get(text[:17] + text[20:])
    if minute is None:
        day = _days.get(text[:11] + text[20:])
        if day is None:
            zone = text[21:26]
            offset = (int(zone[1:3]) * 3600 + int(zone[3:5]) * 60) * (-1 if zone[:1] == b"-" else 1)
            date = calendar.timegm((int(text[7:11]), MONTHS[text[3:6]], int(text[0:2]), 0, 0, 0))
            day = _days[text[:11] + text[20:]] = date - offset
        if len(_minutes) > 10_000:  # a week of minutes: a log's lines come in order of time
            _minutes.clear()
        minute = _minutes[text[:17] + text[20:]] = day + int(text[12:14]) * 3600 + int(text[15:17]) * 60
    return minute + int(text[18:20])


def combined(line: bytes, keep: Callable[[bytes], bool] | None = None) -> Request | None:
    """nginx's or Apache's `combined` line, with or without a quoted Range field after the agent (SKIP, unparsed,
    when `keep` says its path is of no interest: most of a site's lines are pages and assets)."""
    parts = line.split(b'"')
    # ip - user [time] "request" status bytes "referer" "agent" ["range"]
    count = len(parts)
    if count < 7:
        return None
    if count == 9:
        agent, rng = parts[5], parts[7]
    elif count == 7:
        agent, rng = parts[5], parts[6].strip()
    else:
        joined = _unescaped(parts)
        agent = joined[5] if len(joined) > 5 else b""
        rng = b'"'.join(joined[6:]).strip().strip(b'"')
    found: list[Request] = []
    unread: list[int] = []
    _requests((parts[0],), (parts[1],), (parts[2],), (agent,), (rng,), keep, {}, found, unread, 0)
    return Request._make(found[0]) if found else None if unread else SKIP


def combined_lines(
    lines: list[bytes], keep: Callable[[bytes], bool] | None = None, asked: dict | None = None
) -> tuple[list[Request], list[int]]:
    """`combined` over many lines at once: the requests of interest, in order, and the indexes of the lines that are
    not requests. Runs of lines with the format's six or eight quotes (every line nginx writes: it escapes a quote
    as `\\x22`) are cut into their fields by one split of them all, joined; the others go through `combined` one by
    one (`asked`: the request fields already read, kept by the caller from one call to the next)."""
    found: list[Request] = []
    unread: list[int] = []
    asked = {} if asked is None else asked
    if not lines or not _in_bulk(b'"\n"'.join(lines).split(b'"'), len(lines), keep, asked, found, unread, 0):
        _by_runs(lines, keep, asked, found, unread)
    return found, unread


def _by_runs(lines: list[bytes], keep, asked: dict, found: list[Request], unread: list[int]) -> None:
    """Lines that are not all of one kind: each run of lines with six or eight quotes in bulk, the others one by one."""
    start = 0
    for quotes, run in itertools.groupby(map(bytes.count, lines, itertools.repeat(b'"'))):
        size = sum(1 for _ in run)
        some = lines[start : start + size]
        if quotes not in (6, 8) or not _in_bulk(
            b'"\n"'.join(some).split(b'"'), size, keep, asked, found, unread, start
        ):
            _one_by_one(functools.partial(combined, keep=keep), some, start, found, unread)
        start += size


def combined_block(
    block: bytes, keep: Callable[[bytes], bool] | None = None, asked: dict | None = None
) -> tuple[list[Request], list[int]]:
    """`combined_lines` of lines joined by `\\n`, cut into their fields without being cut into lines first (every
    `\\n` made `"\\n"` and the whole split on quotes) when they all hold eight quotes (or all six)."""
    found: list[Request] = []
    unread: list[int] = []
    asked = {} if asked is None else asked
    parts = block.replace(b"\n", b'"\n"').split(b'"')
    if not _in_bulk(parts, block.count(b"\n") + 1, keep, asked, found, unread, 0):
        _by_runs(block.split(b"\n"), keep, asked, found, unread)  # its bulk split, done once already, failed
    return found, unread


def _in_bulk(
    parts: list[bytes], n: int, keep, asked: dict, found: list[Request], unread: list[int], offset: int
) -> bool:
    """`n` lines, joined with `"\\n"` and split on quotes (`parts`), into `found` and `unread` when they all hold
    eight quotes (or all six); False, with nothing done, otherwise.

    Each line's fields sit at the same place in every stride, and the `\\n` between two lines (no line holds one)
    sits where the next stride begins only if every line held as many quotes as the first."""
    if len(parts) == 10 * n - 1 and parts[9::10].count(b"\n") == n - 1:  # "agent" "range"
        ranges = parts[7::10]
        stride = 10
    elif len(parts) == 8 * n - 1 and parts[7::8].count(b"\n") == n - 1:  # "agent" and what follows, unquoted
        ranges = list(map(bytes.strip, parts[6::8]))
        stride = 8
    else:
        return False
    _requests(
        parts[0::stride],
        parts[1::stride],
        parts[2::stride],
        parts[5::stride],
        ranges,
        keep,
        asked,
        found,
        unread,
        offset,
    )
    return True


_BAD, _OTHER = object(), object()  # a request field that is no request; one for a path of no interest


def _requests(heads, requests, answers, agents, ranges, keep, asked: dict, found: list, unread: list, offset: int):
    """The fields of combined lines (what precedes the first quote, the request, the status and bytes, the agent,
    the range) as Requests appended to `found`, the indexes of those that are not requests to `unread`."""
    append = found.append
    clf_time, minutes, statuses = _clf_time, _minutes, _statuses
    stamp_seen, ts_seen = b"", 0  # a log's lines come in order of time: many in a row share their second
    for index, head, request, answer, agent, rng in zip(
        itertools.count(offset), heads, requests, answers, agents, ranges
    ):
        what = asked.get(request)
        if what is None:
            words = request.split(b" ")
            if len(words) < 2:
                what = _BAD
            else:
                path = words[1]
                if b"?" in path:
                    path = path.partition(b"?")[0]
                what = (words[0], path) if keep is None or keep(path) else _OTHER
            if len(asked) > 20_000:  # made-up paths (scanners) must not fill the memory
                asked.clear()
            asked[request] = what
        if what is _OTHER:
            continue
        if what is _BAD:
            unread.append(index)
            continue
        try:
            if head[-2:] == b"] ":
                stamp = head[-28:-2]
                if stamp != stamp_seen:  # `_clf_time`, its minute's look-up made here
                    minute = minutes.get(stamp[:17] + stamp[20:])
                    ts_seen = clf_time(stamp) if minute is None else minute + int(stamp[18:20])
                    stamp_seen = stamp
                ts = ts_seen
            else:
                open_at = head.index(b"[")
                ts = clf_time(head[open_at + 1 : head.index(b"]", open_at)])
            status_text, sent_text = answer.split()  # exactly two: an S3 line has more
            status = statuses.get(status_text)
            if status is None:
                status = int(status_text)
                if len(statuses) < 1_000:
                    statuses[status_text] = status
            sent = int(sent_text) if sent_text != b"-" else 0
        except (ValueError, IndexError, KeyError):
            unread.append(index)
            continue
        if rng and not rng.startswith(b"bytes="):
            rng = b""
        append((ts, head.partition(b" ")[0], what[0], what[1], status, sent, rng, agent))  # a Request's fields


def _unescaped(parts: list[bytes]) -> list[bytes]:
    """The quoted fields of a line whose values hold an escaped quote (Apache writes `\\"`): joined again."""
    joined: list[bytes] = []
    for part in parts:
        if joined and joined[-1].endswith(b"\\") and len(joined) % 2 == 0:
            joined[-1] += b'"' + part
        else:
            joined.append(part)
    return joined


def caddy(line: bytes) -> Request | None:
    """A line of Caddy's JSON access log (`ts` in seconds or as ISO 8601; `size`: the body's bytes)."""
    try:
        entry = json.loads(line)
        request = entry["request"]
        ts = entry["ts"]
        seconds = int(ts) if isinstance(ts, (int, float)) else int(datetime.fromisoformat(ts).timestamp())
        headers = request.get("headers") or {}
        agent = (headers.get("User-Agent") or [""])[0]
        rng = (headers.get("Range") or [""])[0]
        ip = request.get("client_ip") or request.get("remote_ip") or ""
        path = request["uri"].split("?", 1)[0]
        return Request(
            seconds,
            ip.encode(),
            request["method"].encode(),
            path.encode(),
            int(entry["status"]),
            int(entry.get("size") or 0),
            rng.encode(),
            agent.encode(),
        )
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return None


def s3(line: bytes) -> Request | None:
    """A line of an S3 server access log: the request line is quoted; S3 does not log the Range header."""
    parts = line.split(b'"')
    # owner bucket [time] ip requester id operation key "request" status error sent size total turnaround "ref" "agent" …
    if len(parts) < 7:
        return None
    try:
        head = parts[0]
        open_at = head.index(b"[")
        close_at = head.index(b"]", open_at)
        ts = _clf_time(head[open_at + 1 : close_at])
        fields = head[close_at + 1 :].split()
        ip, operation = fields[0], fields[3]
        if not operation.startswith(b"REST.") and not operation.startswith(b"WEBSITE."):
            return None
        request = parts[1].split(b" ")
        after = parts[2].split()
        status = int(after[0])
        sent = int(after[2]) if after[2] != b"-" else 0
        path = request[1].split(b"?", 1)[0]
    except (ValueError, IndexError, KeyError):
        return None
    return Request(ts, ip, request[0], path, status, sent, b"", parts[5])


def cloudfront(fields: list[str]) -> Parse:
    """A reader of CloudFront standard log lines with these `#Fields:` (tab-separated; agents are URL-encoded)."""
    try:
        at = {name: fields.index(name) for name in ("date", "time", "c-ip", "cs-method", "cs-uri-stem", "sc-status")}
    except ValueError:
        return lambda line: None
    agent_at = fields.index("cs(User-Agent)") if "cs(User-Agent)" in fields else -1
    sent_at = fields.index("sc-bytes") if "sc-bytes" in fields else -1
    start_at = fields.index("sc-range-start") if "sc-range-start" in fields else -1
    end_at = fields.index("sc-range-end") if "sc-range-end" in fields else -1
    need = max(at.values())

    def parse(line: bytes) -> Request | None:
        values = line.rstrip(b"\r\n").split(b"\t")
        if len(values) <= need:
            return None
        try:
            day = values[at["date"]].decode()
            clock = values[at["time"]].decode()
            ts = calendar.timegm(datetime.fromisoformat(f"{day}T{clock}").timetuple())
            status = int(values[at["sc-status"]])
            sent = int(values[sent_at]) if sent_at >= 0 and values[sent_at] != b"-" else 0
        except (ValueError, IndexError):
            return None
        rng = b""
        if start_at >= 0 and end_at >= 0 and values[start_at] not in (b"-", b""):
            rng = b"bytes=" + values[start_at] + b"-" + (values[end_at] if values[end_at] != b"-" else b"")
        agent = unquote(unquote(values[agent_at].decode("utf-8", "replace"))).encode() if agent_at >= 0 else b""
        return Request(
            ts,
            values[at["c-ip"]],
            values[at["cs-method"]],
            unquote_to_bytes(values[at["cs-uri-stem"]]),
            status,
            sent,
            rng,
            b"" if agent == b"-" else agent,
        )

    return parse
