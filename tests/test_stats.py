"""`panelpress stats`: downloads counted by the IAB v2.2 rules in a real nginx's access log of a built show.

Debian's nginx serves the show on 127.0.0.1 with a log format that records the Range header; scripted clients
replay real apps' user agents from the OPAWG list, each from an address of its own (127.0.0.x). What a server's
clock cannot make (a listener across midnight, an IPv6 pair in one /64, a listener a day later) is written as lines
of the same format beside nginx's. Every count below is derived by hand from the rules; each rule has its test,
which fails when the rule is taken away.
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from pipeline.cli import main
from pipeline.stats import report
from pipeline.stats.media import MINUTE
from tests.conftest import make_audio, write_notes, write_show

INSTALL = "install Debian's nginx (apt-get install nginx), as .ci/run does"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").is_file() else None)
FORMAT = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_range"'

# Real agents, as the OPAWG list's examples have them.
APPLE_PROBE = "Podcasts/1410.53 CFNetwork/1111 Darwin/19.0.0 (x86_64)"
CORE_MEDIA = "AppleCoreMedia/1.0.0.19E258 (iPhone; U; CPU OS 15_4 like Mac OS X; en_us)"
OVERCAST = "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)"
POCKET_CASTS = "Pocket Casts"
SPOTIFY = "Spotify/8.7.10 iOS/15.3.1 (iPhone13,2)"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
SAFARI = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.1 Safari/605.1.15"
PREVIEW = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
WATCH = "AppleCoreMedia/1.0.0.18R382 (Apple Watch; U; CPU OS 7_0 like Mac OS X; en_us)"
CRAWLER = "ExampleCrawler/2.0"
FEEDLY = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 42 subscribers; like FeedFetcher-Google)"
OVERCAST_SYNC = "Overcast/1.0 Podcast Sync (17 subscribers; feed-id=123; +http://overcast.fm/)"

LONG, SHORT = "media/long-talk.mp3", "media/short-one.mp3"
OPUS = "media/long-talk.opus"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A built show: a 150 s episode (a minute is less than the file) and a 20 s one (the whole file is less than a
    minute), each with its Opus edition."""
    show = write_show(tmp_path_factory.mktemp("stats") / "show", extra_audio="opus = true")
    make_audio(show / "episodes" / "long-talk.wav", seconds=150, channels=1)
    make_audio(show / "episodes" / "short-one.wav", seconds=20, channels=1)
    write_notes(show, "long-talk", "title: A long talk\ndate: 2026-11-02")
    write_notes(show, "short-one", "title: A short one\ndate: 2026-11-20")
    assert main(["build", "--show", str(show)]) == 0
    return show


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Nginx:
    """Debian's nginx serving a site folder under /show/, logging in FORMAT."""

    def __init__(self, site: Path, folder: Path) -> None:
        self.port = _free_port()
        self.log = folder / "access.log"
        for sub in ("logs", "tmp"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        user = "user root;\n" if os.geteuid() == 0 else ""  # the workers must read the test's private folder
        conf = folder / "nginx.conf"
        conf.write_text(
            f"""{user}worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/logs/error.log;
events {{ worker_connections 64; }}
http {{
    types {{ audio/mpeg mp3; audio/ogg opus; application/rss+xml xml; }}
    client_body_temp_path {folder}/tmp; proxy_temp_path {folder}/tmp; fastcgi_temp_path {folder}/tmp;
    uwsgi_temp_path {folder}/tmp; scgi_temp_path {folder}/tmp;
    log_format ranged '{FORMAT}';
    access_log {self.log} ranged;
    server {{
        listen 127.0.0.1:{self.port};
        location /show/ {{ alias {site}/; }}
    }}
}}
""",
            encoding="utf-8",
        )
        self.process = subprocess.Popen([NGINX, "-p", str(folder), "-c", str(conf)], stderr=subprocess.PIPE)
        while True:  # ready when it accepts a connection (or gone, with its reason)
            if self.process.poll() is not None:
                raise AssertionError(f"nginx did not start: {self.process.stderr.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)

    def get(self, source: str, path: str, agent: str | None, range_: str = "", method: str = "GET") -> int:
        """One request from `source` (an address of 127/8), read to its end; the body's length."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, source_address=(source, 0), timeout=30)
        headers = {"User-Agent": agent} if agent is not None else {}
        if range_:
            headers["Range"] = range_
        connection.request(method, "/show/" + path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        connection.close()
        assert response.status in (200, 206), (path, response.status)
        return len(body)

    def stop(self) -> None:
        """Stop it gracefully: every request is in the log once it has gone."""
        self.process.send_signal(signal.SIGQUIT)
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def served(built, tmp_path_factory) -> Path:
    """nginx's log of the scripted listeners (each one's expected count is in the test of its rule)."""
    if NGINX is None:
        pytest.skip(f"nginx is not installed: {INSTALL}")
    server = Nginx(built / "public", tmp_path_factory.mktemp("nginx"))
    try:
        get = server.get
        # Apple Podcasts: its bytes=0-1 probe, then its player's chunks (AppleCoreMedia), each under a minute
        get("127.0.0.2", LONG, APPLE_PROBE, "bytes=0-1")
        get("127.0.0.2", LONG, CORE_MEDIA, "bytes=0-524287")
        get("127.0.0.2", LONG, CORE_MEDIA, "bytes=524288-1048575")
        # Overcast downloads the whole file, twice within 24 hours
        get("127.0.0.3", LONG, OVERCAST)
        get("127.0.0.3", LONG, OVERCAST)
        # Pocket Casts asks HEAD, then downloads the short episode whole
        get("127.0.0.4", LONG, POCKET_CASTS, method="HEAD")
        get("127.0.0.4", SHORT, POCKET_CASTS)
        # Spotify takes the Opus edition's first 600,000 bytes (more than a minute of it)
        get("127.0.0.5", OPUS, SPOTIFY, "bytes=0-599999")
        # Exactly a minute of audio past the ID3 tag, and one byte less
        minute = _minute(served_show=built)
        get("127.0.0.10", LONG, SPOTIFY, f"bytes=0-{minute - 1}")
        get("127.0.0.11", LONG, SPOTIFY, f"bytes=0-{minute - 2}")
        # Not listeners: a bot, a link preview, a browser's preview of the player, an agent with no name, a crawler
        # that names itself, an Apple Watch (each downloads the whole file but the browser)
        get("127.0.0.6", LONG, GOOGLEBOT)
        get("127.0.0.7", LONG, PREVIEW)
        get("127.0.0.8", LONG, SAFARI, "bytes=0-65535")
        get("127.0.0.9", LONG, None)
        get("127.0.0.12", LONG, CRAWLER)
        get("127.0.0.13", LONG, WATCH)
        # The feed, fetched by two aggregators and by an app
        get("127.0.0.20", "feed.xml", FEEDLY)
        get("127.0.0.21", "feed.xml", OVERCAST_SYNC)
        get("127.0.0.2", "feed.xml", APPLE_PROBE)
    finally:
        server.stop()
    assert len(server.log.read_text().splitlines()) == 19
    return server.log


def _minute(served_show: Path) -> int:
    """The bytes up to a minute of audio past the long episode's ID3 tag (read here from the file itself)."""
    data = (served_show / "public" / LONG).read_bytes()
    tag = 10 + ((data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9])
    from mutagen.mp3 import MP3

    return tag + int(MP3(served_show / "public" / LONG).info.bitrate / 8 * MINUTE)


# --- lines nginx's clock cannot write: the same format, written by the test ---------------------------------------


def line(ip: str, when: str, path: str, agent: str, status: int, sent: int, range_: str = "-", method: str = "GET"):
    """A line of FORMAT (`when`: 2026-11-02T23:55:00, UTC)."""
    stamp = datetime.fromisoformat(when).replace(tzinfo=UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return f'{ip} - - [{stamp}] "{method} /show/{path} HTTP/1.1" {status} {sent} "-" "{agent}" "{range_}"\n'


def written(built: Path) -> list[str]:
    """Listeners across midnight and a day later, an IPv6 pair in one /64, and windows a probe or a HEAD would open."""
    size = (built / "public" / LONG).stat().st_size
    return [
        # across midnight: one download (a 24-hour window from the first request, not a calendar day); a minute
        # before the window closes, still the same; a minute after, another, whose window covers the next midnight
        line("192.0.2.10", "2026-11-02T23:55:00", LONG, OVERCAST, 200, size),
        line("192.0.2.10", "2026-11-03T00:05:00", LONG, OVERCAST, 200, size),
        line("192.0.2.10", "2026-11-03T23:54:00", LONG, OVERCAST, 200, size),
        line("192.0.2.10", "2026-11-03T23:56:00", LONG, OVERCAST, 200, size),
        line("192.0.2.10", "2026-11-04T00:10:00", LONG, OVERCAST, 200, size),
        # two addresses of one /64: one listener; a third in another /64: another
        line("2001:db8:1:2::10", "2026-11-04T08:00:00", LONG, SPOTIFY, 200, size),
        line("2001:db8:1:2:ffff::20", "2026-11-04T09:00:00", LONG, SPOTIFY, 200, size),
        line("2001:db8:1:3::10", "2026-11-04T09:00:00", LONG, SPOTIFY, 200, size),
        # a probe and a HEAD (logged with the file's length) open no window: the download after them does
        line("192.0.2.30", "2026-11-05T10:00:00", LONG, APPLE_PROBE, 206, 2, "bytes=0-1"),
        line("192.0.2.30", "2026-11-05T10:05:00", LONG, APPLE_PROBE, 200, size),
        line("192.0.2.30", "2026-11-06T10:02:00", LONG, APPLE_PROBE, 200, size),
        line("192.0.2.31", "2026-11-05T10:00:00", LONG, POCKET_CASTS, 200, size, method="HEAD"),
        line("192.0.2.31", "2026-11-05T10:05:00", LONG, POCKET_CASTS, 200, size),
        line("192.0.2.31", "2026-11-06T10:02:00", LONG, POCKET_CASTS, 200, size),
    ]


def stats(show: Path, *logs: Path, fmt: str = "json", reset: bool = True, capsys=None):
    """Run `panelpress stats` (from a clean state unless told); its output (parsed when JSON) and its summary."""
    assert main(["stats", "--show", str(show), "--format", fmt, *(["--reset"] if reset else []), *map(str, logs)]) == 0
    out, err = capsys.readouterr()
    return (json.loads(out) if fmt == "json" else out), err


def downloads(document: dict, slug: str, edition: str = "mp3") -> dict:
    return next(e for e in document["episodes"] if e["slug"] == slug and e["edition"] == edition)


@pytest.fixture(scope="module")
def full_log(served, built, tmp_path_factory) -> Path:
    """The written lines (November), then nginx's (today): one log, in the order of time as a server writes it."""
    log = tmp_path_factory.mktemp("logs") / "access.log"
    log.write_text("".join(written(built)) + served.read_text())
    return log


# By hand, for the long episode's MP3: Apple Podcasts 1 (its chunks summed), Overcast 1 (twice in 24 h), Spotify 1
# (exactly a minute), across midnight 2 (Overcast at 192.0.2.10: 23:55, and 24 h and a minute later), the IPv6 pair
# 1 and its neighbour 1, the probe's listener 1 and the HEAD's 1 (their downloads 24 h less 3 minutes apart).
LONG_MP3 = 1 + 1 + 1 + 2 + 2 + 1 + 1


def test_the_counts_by_hand(built, full_log, capsys):
    document, err = stats(built, full_log, capsys=capsys)
    assert downloads(document, "long-talk")["downloads"] == LONG_MP3
    assert downloads(document, "short-one")["downloads"] == 1  # Pocket Casts, whole
    assert downloads(document, "long-talk", "opus")["downloads"] == 1  # Spotify
    assert downloads(document, "short-one", "opus")["downloads"] == 0
    assert "33 new lines" in err


def test_range_requests_of_one_listener_are_summed(built, served, capsys):
    document, _ = stats(built, served, capsys=capsys)
    apple = downloads(document, "long-talk")["apps"]
    assert apple.get("Apple Podcasts") == 1  # its two chunks, each less than a minute, summed


def test_a_system_player_counts_as_the_app_it_plays_for(built, served, capsys):
    document, _ = stats(built, served, capsys=capsys)
    apps = downloads(document, "long-talk")["apps"]
    assert "AppleCoreMedia" not in apps and apps["Apple Podcasts"] == 1


def test_a_minute_of_audio_past_the_id3_tag_makes_a_download(built, served, capsys):
    document, _ = stats(built, served, capsys=capsys)
    # Spotify: 127.0.0.10 got exactly a minute past the tag (counts), 127.0.0.11 one byte less (does not); the
    # browser's 64 KiB preview does not either
    assert downloads(document, "long-talk")["apps"]["Spotify"] == 1
    assert "Safari" not in downloads(document, "long-talk")["apps"]


def test_a_file_shorter_than_a_minute_counts_when_whole(built, served, capsys):
    document, _ = stats(built, served, capsys=capsys)
    assert downloads(document, "short-one")["apps"] == {"Pocket Casts": 1}


def test_one_download_per_listener_and_episode_in_24_hours(built, served, capsys):
    document, _ = stats(built, served, capsys=capsys)
    assert downloads(document, "long-talk")["apps"]["Overcast"] == 1  # two whole downloads, seconds apart


def test_a_listener_across_midnight_is_one_download_until_24_hours_passed(built, tmp_path, capsys):
    log = tmp_path / "midnight.log"
    log.write_text("".join(written(built)[:5]))
    document, _ = stats(built, log, capsys=capsys)
    long = downloads(document, "long-talk")
    assert long["downloads"] == 2 and long["by_day"] == {"2026-11-02": 1, "2026-11-03": 1}


def test_ipv6_addresses_of_one_64_are_one_listener(built, tmp_path, capsys):
    log = tmp_path / "v6.log"
    log.write_text("".join(written(built)[5:8]))
    document, _ = stats(built, log, capsys=capsys)
    assert downloads(document, "long-talk")["downloads"] == 2


@pytest.mark.parametrize("workers", [1, 2])
def test_ipv4_addresses_a_dual_stack_server_writes_as_ipv6_are_each_a_listener(built, tmp_path, capsys, workers):
    # nginx on [::] with ipv6only=off, or Apache on Linux, log an IPv4 client as ::ffff:a.b.c.d; by their /64 all
    # would be one listener. Three clients are three downloads, and a client written both ways is one listener
    # (whichever process counts it)
    from pipeline import config
    from pipeline.stats import count

    size = (built / "public" / LONG).stat().st_size
    log = tmp_path / "mapped.log"
    log.write_text(
        "".join(
            line(ip, f"2026-11-05T10:0{minute}:00", LONG, OVERCAST, 200, size)
            for minute, ip in enumerate(
                [
                    "::ffff:198.51.100.1",
                    "::ffff:198.51.100.2",
                    "[::ffff:198.51.100.3]",
                    "198.51.100.1",
                    "::ffff:c633:6402",
                ]
            )
        )
    )
    count.count(config.load(built), [log], reset=True, workers=workers)
    document, _ = stats(built, reset=False, capsys=capsys)
    assert downloads(document, "long-talk")["downloads"] == 3


def test_a_probe_and_a_head_open_no_window(built, tmp_path, capsys):
    lines = written(built)[8:]
    log = tmp_path / "probe.log"
    log.write_text("".join(lines))
    document, err = stats(built, log, capsys=capsys)
    # each listener: a download at 10:05, and at 10:02 the next day the same one (within 24 h of 10:05); were the
    # probe or the HEAD to open the window at 10:00, the second would be 24 h after it, a download of its own
    assert downloads(document, "long-talk")["downloads"] == 1 + 1
    assert "1 bytes=0-1 probes" in err and "1 not GET" in err


def test_bots_previews_nameless_agents_and_apple_watch_are_left_out(built, served, capsys):
    document, err = stats(built, served, capsys=capsys)
    apps = downloads(document, "long-talk")["apps"]
    assert set(apps) == {"Apple Podcasts", "Overcast", "Spotify"}, apps
    assert sum(apps.values()) == 3
    # Googlebot and the link preview (the list's bots) and the self-named crawler; the nameless; the watch
    assert "3 bots and libraries" in err and "1 no user agent" in err and "1 Apple Watch" in err


def test_subscribers_are_estimated_from_the_feeds_fetches(built, served, capsys):
    document, _ = stats(built, served, capsys=capsys)
    feed = document["feed_fetches"]
    assert feed["requests"] == 3
    assert feed["subscribers"] == {"estimate": 42 + 17 + 1, "aggregators": {"Feedly": 42, "Overcast": 17}, "direct": 1}


def test_the_direct_subscribers_are_the_readers_of_the_last_whole_day_and_the_state_keeps_two_days(
    built, tmp_path, capsys
):
    # 1, 2, 3 and 4 readers of the feed on four days (the last cut short by the end of the log): the estimate is the
    # third day's 3, and the state keeps the last two days' readers only
    log = tmp_path / "feed.log"
    log.write_text(
        "".join(
            line(f"192.0.2.{reader}", f"2026-11-0{day}T12:00:00", "feed.xml", POCKET_CASTS, 200, 900)
            for day in range(1, 5)
            for reader in range(day)
        )
    )
    document, _ = stats(built, log, capsys=capsys)
    assert document["feed_fetches"]["requests"] == 1 + 2 + 3 + 4
    assert document["feed_fetches"]["subscribers"]["direct"] == 3
    db = sqlite3.connect(built / ".panelpress-cache" / "stats.sqlite")
    try:
        kept = db.execute("SELECT day, count(*) FROM feed_listeners GROUP BY day ORDER BY day").fetchall()
    finally:
        db.close()
    assert kept == [("2026-11-03", 3), ("2026-11-04", 4)]


# --- the same requests as Apache and Caddy write them ---------------------------------------------------------------

NGINX_LINE = re.compile(
    r'(?P<ip>\S+) - \S+ \[(?P<time>[^\]]+)\] "(?P<method>\S+) (?P<path>\S+) (?P<proto>[^"]+)" (?P<status>\d+) '
    r'(?P<sent>\d+) "(?P<ref>[^"]*)" "(?P<agent>[^"]*)" "(?P<range>[^"]*)"'
)


def _fields(log: Path) -> list[dict]:
    found = [NGINX_LINE.match(text).groupdict() for text in log.read_text().splitlines()]
    assert found and all(found)
    return found


def test_the_same_requests_as_an_apache_log_give_the_same_counts(built, full_log, tmp_path, capsys):
    # Apache: LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" \"%{Range}i\"" (%b is "-" for 0)
    apache = tmp_path / "apache.log"
    apache.write_text(
        "".join(
            f'{f["ip"]} - - [{f["time"]}] "{f["method"]} {f["path"]} {f["proto"]}" {f["status"]} '
            f'{f["sent"] if f["sent"] != "0" else "-"} "{f["ref"]}" "{f["agent"]}" "{f["range"]}"\n'
            for f in _fields(full_log)
        )
    )
    expected, _ = stats(built, full_log, capsys=capsys)
    got, _ = stats(built, apache, capsys=capsys)
    assert got == expected


def test_the_same_requests_as_a_caddy_log_give_the_same_counts(built, full_log, tmp_path, capsys):
    caddy = tmp_path / "caddy.log"
    entries = []
    for f in _fields(full_log):
        headers = {"User-Agent": [f["agent"]]} if f["agent"] != "-" else {}
        if f["range"] != "-":
            headers["Range"] = [f["range"]]
        when = datetime.strptime(f["time"], "%d/%b/%Y:%H:%M:%S %z").timestamp()
        entries.append(
            {
                "level": "info",
                "ts": when + 0.25,
                "logger": "http.log.access",
                "msg": "handled request",
                "request": {
                    "remote_ip": f["ip"],
                    "proto": f["proto"],
                    "method": f["method"],
                    "host": "pod.example.com",
                    "uri": f["path"],
                    "headers": headers,
                },
                "size": int(f["sent"]),
                "status": int(f["status"]),
            }
        )
    caddy.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    expected, _ = stats(built, full_log, capsys=capsys)
    got, _ = stats(built, caddy, capsys=capsys)
    assert got == expected


def test_the_same_requests_as_s3_and_cloudfront_logs_give_the_same_counts(built, full_log, tmp_path, capsys):
    # S3 server access logs do not say the Range (a 206 of 2 bytes is the probe); CloudFront's say where it began
    s3, cloudfront = tmp_path / "s3.log", tmp_path / "cloudfront.log"
    fields = _fields(full_log)
    s3.write_text(
        "".join(
            f"79a5 bucket [{f['time']}] {f['ip']} - 3E57427F3EXAMPLE REST.{f['method']}.OBJECT {f['path'][1:]} "
            f'"{f["method"]} {f["path"]} {f["proto"]}" {f["status"]} - {f["sent"] if f["sent"] != "0" else "-"} '
            f'2401688 70 10 "{f["ref"]}" "{f["agent"]}" - hostid SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader '
            f"bucket.s3.amazonaws.com TLSv1.2 - -\n"
            for f in fields
        )
    )
    columns = (
        "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) "
        "cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol "
        "cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type "
        "cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type "
        "sc-content-type sc-content-len sc-range-start sc-range-end"
    )
    rows = ["#Version: 1.0", f"#Fields: {columns}"]
    for f in fields:
        when = datetime.strptime(f["time"], "%d/%b/%Y:%H:%M:%S %z").astimezone(UTC)
        first, _, last = f["range"].removeprefix("bytes=").partition("-") if f["range"] != "-" else ("-", "", "-")
        agent = quote(f["agent"], safe="/;:()+,") if f["agent"] != "-" else "-"
        rows.append(
            "\t".join(
                [
                    when.strftime("%Y-%m-%d"),
                    when.strftime("%H:%M:%S"),
                    "FRA56-P1",
                    f["sent"],
                    f["ip"],
                    f["method"],
                    "d111111abcdef8.cloudfront.net",
                    f["path"],
                    f["status"],
                    "-",
                    agent,
                    "-",
                    "-",
                    "Miss",
                    "SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==",
                    "pod.example.com",
                    "https",
                    "220",
                    "0.001",
                    "-",
                    "TLSv1.3",
                    "TLS_AES_128_GCM_SHA256",
                    "Miss",
                    "HTTP/2.0",
                    "-",
                    "-",
                    "11040",
                    "0.001",
                    "Miss",
                    "audio/mpeg",
                    f["sent"],
                    first or "-",
                    last or "-",
                ]
            )
        )
    cloudfront.write_text("\n".join(rows) + "\n")
    expected, _ = stats(built, full_log, capsys=capsys)
    for log in (s3, cloudfront):
        got, _ = stats(built, log, capsys=capsys)
        assert got == expected, log.name


def test_a_gzip_log_is_read_through(built, full_log, tmp_path, capsys):
    packed = tmp_path / "access.log.2.gz"
    packed.write_bytes(gzip.compress(full_log.read_bytes()))
    expected, _ = stats(built, full_log, capsys=capsys)
    got, _ = stats(built, packed, capsys=capsys)
    assert got == expected


# --- incremental, rotated, private ---------------------------------------------------------------------------------


def test_a_log_that_grew_is_read_from_where_the_last_run_stopped(built, full_log, tmp_path, capsys):
    whole, _ = stats(built, full_log, capsys=capsys)
    lines = full_log.read_text().splitlines(keepends=True)
    log = tmp_path / "access.log"
    log.write_text("".join(lines[:20]))
    stats(built, log, capsys=capsys)
    with log.open("a") as stream:
        stream.write("".join(lines[20:]))
    grown, err = stats(built, log, reset=False, capsys=capsys)
    assert f"read {len(lines) - 20} new lines" in err
    assert grown == whole


def test_a_rotated_log_is_known_by_its_first_line(built, full_log, tmp_path, capsys):
    whole, _ = stats(built, full_log, capsys=capsys)
    lines = full_log.read_text().splitlines(keepends=True)
    log = tmp_path / "access.log"
    log.write_text("".join(lines[:15]))
    stats(built, log, capsys=capsys)
    with log.open("a") as stream:  # more lines, then logrotate: access.log.1.gz, and a new access.log
        stream.write("".join(lines[15:25]))
    rotated = tmp_path / "access.log.1.gz"
    rotated.write_bytes(gzip.compress(log.read_bytes()))
    log.write_text("".join(lines[25:]))
    after, err = stats(built, rotated, log, reset=False, capsys=capsys)
    assert f"read {len(lines) - 15} new lines" in err  # the gzip's first 15 lines were not read again
    assert after == whole
    again, err = stats(built, rotated, log, reset=False, capsys=capsys)
    assert "read 0 new lines" in err and again == whole


def test_two_processes_count_as_one(built, full_log, tmp_path, capsys):
    # a large log is shared by two processes, each taking the listeners of half the addresses (IPv6 by /64)
    from pipeline import config
    from pipeline.stats import count

    one, _ = stats(built, full_log, capsys=capsys)
    half = full_log.read_text().splitlines(keepends=True)
    log = tmp_path / "access.log"
    log.write_text("".join(half[:20]))
    settings = config.load(built)
    count.count(settings, [log], reset=True, workers=2)
    with log.open("a") as stream:
        stream.write("".join(half[20:]))
    run = count.count(settings, [log], workers=2)
    assert run.lines == len(half) - 20
    two, _ = stats(built, reset=False, capsys=capsys)
    assert two == one


def test_no_address_is_printed_or_kept(built, full_log, capsys):
    addresses = {f["ip"] for f in _fields(full_log)}
    assert "2001:db8:1:2::10" in addresses and "127.0.0.2" in addresses
    said = ""
    for fmt in ("table", "json", "csv"):
        out, err = stats(built, full_log, fmt=fmt, capsys=capsys)
        said += json.dumps(out) + err
    state = (built / ".panelpress-cache" / "stats.sqlite").read_bytes()
    for address in addresses:
        assert address not in said and address.encode() not in state
    with sqlite3.connect(built / ".panelpress-cache" / "stats.sqlite") as db:
        salts = db.execute("SELECT day FROM salt").fetchall()
    assert len(salts) == 1  # the day's salt only


def test_the_studio_reads_the_counts(built, full_log, capsys):
    stats(built, full_log, capsys=capsys)
    by_day = report.downloads_by_day(built)
    assert sum(by_day[("long-talk", "mp3")].values()) == LONG_MP3
    assert report.downloads_by_app(built)[("short-one", "mp3")] == {"Pocket Casts": 1}
    assert report.downloads_by_day(built / ".panelpress-cache") == by_day
    # and the studio page shows them, read through the same state
    from pipeline import build, config
    from pipeline.studio import downloads as studio_downloads
    from pipeline.studio import page as studio

    settings = config.load(built)
    counted = studio_downloads.read(settings)
    assert sum(n for _, n in counted.days("long-talk")) == LONG_MP3 + sum(
        sum(days.values()) for (slug, edition), days in by_day.items() if slug == "long-talk" and edition != "mp3"
    )
    body = studio.render(studio.gather(settings, build.preview(settings), counted, "/", only="short-one")).decode()
    assert "Pocket Casts" in body and "Run panelpress stats" not in body


def test_csv_and_the_table(built, full_log, capsys):
    out, _ = stats(built, full_log, fmt="csv", capsys=capsys)
    rows = out.splitlines()
    assert rows[0] == "slug,edition,day,app,platform,downloads"
    assert sum(int(row.rsplit(",", 1)[1]) for row in rows[1:] if row.startswith("long-talk,mp3,")) == LONG_MP3
    table, _ = stats(built, full_log, fmt="table", capsys=capsys)
    assert "long-talk" in table and "day 30" in table and "about 60 subscribers" in table


def test_a_log_in_no_known_format_is_named_with_its_line(built, tmp_path, capsys):
    log = tmp_path / "odd.log"
    log.write_text("\nthis is not an access log\n")
    assert main(["stats", "--show", str(built), str(log)]) == 2
    err = capsys.readouterr().err
    assert "odd.log: line 2 is in no access-log format" in err
