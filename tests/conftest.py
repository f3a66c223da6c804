"""Shared fixtures: real audio made with ffmpeg, and small show folders made on the fly."""

from __future__ import annotations

import hashlib
import shutil
import signal
import subprocess
import textwrap
import zlib
from pathlib import Path

import pytest
from mutagen.id3 import APIC, COMM, ID3, TDRC, TIT2, TPE1

from pipeline import config as config_module
from pipeline.audio.ffmpeg import ffmpeg

# A test run started in the background of a shell (`make test &`, a CI runner's job) inherits SIGINT ignored, and so
# would every panelpress process the tests start, and the Ctrl-C tests would fail for it. Programs the tests start
# see Ctrl-C as they do from a terminal (a handler, unlike an ignored signal, does not survive exec).
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Speech-like: pink noise through a voice band, switched on and off like turns in a conversation.
SPEECH = "anoisesrc=color=pink:seed={seed}:amplitude=0.5,bandpass=f=700:width_type=h:w=1800,volume='if(lt(mod(t,3),2.2),1,0)':eval=frame"

SHOW_TOML = """\
[show]
title = "Test Panel"
description = "A panel made by the tests."
author = "Test Author"
owner_email = "owner@example.com"
site_url = "https://pod.example.com/show/"
category = "Business"
subcategory = "Management"
explicit = false
{extra_show}
[build]
publish_new = false
{extra_build}
[audio]
normalize = {normalize}
{extra_audio}
"""

# A tiny valid PNG (1x1, RGB) for cover-art fixtures; every chunk's checksum is right (images are checked by content).
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c49444154789c633861a3010002fc012dff833a570000000049454e44ae426082"
)


def bomb_png(width: int, height: int) -> bytes:
    """The first bytes of a huge PNG (a decompression bomb): a real header, no pixels (they are never read)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([1, 0, 0, 0, 0])  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def lavfi(graph: str, *args: str, capture_output: bool = False) -> subprocess.CompletedProcess:
    """Run ffmpeg on a lavfi source graph with these output arguments (errors only on stderr; raises on failure)."""
    return subprocess.run(
        [ffmpeg(), "-nostdin", "-hide_banner", "-v", "error", "-f", "lavfi", "-i", graph, *args],
        capture_output=capture_output,
        check=True,
    )


def make_audio(
    path: Path,
    seconds: float = 3.0,
    rate: int = 44100,
    channels: int = 2,
    source: str | None = None,
    codec_args: tuple[str, ...] = (),
    volume_db: float = 0.0,
) -> Path:
    """Write a real audio file with ffmpeg: a sine (default) or any lavfi source, at a given gain."""
    src = source or f"sine=frequency=440:sample_rate={rate}"
    graph = f"{src},volume={volume_db}dB,aformat=sample_rates={rate}"
    path.parent.mkdir(parents=True, exist_ok=True)
    lavfi(graph, "-t", str(seconds), "-ac", str(channels), *codec_args, "-y", str(path))
    return path


def tag_mp3(path: Path, title: str, artist: str, date: str, comment: str, art: bytes = PNG_1PX) -> None:
    """Give an MP3 ID3 tags and cover art, as a host's editor would."""
    id3 = ID3()
    id3.add(TIT2(encoding=3, text=title))
    id3.add(TPE1(encoding=3, text=artist))
    id3.add(TDRC(encoding=3, text=date))
    id3.add(COMM(encoding=3, lang="eng", desc="", text=comment))
    id3.add(APIC(encoding=3, mime="image/png", type=3, desc="Cover", data=art))
    id3.save(path)


def write_notes(folder: Path, slug: str, front: str, body: str = "Notes body.") -> Path:
    """Write `show_notes/<slug>.md` with the given front matter (YAML text)."""
    path = folder / "show_notes" / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{textwrap.dedent(front).strip()}\n---\n\n{body}\n", encoding="utf-8")
    return path


def write_show(
    folder: Path, normalize: bool = False, extra_show: str = "", extra_build: str = "", extra_audio: str = ""
) -> Path:
    """Write a panelpress.toml (normalization off by default: most tests are not about loudness)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = SHOW_TOML.format(
        normalize=str(normalize).lower(), extra_show=extra_show, extra_build=extra_build, extra_audio=extra_audio
    )
    (folder / config_module.CONFIG_NAME).write_text(text, encoding="utf-8")
    (folder / "episodes").mkdir(exist_ok=True)
    (folder / "show_notes").mkdir(exist_ok=True)
    return folder


def show_with(folder: Path, audio_dir: Path, episodes: dict[str, tuple[str, str]], **settings: str) -> Path:
    """A show folder of generated recordings, each with notes: {slug: (recording in audio_dir, front matter)}."""
    write_show(folder, **settings)
    for slug, (source, front) in episodes.items():
        shutil.copy(audio_dir / source, folder / "episodes" / f"{slug}{Path(source).suffix}")
        write_notes(folder, slug, front)
    return folder


def checksums(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below a folder (to prove nothing was touched)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def show(tmp_path: Path) -> Path:
    """An empty show folder with a valid config."""
    return write_show(tmp_path / "show")


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory) -> Path:
    """A session-wide folder of generated recordings (made once, never written to by tests)."""
    folder = tmp_path_factory.mktemp("audio")
    make_audio(folder / "stereo.wav", seconds=4, channels=2)
    make_audio(folder / "mono.flac", seconds=3, channels=1, rate=48000)
    make_audio(folder / "tagged.mp3", seconds=5, channels=2, codec_args=("-c:a", "libmp3lame", "-b:a", "96k"))
    tag_mp3(folder / "tagged.mp3", "Tagged Title", "Ann Example; Bo Example", "2026-03-04", "From the tags.")
    return folder


# --- the site as listeners get it (tests/sites.py, tests/browser.py) ------------------------------------------------


@pytest.fixture(scope="session")
def site_shows(tmp_path_factory) -> dict[str, Path]:
    """The example show, a show with every optional field and a hostile one, each previewed once (so their audio is
    in their caches for `panelpress serve`)."""
    from tests import sites

    base = tmp_path_factory.mktemp("sites")
    return {
        "demo": sites.demo_show(base / "demo"),
        "full": sites.full_show(base / "full"),
        "hostile": sites.hostile_show(base / "hostile"),
    }


@pytest.fixture(scope="session")
def previews(site_shows):
    """`build.preview` of each of `site_shows`: the plan of the site a build would publish."""
    from pipeline import build

    made = {name: build.preview(config_module.load(folder)) for name, folder in site_shows.items()}
    for name, result in made.items():
        assert result.plan is not None and not result.failures, (name, result.failures)
    return made


@pytest.fixture(scope="session")
def served(site_shows):
    """`panelpress serve` of each of `site_shows`, started on first use: {name: its address}."""
    from tests.browser import Served

    running: dict[str, Served] = {}

    class Servers(dict):
        def __missing__(self, name: str) -> str:
            running[name] = Served(site_shows[name])
            self[name] = running[name].url
            return self[name]

    yield Servers()
    for server in running.values():
        assert server.stop() == 0, "".join(server.output)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (skipped with how to install it when missing)."""
    from tests.browser import CHROMIUM_ARGS, chromium_or_skip

    path = chromium_or_skip()
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is missing: pip install -e '.[test]'")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()
