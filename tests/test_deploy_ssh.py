"""The SSH destination of `panelpress deploy` against a real OpenSSH server on 127.0.0.1: Debian's `sshd` with a host
key, a user key and a known_hosts file of the test's own (handed to the store through PANELPRESS_SSH_CONFIG, so
nothing in ~/.ssh is read or touched), over SFTP and over rsync. Files go up whole under a temporary name and are
renamed into place; an interrupted upload resumes only from bytes it has verified; an unknown or changed host key is
refused; a server that says nothing ends the connection with a clear error."""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import os
import select
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from pipeline.cli import main
from pipeline.errors import PublishError
from pipeline.targets.remote import Headers
from pipeline.targets.ssh import PART_SUFFIX, RSYNC_PARTIAL_DIR, SSH_CONFIG_ENV, open_ssh
from tests import servers
from tests.conftest import write_notes, write_show

SSHD = shutil.which("sshd") or next((p for p in ("/usr/sbin/sshd",) if os.access(p, os.X_OK)), None)
INSTALL = "install it with `apt-get install openssh-server rsync` (.ci/run does)"
HEADERS = Headers("audio/mpeg", "public, max-age=31536000")
MODES = [pytest.param(False, id="sftp"), pytest.param(True, id="rsync")]


class Sshd:
    """A running sshd: its port, and the files a client needs to trust it and log in."""

    def __init__(self, folder: Path, port: int, host_key: Path, user_key: Path) -> None:
        self.folder, self.port, self.host_key, self.user_key = folder, port, host_key, user_key

    def client_config(self, name: str, known_hosts: str, extra: str = "") -> Path:
        """An ssh_config trusting what `known_hosts` holds (empty: nothing), logging in with the test's key only
        (`extra`: more options, first, so they win as a host's own would)."""
        known = self.folder / f"{name}.known_hosts"
        known.write_text(known_hosts, encoding="utf-8")
        config = self.folder / f"{name}.ssh_config"
        config.write_text(
            f"{extra}Host *\n"
            f"  UserKnownHostsFile {known}\n"
            "  GlobalKnownHostsFile /dev/null\n"
            f"  IdentityFile {self.user_key}\n"
            "  IdentitiesOnly yes\n"
            "  IdentityAgent none\n",
            encoding="utf-8",
        )
        return config

    def trusted(self) -> str:
        """The known_hosts line of this server's host key."""
        return f"[127.0.0.1]:{self.port} {self.host_key.with_suffix('.pub').read_text(encoding='utf-8')}"


def _keygen(path: Path) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "panelpress-test", "-f", str(path)], check=True
    )
    return path


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    with _sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@contextlib.contextmanager
def _sshd(folder: Path, extra: str = "") -> Iterator[Sshd]:
    """sshd on 127.0.0.1 with a host key, a user key and a config of its own in `folder` (`extra`: more lines)."""
    if SSHD is None or shutil.which("ssh") is None:
        pytest.skip(f"OpenSSH's sshd is not installed: {INSTALL}")
    host_key, user_key = _keygen(folder / "host_key"), _keygen(folder / "user_key")
    (folder / "authorized_keys").write_text(user_key.with_suffix(".pub").read_text(encoding="utf-8"), encoding="utf-8")
    # Debian's sshd insists on its privilege separation folder (the service makes it at boot)
    if not Path("/run/sshd").is_dir():
        try:
            Path("/run/sshd").mkdir(mode=0o755)
        except OSError:
            pytest.skip("sshd needs /run/sshd, which only root can make: run the tests as root (as .ci/run does)")
    for _attempt in range(5):  # the free port found may be taken by another process before sshd binds it
        port = _free_port()
        config = folder / "sshd_config"
        config.write_text(
            f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nPidFile none\n"
            f"AuthorizedKeysFile {folder / 'authorized_keys'}\nPermitRootLogin prohibit-password\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
            f"Subsystem sftp internal-sftp\nLogLevel INFO\n{extra}",
            encoding="utf-8",
        )
        process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)], stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
        )
        said = _wait_listening(process, port)
        if said is None:
            break
        process.wait()
    else:
        pytest.fail(f"sshd did not start: {said}")
    drained = threading.Thread(target=process.stderr.read, daemon=True)  # keep its log pipe from filling
    drained.start()
    try:
        yield Sshd(folder, port, host_key, user_key)
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_listening(process: subprocess.Popen, port: int) -> str | None:
    """None once sshd says it listens on `port`; what it said when it exits first (or says nothing for a minute)."""
    said = []
    end = time.monotonic() + 60
    while time.monotonic() < end:
        ready, _, _ = select.select([process.stderr], [], [], end - time.monotonic())
        if not ready:
            break
        line = process.stderr.readline()
        if not line:
            break
        said.append(line.strip())
        if f"listening on 127.0.0.1 port {port}" in line:
            return None
    process.kill()
    return " / ".join(said) or "nothing"


@pytest.fixture
def trusted(sshd, monkeypatch):
    monkeypatch.setenv(SSH_CONFIG_ENV, str(sshd.client_config("trusted", sshd.trusted())))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return sshd


def _url(sshd: Sshd, root: Path) -> str:
    return f"sftp://{getpass.getuser()}@127.0.0.1:{sshd.port}{root}"


def _need_rsync(rsync: bool) -> None:
    if rsync and shutil.which("rsync") is None:
        pytest.skip(f"rsync is not installed: {INSTALL}")


def _part(path: Path, data: bytes) -> Path:
    return path.with_name(f".{path.name}.{hashlib.sha256(data).hexdigest()[:16]}{PART_SUFFIX}")


@pytest.mark.parametrize("rsync", MODES)
def test_put_read_size_delete_round_trip_in_nested_folders(trusted, tmp_path, rsync):
    _need_rsync(rsync)
    root = tmp_path / "site"  # not there yet: the store makes it
    audio = tmp_path / "one.mp3"
    audio.write_bytes(os.urandom(3_000_000))
    told = []
    store = open_ssh(_url(trusted, root), rsync=rsync)
    try:
        assert store.rsync is rsync
        assert store.read(".panelpress-manifest.json") is None
        assert store.size("media/2026/one.mp3") is None
        store.put("media/2026/one.mp3", audio, HEADERS, told.append)
        store.put_bytes(".panelpress-manifest.json", b'{"files": {}}', Headers("application/json", "no-cache"))
        assert (root / "media" / "2026" / "one.mp3").read_bytes() == audio.read_bytes()
        assert sum(told) == audio.stat().st_size
        assert store.size("media/2026/one.mp3") == audio.stat().st_size
        assert store.read(".panelpress-manifest.json") == b'{"files": {}}'
        assert store.read("media/2026/one.mp3") == audio.read_bytes()  # larger than one request window of reads
        audio.write_bytes(b"a shorter edit")
        store.put("media/2026/one.mp3", audio, HEADERS, told.append)
        assert store.read("media/2026/one.mp3") == b"a shorter edit"
        (root / "blog.html").write_text("the blog's own", encoding="utf-8")
        store.delete("media/2026/one.mp3")
        store.delete("media/2026/one.mp3")  # missing already: fine
        store.delete("never/there.mp3")
        store.finish("deploy")
    finally:
        store.close()
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == [
        ".panelpress-manifest.json",
        "blog.html",
        "media",
        "media/2026",
    ], "only the named file was deleted, and no temporary file or partial folder was left"
    assert oct((root / ".panelpress-manifest.json").stat().st_mode & 0o044) == oct(0o044), "readable by a web server"


@pytest.mark.parametrize("rsync", MODES)
def test_a_replaced_file_is_old_or_new_whole_while_it_goes_up(trusted, tmp_path, rsync):
    _need_rsync(rsync)
    root = tmp_path / "site"
    root.mkdir()
    final = root / "feed.xml"
    old = b"<rss>old</rss>" * 1000
    final.write_bytes(old)
    new = os.urandom(3_000_000)
    source = tmp_path / "feed.xml"
    source.write_bytes(new)
    seen = []

    def look(n: int) -> None:
        # Told of bytes sent while the upload runs: the public name still holds the old file whole
        if final.read_bytes() == old:
            seen.append("old")
        else:
            seen.append("new" if final.read_bytes() == new else "partial")

    store = open_ssh(_url(trusted, root), rsync=rsync)
    try:
        store.put("feed.xml", source, HEADERS, look)
    finally:
        store.close()
    assert final.read_bytes() == new
    assert "partial" not in seen and seen[0] == "old"
    assert sorted(p.name for p in root.iterdir()) == ["feed.xml"]


def test_sftp_uploads_under_a_temporary_name_beside_the_file(trusted, tmp_path):
    root = tmp_path / "site"
    (root / "media").mkdir(parents=True)
    data = os.urandom(2_000_000)
    source = tmp_path / "one.mp3"
    source.write_bytes(data)
    part = _part(root / "media" / "one.mp3", data)
    seen = []
    store = open_ssh(_url(trusted, root), rsync=False)
    try:
        store.put("media/one.mp3", source, HEADERS, lambda n: seen.append(part.exists()))
    finally:
        store.close()
    assert seen and all(seen), "every byte went to the temporary name"
    assert not part.exists() and (root / "media" / "one.mp3").read_bytes() == data


def test_an_interrupted_upload_resumes_from_verified_bytes_only(trusted, tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    data = os.urandom(1_500_000)
    source = tmp_path / "big.mp3"
    source.write_bytes(data)
    part = _part(root / "big.mp3", data)
    store = open_ssh(_url(trusted, root), rsync=False)
    try:
        part.write_bytes(data[:1_000_000])  # what an upload cut off at 1 MB left
        told = []
        store.put("big.mp3", source, HEADERS, told.append)
        assert told[0] == 1_000_000, "the verified first megabyte counted as sent, not sent again"
        assert sum(told) == len(data)
        assert (root / "big.mp3").read_bytes() == data and not part.exists()

        part.write_bytes(b"\0" * 10 + data[10:1_000_000])  # same name, other bytes: never resumed
        told = []
        store.put("big.mp3", source, HEADERS, told.append)
        assert told[0] < 1_000_000 and sum(told) == len(data)
        assert (root / "big.mp3").read_bytes() == data and not part.exists()
    finally:
        store.close()


def test_rsync_resumes_the_file_an_interrupted_upload_kept_aside(trusted, tmp_path):
    _need_rsync(True)
    root = tmp_path / "site"
    root.mkdir()
    data = os.urandom(1_500_000)
    source = tmp_path / "big.mp3"
    source.write_bytes(data)
    (root / RSYNC_PARTIAL_DIR).mkdir()
    (root / RSYNC_PARTIAL_DIR / "big.mp3").write_bytes(data[:1_000_000])  # what an interrupted rsync keeps
    store = open_ssh(_url(trusted, root), rsync=True)
    try:
        store.put("big.mp3", source, HEADERS, lambda n: None)
    finally:
        store.close()
    assert (root / "big.mp3").read_bytes() == data
    assert not (root / RSYNC_PARTIAL_DIR / "big.mp3").exists()


def test_a_dropped_connection_is_one_line_and_the_next_deploy_resumes(trusted, tmp_path):
    root = tmp_path / "site"
    data = os.urandom(6_000_000)
    source = tmp_path / "big.mp3"
    source.write_bytes(data)
    store = open_ssh(_url(trusted, root), rsync=False)
    sent = []

    def cut(n: int) -> None:
        sent.append(n)
        if sum(sent) >= 1_000_000 and store._process is not None:
            store._process.kill()  # the link drops: ssh ends as it does when the network goes

    try:
        with pytest.raises(PublishError, match=r"the SSH connection to 127\.0\.0\.1 failed") as dropped:
            store.put("media/big.mp3", source, HEADERS, cut)
    finally:
        store.close()
    assert "\n" not in str(dropped.value) and "run `panelpress deploy` again" in str(dropped.value)
    assert not (root / "media" / "big.mp3").exists(), "no part of it under its public name"
    store = open_ssh(_url(trusted, root), rsync=False)
    told = []
    try:
        store.put("media/big.mp3", source, HEADERS, told.append)
    finally:
        store.close()
    assert told[0] >= 1_000_000, "the bytes the server had acknowledged were not sent again"
    assert (root / "media" / "big.mp3").read_bytes() == data


@contextlib.contextmanager
def _mounted(folder: Path, options: str) -> Iterator[Path]:
    """A tmpfs of its own at `folder` (a small disk to fill); skips where mounting is not allowed."""
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize("rsync", MODES)
def test_a_full_disk_is_named_and_the_old_file_stays(trusted, tmp_path, rsync):
    _need_rsync(rsync)
    source = tmp_path / "big.mp3"
    source.write_bytes(os.urandom(2_000_000))  # larger than RSYNC_FROM: rsync takes it in rsync mode
    with _mounted(tmp_path / "site", "size=512k") as root:
        (root / "big.mp3").write_bytes(b"the old episode")
        store = open_ssh(_url(trusted, root), rsync=rsync)
        try:
            with pytest.raises(PublishError, match=r"the disk of 127\.0\.0\.1 is full") as full:
                store.put("big.mp3", source, HEADERS, lambda n: None)
        finally:
            store.close()
        assert "free space on the host" in str(full.value) and "\n" not in str(full.value)
        assert (root / "big.mp3").read_bytes() == b"the old episode"


@pytest.mark.parametrize("rsync", MODES)
def test_a_folder_the_login_may_not_write_is_named(trusted, tmp_path, rsync):
    _need_rsync(rsync)
    root = tmp_path / "site"
    (root / "media").mkdir(parents=True)
    source = tmp_path / "one.mp3"
    source.write_bytes(os.urandom(2_000_000))
    # Immutable: refused even to root, which the tests run as (chmod would not stop it)
    if subprocess.run(["chattr", "+i", str(root / "media")], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here to make a folder no one may write")
    try:
        store = open_ssh(_url(trusted, root), rsync=rsync)
        try:
            with pytest.raises(
                PublishError, match=r"refused to write .*media/one\.mp3 \(permission denied\)"
            ) as denied:
                store.put("media/one.mp3", source, HEADERS, lambda n: None)
        finally:
            store.close()
    finally:
        subprocess.run(["chattr", "-i", str(root / "media")], check=True)
    assert "write access" in str(denied.value)
    assert list((root / "media").iterdir()) == []


def test_a_host_without_rsync_gets_the_files_over_sftp(tmp_path, monkeypatch):
    _need_rsync(True)
    (tmp_path / "sshd").mkdir()
    # Its sessions find no programs (rsync among them); its SFTP service is sshd's own
    with _sshd(tmp_path / "sshd", "SetEnv PATH=/nonexistent\n") as server:
        monkeypatch.setenv(SSH_CONFIG_ENV, str(server.client_config("trusted", server.trusted())))
        monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
        root = tmp_path / "site"
        source = tmp_path / "one.mp3"
        source.write_bytes(os.urandom(2_000_000))
        store = open_ssh(_url(server, root), rsync=True)
        try:
            store.put("media/one.mp3", source, HEADERS, lambda n: None)
            assert store.rsync is False
            store.put("media/two.mp3", source, HEADERS, lambda n: None)
        finally:
            store.close()
    assert (root / "media" / "one.mp3").read_bytes() == (root / "media" / "two.mp3").read_bytes() == source.read_bytes()


def test_a_link_out_of_the_folder_is_not_written_through(trusted, tmp_path):
    root, outside = tmp_path / "site", tmp_path / "elsewhere"
    root.mkdir()
    outside.mkdir()
    (root / "media").symlink_to(outside)
    (root / "inside").symlink_to(root / "real")
    (root / "real").mkdir()
    source = tmp_path / "one.mp3"
    source.write_bytes(b"audio")
    store = open_ssh(_url(trusted, root), rsync=False)
    try:
        with pytest.raises(PublishError, match="outside the deploy folder"):
            store.put("media/one.mp3", source, HEADERS, lambda n: None)
        with pytest.raises(PublishError, match="outside the deploy folder"):
            store.delete("media/keep.mp3")
        store.put("inside/one.mp3", source, HEADERS, lambda n: None)  # a link that stays inside is a folder
    finally:
        store.close()
    assert list(outside.iterdir()) == []
    assert (root / "real" / "one.mp3").read_bytes() == b"audio"


@pytest.mark.parametrize("rsync", MODES)
def test_a_link_at_a_files_place_is_replaced_not_written_through(trusted, tmp_path, rsync):
    _need_rsync(rsync)
    root, outside = tmp_path / "site", tmp_path / "elsewhere"
    (outside / "folder").mkdir(parents=True)
    (outside / "secret").write_bytes(b"not the site's")
    root.mkdir()
    (root / "feed.xml").symlink_to(outside / "folder")
    (root / "index.html").symlink_to(outside / "secret")
    source = tmp_path / "page"
    source.write_bytes(page := os.urandom(2_000_000))
    store = open_ssh(_url(trusted, root), rsync=rsync)
    try:
        store.put("feed.xml", source, HEADERS, lambda n: None)
        store.put("index.html", source, HEADERS, lambda n: None)
    finally:
        store.close()
    assert list((outside / "folder").iterdir()) == [] and (outside / "secret").read_bytes() == b"not the site's"
    for name in ("feed.xml", "index.html"):
        assert not (root / name).is_symlink() and (root / name).read_bytes() == page


def test_an_unknown_host_key_is_refused_and_nothing_is_written(sshd, tmp_path, monkeypatch):
    # The host's own config would take any new key: panelpress's command line overrides it
    config = sshd.client_config("unknown", "", extra="StrictHostKeyChecking accept-new\n")
    monkeypatch.setenv(SSH_CONFIG_ENV, str(config))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    root = tmp_path / "site"
    with pytest.raises(PublishError) as refused:
        open_ssh(_url(sshd, root), rsync=False)
    message = str(refused.value)
    assert f"[127.0.0.1]:{sshd.port}" in message and "not in known_hosts" in message
    assert "ssh-keyscan" in message and "fingerprint" in message
    assert "\n" not in message
    assert not root.exists()
    assert (sshd.folder / "unknown.known_hosts").read_text(encoding="utf-8") == "", "the key was not added"


def test_a_changed_host_key_is_refused(sshd, tmp_path, monkeypatch):
    other = _keygen(tmp_path / "other_key").with_suffix(".pub").read_text(encoding="utf-8")
    known = f"[127.0.0.1]:{sshd.port} {other}"
    monkeypatch.setenv(SSH_CONFIG_ENV, str(sshd.client_config("changed", known, extra="StrictHostKeyChecking no\n")))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    root = tmp_path / "site"
    with pytest.raises(PublishError, match="not the one in known_hosts") as refused:
        open_ssh(_url(sshd, root), rsync=False)
    assert "ssh-keygen -R" in str(refused.value)
    assert not root.exists()


def test_a_key_the_server_does_not_know_is_a_refused_login(trusted, tmp_path, monkeypatch):
    stranger = _keygen(tmp_path / "stranger")
    config = Path(os.environ[SSH_CONFIG_ENV]).read_text(encoding="utf-8").replace(str(trusted.user_key), str(stranger))
    (tmp_path / "stranger.ssh_config").write_text(config, encoding="utf-8")
    monkeypatch.setenv(SSH_CONFIG_ENV, str(tmp_path / "stranger.ssh_config"))
    with pytest.raises(PublishError, match="refused the login") as refused:
        open_ssh(_url(trusted, tmp_path / "site"), rsync=False)
    assert "ssh-add" in str(refused.value)


def test_a_closed_port_is_a_clear_error(tmp_path, monkeypatch):
    if shutil.which("ssh") is None:
        pytest.skip(f"OpenSSH's client is not installed: {INSTALL}")
    monkeypatch.setenv(SSH_CONFIG_ENV, "/dev/null")
    port = _free_port()
    with pytest.raises(PublishError, match=f"nothing listens for SSH at 127.0.0.1:{port}"):
        open_ssh(f"sftp://someone@127.0.0.1:{port}/site", rsync=False, deadline=5)


def test_a_silent_server_ends_the_connection_with_a_clear_error(tmp_path, monkeypatch):
    if shutil.which("ssh") is None:
        pytest.skip(f"OpenSSH's client is not installed: {INSTALL}")
    monkeypatch.setenv(SSH_CONFIG_ENV, "/dev/null")
    outcome = []
    with servers.raw(servers.silent) as server:

        def connect() -> None:
            try:
                open_ssh(f"sftp://someone@127.0.0.1:{server.port}/site", rsync=False, deadline=2)
            except PublishError as err:
                outcome.append(str(err))

        worker = threading.Thread(target=connect, daemon=True)
        worker.start()
        worker.join(timeout=120)  # a bound on a hang, not a timing: the deadline is 2 s
    assert not worker.is_alive(), "the connection hung past its deadline"
    assert outcome and "did not answer as an SSH server within 2 s" in outcome[0]


def test_urls_that_name_no_host_or_folder_are_refused():
    for url in (
        "sftp://host",
        "sftp:///var/www",
        "ssh://u@host/x",
        "sftp://u@host:99999/x",
        "sftp://u@h/a/../b",
        "sftp://-oProxyCommand=x/site",
    ):
        with pytest.raises(PublishError, match="sftp://"):
            open_ssh(url, rsync=False)


@pytest.mark.parametrize("scheme", ["sftp", "rsync"])
def test_panelpress_deploy_to_an_ssh_host_sends_the_site_then_only_what_changed(
    trusted, tmp_path, audio_dir, capsys, scheme
):
    """The whole command: a built show deployed to a folder on the SSH host, byte for byte, then an edit of one
    episode's notes sends its page and the feed again, and nothing under the folder that panelpress did not put
    there is touched."""
    _need_rsync(scheme == "rsync")
    root = tmp_path / "www"
    root.mkdir()
    (root / "blog.html").write_text("the blog's own", encoding="utf-8")
    show = write_show(tmp_path / "show")
    for day, slug in enumerate(("one", "two"), start=1):
        shutil.copy(audio_dir / "stereo.wav", show / "episodes" / f"{slug}.wav")
        write_notes(show, slug, f"title: Episode {slug}\ndate: 2026-01-{day:02d}", body=f"About {slug}.")
    url = _url(trusted, root).replace("sftp://", f"{scheme}://", 1)
    with (show / "panelpress.toml").open("a") as toml:
        toml.write(f'\n[deploy]\nto = "{url}"\n')
    assert main(["build", "--show", str(show)]) == 0
    capsys.readouterr()
    assert main(["deploy", "--show", str(show), "--no-verify"]) == 0
    first = capsys.readouterr()
    assert 'add_header Access-Control-Allow-Origin "*"' in first.out, first  # a first deploy says how to allow CORS
    site = show / "public"
    built = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file() and not p.name.startswith(".")}
    for rel in built:
        assert (root / rel).read_bytes() == (site / rel).read_bytes(), rel
    assert (root / "blog.html").read_text(encoding="utf-8") == "the blog's own"
    before = {rel: (site / rel).read_bytes() for rel in built}
    write_notes(show, "one", "title: Episode one, renamed\ndate: 2026-01-01", body="About one.")
    assert main(["build", "--show", str(show)]) == 0
    changed = {rel for rel in built if (site / rel).read_bytes() != before[rel]}
    assert {"feed.xml", "episodes/one.html", "media/one.mp3"} <= changed  # the title is in the MP3's tags too
    capsys.readouterr()
    assert main(["deploy", "--show", str(show), "--no-verify"]) == 0
    said = capsys.readouterr()
    sent = {line.removeprefix("uploaded ") for line in said.err.splitlines() if line.startswith("uploaded ")}
    assert sent == changed, said
    assert f"uploaded {len(changed)} files" in said.out and "Access-Control" not in said.out, said
    assert b"Episode one, renamed" in (root / "feed.xml").read_bytes()
    assert feedparser.parse((root / "feed.xml").read_bytes()).entries[-1].title == "Episode one, renamed"
