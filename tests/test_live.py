"""`panelpress check --url`: the live site as apps fetch it, against test servers on 127.0.0.1 (one answering byte
ranges, one not, one with a stale copy of the site, one redirecting, one over TLS), and against servers whose
answers are untrusted: slow, endless, garbage, silent, reset, broken HTTP, redirects out of http(s), an authority no
one trusts. Every one ends within its deadline as one line naming the address, through the real command line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from pipeline import web
from pipeline.cli import main
from tests import servers
from tests.conftest import write_notes, write_show

ROOT = Path(__file__).resolve().parent.parent


def _show(tmp_path, audio_dir, base: str):
    """A show published at `base` (an http address: allow_http), with two episodes, built."""
    show = write_show(tmp_path / "show", extra_show='allow_http = true\nartwork = "cover.jpg"')
    Image.new("RGB", (1400, 1400), (30, 90, 160)).save(show / "cover.jpg")
    toml = show / "panelpress.toml"
    toml.write_text(toml.read_text().replace('site_url = "https://pod.example.com/show/"', f'site_url = "{base}/"'))
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / "one.wav")
    shutil.copy(audio_dir / "tagged.mp3", show / "episodes" / "two.mp3")
    write_notes(show, "one", "title: One\ndate: 2026-01-05")
    write_notes(show, "two", "title: Two\ndate: 2026-01-12")
    assert main(["build", "--show", str(show)]) == 0
    return show


def _check(show, capsys, *url: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["check", "--show", str(show), "--url", *url])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_a_server_that_answers_ranges_passes(tmp_path, audio_dir, capsys):
    with servers.site(tmp_path / "show" / "public") as site:
        show = _show(tmp_path, audio_dir, site.url)
        code, said = _check(show, capsys)  # no address: the show's own feed
        assert code == 0, said
        assert f"fetched {site.url}/feed.xml and checked 2 enclosures" in said and "all good" in said
        for name in ("one", "two"):
            asked = [(method, bytes_) for method, path, bytes_ in site.requests if path == f"/media/{name}.mp3"]
            size = (show / "public" / "media" / f"{name}.mp3").stat().st_size
            assert ("HEAD", "") in asked and ("GET", "") in asked and ("GET", f"bytes={size - 16}-{size - 1}") in asked


def test_a_server_without_ranges_and_with_wrong_types_is_reported(tmp_path, audio_dir, capsys):
    with servers.site(tmp_path / "show" / "public", ranges=False, types={".mp3": "application/octet-stream"}) as site:
        show = _show(tmp_path, audio_dir, site.url)
        code, said = _check(show, capsys)
    assert code == 1
    media = f"{site.url}/media/one.mp3"
    assert (
        f"{media}: answers a byte-range request with the whole file (200, not 206) (the enclosure of item 2 ('One')); Apple Podcasts refuses such episodes"
        in said
    )
    assert "— enable range requests" in said
    assert f"{media}: is served as application/octet-stream, but the feed says audio/mpeg" in said


def test_a_stale_copy_and_a_redirect_are_reported(tmp_path, audio_dir, capsys):
    live = tmp_path / "cdn"  # what a cache in front of the site still serves
    with servers.site(live, redirects={"/old/feed.xml": "/feed.xml"}) as site:
        show = _show(tmp_path, audio_dir, site.url)
        shutil.copytree(show / "public", live)
        code, said = _check(show, capsys, f"{site.url}/old/feed.xml")
        assert code == 0, said
        assert f"warning: {site.url}/old/feed.xml: redirects (301, permanent) to {site.url}/feed.xml" in said

        write_notes(show, "one", "title: One, retitled\ndate: 2026-01-05")
        assert main(["build", "--show", str(show)]) == 0
        code, said = _check(show, capsys)
    assert code == 1
    assert f"{site.url}/feed.xml: is not the feed panelpress last published" in said
    assert "— upload the site folder again, or purge the cache or CDN in front of it" in said


def test_a_feed_nobody_serves_is_one_problem(tmp_path, audio_dir, capsys):
    with servers.site(tmp_path / "elsewhere") as site:
        show = _show(tmp_path, audio_dir, site.url)
        code, said = _check(show, capsys)
    assert code == 1
    assert f"{site.url}/feed.xml: answers 404 to GET — publish the site folder at this address" in said
    assert "1 problem" in said


# --- untrusted answers, through `python -m pipeline.cli` ------------------------------------------------------------


def _cli(show: Path, url: str, *more: str, env: dict[str, str] | None = None, timeout: str = "1") -> tuple[int, str]:
    """`panelpress check --url URL --timeout 1` in its own process; a hang fails the test instead of holding it.
    (A test of servers that answer gives them the default deadline: a TLS handshake on a busy machine takes time.)"""
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "check", "--show", str(show), "--url", url, "--timeout", timeout, *more],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, **(env or {})},
    )
    said = done.stdout + done.stderr
    assert "Traceback" not in said and done.returncode != 3, said
    return done.returncode, said


CHUNKED = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nTransfer-Encoding: chunked\r\n\r\n"
FEEDS = {  # path: (what the server does, what check says of the feed's address)
    "/drip": (servers.drip(0.3, None), "no whole answer within 1 second"),  # headers, then a byte now and then
    "/drip-sized": (servers.drip(0.3, 2048), "no whole answer within 1 second"),
    "/header-drip": (servers.header_drip(0.2), "no whole answer within 1 second"),  # never past its headers
    "/silent": (servers.silent, "no whole answer within 1 second"),
    "/huge": (servers.drip(0.3, 2**31), "it announces 2147483648 bytes (Content-Length), more than the 32 MiB"),
    "/endless": (servers.endless(None), "it sends more than 32 MiB, the most panelpress reads: cut there"),
    "/garbage": (servers.garbage(), "it does not answer in HTTP"),
    "/resets": (servers.resets, "the connection was reset before the whole answer came"),
    "/closes": (servers.closes, "the server closed the connection without an answer"),
    "/headers-cut": (
        servers.garbage(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Len"),
        "its answer broke off in its headers",
    ),
    "/bad-chunks": (servers.garbage(CHUNKED + b"zz\r\n<rss>\r\n"), "its answer broke off"),
    "/chunks-cut": (servers.garbage(CHUNKED + b"400\r\n<rss>"), "its answer broke off"),
    "/status-garbage": (servers.garbage(b"HTTP/1.1 OK fine\r\n\r\n"), "it does not answer in HTTP"),
    "/header-garbage": (
        servers.garbage(b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 200 + b"\r\n"),
        "its answer is not valid HTTP",
    ),
    "/to-file": (
        servers.redirect("file:///etc/passwd"),
        "redirects (302) to file:///etc/passwd, which is not followed",
    ),
    "/to-ftp": (servers.redirect("ftp://127.0.0.1/feed.xml", 301), "redirects (301) to ftp://127.0.0.1/feed.xml"),
    "/to-data": (servers.redirect("data:,<rss/>", 307), "redirects (307) to data:,<rss/>, which is not followed"),
    "/to-bad-port": (servers.redirect("http://127.0.0.1:80x/feed.xml"), "it is not a valid web address"),
    "/loop": (servers.redirect("/loop"), "it redirects more than 10 times (a loop?): not followed"),
    "/length-garbage": (
        servers.answer(200, {"Content-Type": "application/rss+xml", "Content-Length": "lots"}, b"<rss/>"),
        "Content-Length says 'lots' bytes, but 6 came",
    ),
}


@pytest.mark.parametrize("path", sorted(FEEDS))
def test_a_feed_whose_server_misbehaves_is_one_line_within_the_deadline(tmp_path, path):
    show = write_show(tmp_path / "show")
    talk, said = FEEDS[path]
    with servers.raw({path: talk}) as server:
        code, out = _cli(show, f"{server.url}{path}")
    assert code == 1, out
    assert f"{server.url}{path}: " in out and said in out, out
    assert any(line.startswith(f"{server.url}{path}: ") and said in line for line in out.splitlines()), out


BAD_ADDRESSES = {
    "http://127.0.0.1:9x/feed.xml": "it is not a valid web address (Port could not be cast to integer value as '9x')",
    "http://127.0.0.1:99999/feed.xml": "it is not a valid web address (Port out of range",
    "http://[::1/feed.xml": "it is not a valid web address (Invalid IPv6 URL)",
    "http://[fe80::zz]/feed.xml": "it is not a valid web address",
    "http:///feed.xml": "the address names no host",
    "http://pod example.com/feed.xml": "the address holds a space or a control character",
    "file:///etc/passwd": "its scheme is file:, not http or https",
    "ftp://127.0.0.1/feed.xml": "its scheme is ftp:, not http or https",
    "127.0.0.1/feed.xml": "it is not an absolute address, not http or https",
    f"http://127.0.0.1/{'a' * 9000}": "the address is 9017 characters long, more than the 8192 web servers take",
    f"http://{'a' * 300}.example/feed.xml": "its host name is not a valid one",
}


@pytest.mark.parametrize("url", sorted(BAD_ADDRESSES))
def test_an_address_that_is_not_a_web_address_is_one_line(tmp_path, url):
    code, out = _cli(write_show(tmp_path / "show"), url)
    assert code == 1, out
    assert f"{web.shown(url)}: {BAD_ADDRESSES[url]}" in out, out
    assert "— pass the feed's whole http(s) address to --url" in out


def _feed(items: list[tuple[str, str]]) -> bytes:
    """A feed of (enclosure URL, alternate enclosure source URI) items ('' for none), lengths 4096."""
    entries = "".join(
        f"<item><title>Item {number}</title>"
        + (f'<enclosure url="{url}" length="4096" type="audio/mpeg"/>' if url else "")
        + (
            f'<podcast:alternateEnclosure type="audio/ogg" length="4096"><podcast:source uri="{uri}"/></podcast:alternateEnclosure>'
            if uri
            else ""
        )
        + "</item>"
        for number, (url, uri) in enumerate(items, start=1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">'
        f"<channel><title>Hostile</title>{entries}</channel></rss>"
    ).encode()


def test_enclosures_a_feed_names_are_never_opened_unless_http_and_each_bad_one_is_one_line(tmp_path):
    show = write_show(tmp_path / "show")
    fifo = tmp_path / "fifo.mp3"  # opened, it would hang the check for good
    os.mkfifo(fifo)
    talks = {
        "/drip.mp3": servers.drip(0.3, 4096, {"Content-Type": "audio/mpeg"}),
        "/header-drip.mp3": servers.header_drip(0.2),
        "/silent.mp3": servers.silent,
        "/garbage.mp3": servers.garbage(),
        "/resets.mp3": servers.resets,
        "/to-file.mp3": servers.redirect(f"file://{fifo}"),
        "/headers-cut.mp3": servers.garbage(b"HTTP/1.1 200 OK\r\nContent-Le"),
    }
    refused = [
        "file:///etc/passwd",
        f"file://{fifo}",
        "ftp://127.0.0.1/a.mp3",
        "data:audio/mpeg;base64,AAAA",
        "http://127.0.0.1:80x/a.mp3",
        "http://[::1/a.mp3",
        "http:///a.mp3",
        f"http://127.0.0.1/{'b' * 9000}.mp3",
    ]
    with servers.raw(talks) as server:  # the feed is added once the server's address is known
        items = [(url, "") for url in refused] + [("", "file:///etc/shadow")]
        items += [(f"{server.url}{path}", "") for path in talks]
        talks["/feed.xml"] = servers.answer(200, {"Content-Type": "application/rss+xml"}, _feed(items))
        code, out = _cli(show, f"{server.url}/feed.xml")
        asked = {head.split(b" ")[1].decode() for head in server.requests}
    assert code == 1, out
    for url in refused:
        assert any(
            line.startswith(f"{web.shown(url)}: ")
            and line.endswith(
                "podcast apps cannot fetch it (and check does not open it) — publish every episode's audio at an http(s) address of the site (rebuild with `panelpress build`, and upload the site folder)"
            )
            for line in out.splitlines()
        ), (url, out)
    assert (
        "file:///etc/shadow: its scheme is file:, not http or https (an alternate enclosure of item 9 ('Item 9')); podcast apps cannot fetch it (and check does not open it)"
        in out
    )
    said = {
        "/drip.mp3": "no whole answer within 1 second (the enclosure of item",
        "/header-drip.mp3": "no whole answer within 1 second",
        "/silent.mp3": "no whole answer within 1 second",
        "/garbage.mp3": "it does not answer in HTTP",
        "/resets.mp3": "the connection was reset",
        "/headers-cut.mp3": "its answer broke off in its headers",
    }
    for path, words in said.items():
        assert any(line.startswith(f"{server.url}{path}: ") and words in line for line in out.splitlines()), (path, out)
    assert (
        f"{server.url}/to-file.mp3: asked with HEAD: it redirects (302) to file://{fifo}, which is not followed" in out
    )
    assert asked <= {"/feed.xml", *talks}, asked  # nothing else asked; the file: and broken addresses never


@pytest.fixture
def authority(tmp_path):
    try:
        return servers.authority(tmp_path / "ca")
    except FileNotFoundError:
        pytest.skip("the openssl command is not installed (`apt-get install openssl`): it makes the test's authority")


def test_a_certificate_from_an_unknown_authority_is_named_with_its_fix_and_verification_is_on(
    tmp_path, audio_dir, authority
):
    with servers.site(tmp_path / "show" / "public", tls=authority.server()) as site:
        show = _show(tmp_path, audio_dir, site.url)
        code, said = _cli(show, "", timeout="20")  # the show's own address: https://localhost:PORT/feed.xml
        assert code == 1, said
        assert (
            f"{site.url}/feed.xml: asked with GET: its TLS certificate is not trusted (unable to get local issuer certificate) — serve a certificate from an authority podcast apps trust"
            in said
        )
        # The same server, its authority trusted by this machine: the same check passes, all over TLS.
        code, said = _cli(show, "", env={"SSL_CERT_FILE": str(authority.ca)}, timeout="20")
        assert code == 0, said
        assert f"fetched {site.url}/feed.xml and checked 2 enclosures" in said
        # A certificate for another name is refused too: the same server asked as 127.0.0.1, a name not in it.
        code, said = _cli(
            show,
            site.url.replace("localhost", "127.0.0.1") + "/feed.xml",
            env={"SSL_CERT_FILE": str(authority.ca)},
            timeout="20",
        )
    assert code == 1 and "its TLS certificate is not trusted (IP address mismatch" in said, said


def test_the_environments_proxy_is_used_as_urllib_would(tmp_path):
    feed = _feed([])
    with servers.raw({"/feed.xml": servers.answer(200, {"Content-Type": "application/rss+xml"}, feed)}) as proxy:
        proxies = {"http_proxy": proxy.url, "HTTP_PROXY": proxy.url, "no_proxy": "", "NO_PROXY": ""}
        _, said = _cli(write_show(tmp_path / "show"), "http://pod.invalid/feed.xml", env=proxies)
    assert "fetched http://pod.invalid/feed.xml and checked 0 enclosures" in said, said
    assert [head.split(b"\r\n")[0] for head in proxy.requests] == [
        b"GET http://pod.invalid/feed.xml HTTP/1.1",
        b"HEAD http://pod.invalid/feed.xml HTTP/1.1",
    ]
