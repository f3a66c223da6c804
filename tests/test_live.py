"""`panelpress check --url`: the live site as apps fetch it, against test servers on 127.0.0.1 (one answering byte
ranges, one not, one with a stale copy of the site, one redirecting)."""

from __future__ import annotations

import shutil

from PIL import Image

from pipeline.cli import main
from tests import servers
from tests.conftest import write_notes, write_show


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
