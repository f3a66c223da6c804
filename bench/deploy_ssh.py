"""Benchmark: uploading a site to an SSH host with `targets/ssh.py`, over SFTP and over rsync, against OpenSSH's own
`sftp` program putting the same files over one connection (the floor of what SFTP costs on this machine).

The host is Debian's `sshd` on 127.0.0.1 with keys of its own (as in tests/test_deploy_ssh.py), so the figures are the
CPU cost of each way on loopback, not a network's: a one-hour episode (60 MB) and 200 pages of 20 KB, each into an
empty folder; then a resumed upload of the episode (half of it left by an interrupted upload: read back and hashed,
then the rest sent) against sending it whole.

    .venv/bin/python bench/deploy_ssh.py
    .venv/bin/python bench/deploy_ssh.py --megabytes 20 --pages 50   # a shorter look

Needs openssh-server (and rsync for the rsync row) and root (sshd's /run/sshd), as the tests do.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.targets.remote import Headers
from pipeline.targets.ssh import PART_SUFFIX, SSH_CONFIG_ENV, open_ssh
from tests.test_deploy_ssh import _sshd, _url

HEADERS = Headers("audio/mpeg", "public, max-age=86400")


def _files(folder: Path, megabytes: int, pages: int) -> list[tuple[str, Path]]:
    episode = folder / "episode.mp3"
    episode.write_bytes(os.urandom(megabytes * 1_000_000))
    files = [("media/episode.mp3", episode)]
    for number in range(pages):
        page = folder / f"page{number}.html"
        page.write_bytes(os.urandom(20_000))
        files.append((f"episodes/page{number}.html", page))
    return files


def _timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _store_upload(url: str, files: list[tuple[str, Path]], rsync: bool) -> None:
    store = open_ssh(url, rsync=rsync)
    try:
        for key, source in files:
            store.put(key, source, HEADERS, lambda n: None)
    finally:
        store.close()


def _sftp_program(server, config: Path, root: Path, files: list[tuple[str, Path]]) -> None:
    batch = ["-mkdir media", "-mkdir episodes"] + [f'put "{source}" "{key}"' for key, source in files]
    subprocess.run(
        ["sftp", "-F", str(config), "-q", "-b", "-", "-P", str(server.port), f"{getpass.getuser()}@127.0.0.1:{root}"],
        input="\n".join(batch),
        text=True,
        check=True,
        capture_output=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--megabytes", type=int, default=60)
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        (work / "sshd").mkdir()
        (work / "in").mkdir()
        files = _files(work / "in", args.megabytes, args.pages)
        total = sum(source.stat().st_size for _, source in files)
        with _sshd(work / "sshd") as server:
            config = server.client_config("bench", server.trusted())
            os.environ[SSH_CONFIG_ENV] = str(config)
            os.environ.pop("SSH_AUTH_SOCK", None)
            print(f"{len(files)} files, {total / 1e6:.0f} MB, load average {os.getloadavg()[0]:.2f}")
            ways = {
                "panelpress, SFTP": lambda root: _store_upload(_url(server, root), files, rsync=False),
                "panelpress, rsync": lambda root: _store_upload(_url(server, root), files, rsync=True),
                "OpenSSH sftp -b": lambda root: _sftp_program(server, config, root, files),
            }
            if shutil.which("rsync") is None:
                del ways["panelpress, rsync"]
            for name, way in ways.items():
                root = work / name.replace(" ", "").replace(",", "-")
                root.mkdir()
                seconds = _timed(lambda way=way, root=root: way(root))
                print(f"  {name:20} {seconds:6.2f} s  {total / 1e6 / seconds:6.1f} MB/s")
            episode = files[0][1]
            data = episode.read_bytes()
            for name, left in (("whole", 0), ("resumed from half", len(data) // 2)):
                root = work / f"resume-{left}"
                (root / "media").mkdir(parents=True)
                if left:
                    part = f".episode.mp3.{hashlib.sha256(data).hexdigest()[:16]}{PART_SUFFIX}"
                    (root / "media" / part).write_bytes(data[:left])
                seconds = _timed(lambda root=root: _store_upload(_url(server, root), files[:1], rsync=False))
                print(f"  episode over SFTP, {name:18} {seconds:6.2f} s")
            print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
