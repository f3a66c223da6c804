"""Notify on publish: WebSub hubs and Podcast Index are told after a publish that changed the feed, and only then;
one that cannot be told is a warning, never a failed build, and never holds it: a hub that trickles its answer,
says nothing, sends garbage, resets, redirects out of http(s) or shows a certificate no one trusts ends within the
timeout. Against real servers on 127.0.0.1."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from pipeline.cli import main
from tests import servers
from tests.conftest import write_notes, write_show

ROOT = Path(__file__).resolve().parent.parent
FEED = "https://pod.example.com/show/feed.xml"
ATOM = "{http://www.w3.org/2005/Atom}link"


def _show(tmp_path, audio_dir, notify: str):
    show = write_show(tmp_path / "show")
    with (show / "panelpress.toml").open("a", encoding="utf-8") as handle:
        handle.write(f"\n[notify]\n{notify}\n")
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / "one.wav")
    write_notes(show, "one", "title: One\ndate: 2026-01-05")
    return show


def test_hubs_and_podcast_index_are_told_after_a_changed_publish_only(tmp_path, audio_dir, capsys):
    with servers.hub() as hub:
        show = _show(
            tmp_path,
            audio_dir,
            f'hubs = ["{hub.url}/hub"]\npodcastindex = true\npodcastindex_url = "{hub.url}/pubnotify"\ntimeout = 5',
        )
        assert main(["build", "--show", str(show)]) == 0
        out = capsys.readouterr().out
        assert f"told the WebSub hub {hub.url}/hub, Podcast Index of the new feed" in out
        by_path = {r.path: r for r in hub.received}
        assert sorted(by_path) == ["/hub", "/pubnotify"] and len(hub.received) == 2
        ping = by_path["/hub"]
        assert (ping.method, ping.form) == ("POST", {"hub.mode": ["publish"], "hub.url": [FEED]})
        assert ping.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert ping.headers["User-Agent"].startswith("panelpress/")
        assert (by_path["/pubnotify"].method, by_path["/pubnotify"].query) == ("GET", {"url": [FEED]})
        # the feed says where its hub is, so apps can subscribe to it
        links = etree.parse(str(show / "public" / "feed.xml")).getroot().findall(f"channel/{ATOM}")
        assert [(link.get("rel"), link.get("href")) for link in links] == [("self", FEED), ("hub", f"{hub.url}/hub")]

        assert main(["build", "--show", str(show)]) == 0  # nothing changed: nobody is told
        assert len(hub.received) == 2 and "told" not in capsys.readouterr().out

        write_notes(show, "one", "title: One, retitled\ndate: 2026-01-05")
        assert main(["build", "--show", str(show), "--no-notify"]) == 0  # changed, but not this once
        assert len(hub.received) == 2

        write_notes(show, "one", "title: One, again\ndate: 2026-01-05")
        assert main(["build", "--show", str(show)]) == 0
        assert len(hub.received) == 4

        (show / "episodes" / "one.wav").unlink()  # the guard refuses to drop it: nothing is published, nobody told
        assert main(["build", "--show", str(show)]) == 1
        assert len(hub.received) == 4


@pytest.mark.parametrize(
    ("status", "delay", "timeout", "said", "asked"),
    [
        (500, 0.0, 5, "it answered 500 Internal Server Error", 2),  # asked once more
        (400, 0.0, 5, "it answered 400 Bad Request", 1),  # refused: asking again gets the same answer
        (204, 2.0, 0.2, "no whole answer within 0.2 seconds", 2),
    ],
)
def test_a_hub_that_fails_is_a_warning_and_the_build_succeeds(
    tmp_path, audio_dir, capsys, status, delay, timeout, said, asked
):
    with servers.hub(status=status, delay=delay) as hub:
        show = _show(tmp_path, audio_dir, f'hubs = ["{hub.url}/hub"]\ntimeout = {timeout}')
        assert main(["build", "--show", str(show)]) == 0
        err = capsys.readouterr().err
        assert (
            f"warning: the WebSub hub {hub.url}/hub was not told of the new feed: {said} — nothing is lost: the feed is published"
            in err
        )
        assert [r.path for r in hub.received] == ["/hub"] * asked
        assert (show / "public" / "feed.xml").is_file()


def test_a_hub_nobody_listens_at_is_a_warning(tmp_path, audio_dir, capsys):
    with servers.hub() as hub:
        closed = hub.url  # the port is free again once the server is gone
    show = _show(tmp_path, audio_dir, f'hubs = ["{closed}/hub"]\ntimeout = 1')
    assert main(["build", "--show", str(show)]) == 0
    assert "it cannot be reached (connection refused" in capsys.readouterr().err


# --- hubs whose answers are untrusted, through `python -m pipeline.cli build` ---------------------------------------


def _build(show) -> subprocess.CompletedProcess:
    """A build in its own process: a hang fails the test (the timeout) instead of holding it."""
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "build", "--show", str(show)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done


def test_a_hub_that_answers_then_trickles_cannot_hold_the_build(tmp_path, audio_dir):
    with servers.raw({"/hub": servers.drip(0.5, None), "/pubnotify": servers.drip(0.5, 2**31)}) as hub:
        show = _show(
            tmp_path,
            audio_dir,
            f'hubs = ["{hub.url}/hub"]\npodcastindex = true\npodcastindex_url = "{hub.url}/pubnotify"\ntimeout = 2',
        )
        done = _build(show)
        asked = sorted(head.split(b" ")[1].decode().split("?")[0] for head in hub.requests)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in (f"the WebSub hub {hub.url}/hub", "Podcast Index"):
        assert (
            f"warning: {name} was not told of the new feed: no whole answer within 2 seconds — nothing is lost"
            in done.stderr
        ), done.stderr
    assert asked == ["/hub", "/hub", "/pubnotify", "/pubnotify"], "each was asked twice, each time cut at the timeout"
    assert (show / "public" / "feed.xml").is_file()


HUBS = {  # path: (what the hub does, what the warning says)
    "/silent": (servers.silent, "no whole answer within 1 second"),
    "/header-drip": (servers.header_drip(0.2), "no whole answer within 1 second"),
    "/garbage": (servers.garbage(), "it does not answer in HTTP"),
    "/resets": (servers.resets, "the connection was reset before the whole answer came"),
    "/closes": (servers.closes, "the server closed the connection without an answer"),
    "/headers-cut": (servers.garbage(b"HTTP/1.1 204 No Content\r\nServ"), "its answer broke off in its headers"),
    "/bad-chunks": (
        servers.garbage(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        "its answer broke off",
    ),
    "/to-file": (
        servers.redirect("file:///etc/passwd", 307),
        "it redirects (307) to file:///etc/passwd, which is not followed: its scheme is file:, not http or https",
    ),
    "/loop": (servers.redirect("/loop", 308), "it redirects more than 10 times"),
}


def test_hubs_whose_answers_are_broken_are_each_one_warning_and_the_build_succeeds(tmp_path, audio_dir):
    with servers.raw({path: talk for path, (talk, _) in HUBS.items()}) as hub:
        listed = ", ".join(f'"{hub.url}{path}"' for path in HUBS)
        show = _show(tmp_path, audio_dir, f"hubs = [{listed}]\ntimeout = 1")
        done = _build(show)
    assert done.returncode == 0, done.stdout + done.stderr
    for path, (_, said) in HUBS.items():
        line = f"warning: the WebSub hub {hub.url}{path} was not told of the new feed: {said}"
        assert any(text.startswith(line) for text in done.stderr.splitlines()), (line, done.stderr)
    assert (show / "public" / "feed.xml").is_file()


def test_a_hub_with_a_certificate_from_an_unknown_authority_is_a_warning_with_its_fix(tmp_path, audio_dir):
    try:
        authority = servers.authority(tmp_path / "ca")
    except FileNotFoundError:
        pytest.skip("the openssl command is not installed (`apt-get install openssl`): it makes the test's authority")
    with servers.hub(tls=authority.server()) as hub:
        show = _show(tmp_path, audio_dir, f'hubs = ["{hub.url}/hub"]\ntimeout = 5')
        done = _build(show)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        f"warning: the WebSub hub {hub.url}/hub was not told of the new feed: its TLS certificate is not trusted (unable to get local issuer certificate) — serve a certificate from an authority podcast apps trust"
        in done.stderr
    ), done.stderr
    assert hub.received == [], "nothing was sent over a connection that is not trusted"


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ('hubs = ["http://[::1/hub"]', "[notify] hubs holds 'http://[::1/hub', which is not a hub's web address"),
        ('hubs = ["http://127.0.0.1:80x/hub"]', "which is not a hub's web address: its host or port cannot be read"),
        ('hubs = ["http://pubsub hub.example/"]', "which is not a hub's web address: it holds a space"),
        ('hubs = ["file:///etc/passwd"]', "which is not a hub's web address: it is a file: address"),
        ('hubs = ["http:///hub"]', "which is not a hub's web address: "),
        (
            'podcastindex_url = "http://[zz]/pubnotify"',
            "[notify] podcastindex_url = 'http://[zz]/pubnotify' is not allowed",
        ),
        (
            'podcastindex_url = "https://api.example:99999/ping"',
            "[notify] podcastindex_url = 'https://api.example:99999/ping' is not allowed: its host or port cannot be read",
        ),
    ],
)
def test_an_address_in_notify_that_the_client_would_refuse_is_refused_before_any_work(
    tmp_path, audio_dir, capsys, setting, said
):
    show = _show(tmp_path, audio_dir, setting)
    assert main(["build", "--show", str(show)]) == 2
    err = capsys.readouterr().err
    assert "panelpress.toml: " in err and said in err, err
    assert not (show / "public").exists()
