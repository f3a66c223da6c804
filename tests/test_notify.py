"""Notify on publish: WebSub hubs and Podcast Index are told after a publish that changed the feed, and only then;
one that cannot be told is a warning, never a failed build. Against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import shutil

import pytest
from lxml import etree

from pipeline.cli import main
from tests import servers
from tests.conftest import write_notes, write_show

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
