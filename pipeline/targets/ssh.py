"""An SSH host as a deploy destination: `sftp://USER@HOST[:PORT]/PATH`, through the system's OpenSSH client.

The connection is the host's own `ssh`: their `~/.ssh/config` (aliases, ProxyJump, IdentityFile), their agent and
keys, their `known_hosts`, with `BatchMode=yes` and `StrictHostKeyChecking=yes` forced on the command line, so an
unknown or changed host key is refused, never accepted, and no prompt can hang a deploy. Over it this module speaks
SFTP (version 3, the protocol OpenSSH's `sftp-server` and every common server speak) itself, which lets it check
every folder it writes through (no remote symlink out of PATH), upload to a temporary name beside the file and
rename it over the old one (`posix-rename@openssh.com`), resume a temporary file whose bytes it has verified by hash,
and tell a full disk from a refused permission. Where `rsync` is on PATH, files of a megabyte or more (the media) go up
with rsync over the same SSH connection (multiplexed: one handshake per deploy): its delta transfer resumes a partial
upload it kept aside (`--partial-dir`) and renames each file into place whole.

`PANELPRESS_SSH_CONFIG` names an ssh_config file to use instead of `~/.ssh/config` (`ssh -F`): the tests point it at
a known_hosts file and a key of their own, and so can a host who keeps deploy settings apart.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import select
import shlex
import shutil
import struct
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from ..errors import PublishError
from .remote import FILES, Headers

SSH_CONFIG_ENV = "PANELPRESS_SSH_CONFIG"
CONNECT_DEADLINE = 30.0  # seconds from starting ssh to a working SFTP session: a silent server must not hang a deploy
ALIVE_INTERVAL = 15  # seconds between keep-alives once connected; 4 unanswered and ssh gives up (a dropped link)
CHUNK = 32768  # bytes per SFTP read or write request (what OpenSSH's own client sends)
WINDOW = 64  # requests in flight at once: a 2 MiB window, so a far server is not paced by its round trips
# rsync starts a session and a process on the host per file (a fifth of a second on loopback): it earns that on media,
# where it resumes and sends deltas; smaller files (pages, images) go over the open SFTP session, many in flight
RSYNC_FROM = 1 << 20
PART_SUFFIX = ".panelpress-part"
RSYNC_PARTIAL_DIR = ".panelpress-rsync-partial"
FILE_MODE = 0o644  # served files: readable by the web server (the server's umask still applies)
DIR_MODE = 0o755

RETRY_FIX = "check the connection and run `panelpress deploy` again: what is up stays up, a large file resumes"

# SFTP v3 (draft-ietf-secsh-filexfer-02): packet types, open flags, attribute flags, status codes.
_INIT, _VERSION, _OPEN, _CLOSE, _READ, _WRITE, _LSTAT, _FSTAT = 1, 2, 3, 4, 5, 6, 7, 8
_REMOVE, _MKDIR, _REALPATH, _STAT, _RENAME = 13, 14, 16, 17, 18
_STATUS, _HANDLE, _DATA, _NAME, _ATTRS, _EXTENDED, _EXTENDED_REPLY = 101, 102, 103, 104, 105, 200, 201
_READ_FLAG, _WRITE_FLAG, _CREAT, _TRUNC = 0x01, 0x02, 0x08, 0x10
_SIZE, _UIDGID, _PERMISSIONS, _ACMODTIME, _EXTENDED_ATTRS = 0x01, 0x02, 0x04, 0x08, 0x80000000
_OK, _EOF, _NO_SUCH_FILE, _PERMISSION_DENIED, _FAILURE = 0, 1, 2, 3, 4
_S_IFMT, _S_IFDIR, _S_IFLNK = 0o170000, 0o040000, 0o120000


@dataclass(frozen=True)
class Address:
    """Where an `sftp://` URL points: the login, and the folder (absolute, or relative to the login's home)."""

    host: str
    user: str | None
    port: int | None
    path: str

    def login(self) -> str:
        """`ssh USER@HOST -p PORT` as the host would type it, for the fixes in messages."""
        port = f" -p {self.port}" if self.port else ""
        return f"ssh{port} {self.user + '@' if self.user else ''}{self.host}"

    def known_as(self) -> str:
        """The host's name in known_hosts (`[host]:port` off port 22)."""
        return f"[{self.host}]:{self.port}" if self.port and self.port != 22 else self.host


def parse(url: str) -> Address:
    """The address in an `sftp://USER@HOST[:PORT]/PATH` URL (`/~/PATH`: PATH in the login's home)."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    host = parts.hostname or ""
    # A name starting with "-" would reach ssh (through rsync, which adds no "--") as an option
    if (
        parts.scheme not in ("sftp", "rsync")
        or not host
        or host.startswith("-")
        or port == -1
        or parts.query
        or parts.fragment
    ):
        raise PublishError(None, f"{url}: not an SSH destination", "write it as sftp://USER@HOST[:PORT]/PATH")
    path = urllib.parse.unquote(parts.path)
    if path in ("/~", "/~/"):
        path = "."
    elif path.startswith("/~/"):
        path = path[3:].rstrip("/")
    else:
        path = path.rstrip("/")
    if not path or ".." in PurePosixPath(path).parts:
        raise PublishError(
            None, f"{url}: names no folder on the host", "add the folder: sftp://USER@HOST/var/www/site (or /~/site)"
        )
    user = urllib.parse.unquote(parts.username) if parts.username else None
    return Address(host, user, port, path)


def ssh_options(deadline: float) -> list[str]:
    """The `ssh` arguments every connection gets: the host's config (or PANELPRESS_SSH_CONFIG), never a prompt, never
    a host key accepted unseen, nothing forwarded."""
    config = os.environ.get(SSH_CONFIG_ENV)
    options = ["-F", config] if config else []
    for option in (
        "BatchMode=yes",
        "StrictHostKeyChecking=yes",
        f"ConnectTimeout={max(1, int(deadline))}",
        f"ServerAliveInterval={ALIVE_INTERVAL}",
        "ServerAliveCountMax=4",
        "ForwardAgent=no",
        "ForwardX11=no",
        "ClearAllForwardings=yes",
        "PermitLocalCommand=no",
    ):
        options += ["-o", option]
    return options


class _Status(Exception):
    """An SFTP request the server refused."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


class _Lost(Exception):
    """The ssh process ended (or said nothing in time)."""


@dataclass(frozen=True)
class _Attrs:
    size: int | None
    mode: int | None

    def is_link(self) -> bool:
        return self.mode is not None and self.mode & _S_IFMT == _S_IFLNK

    def is_dir(self) -> bool:
        return self.mode is not None and self.mode & _S_IFMT == _S_IFDIR


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def u32(self) -> int:
        (value,) = struct.unpack_from(">I", self.data, self.at)
        self.at += 4
        return value

    def u64(self) -> int:
        (value,) = struct.unpack_from(">Q", self.data, self.at)
        self.at += 8
        return value

    def string(self) -> bytes:
        length = self.u32()
        value = self.data[self.at : self.at + length]
        self.at += length
        return value

    def attrs(self) -> _Attrs:
        flags = self.u32()
        size = self.u64() if flags & _SIZE else None
        if flags & _UIDGID:
            self.at += 8
        mode = self.u32() if flags & _PERMISSIONS else None
        if flags & _ACMODTIME:
            self.at += 8
        if flags & _EXTENDED_ATTRS:
            for _ in range(self.u32()):
                self.string()
                self.string()
        return _Attrs(size, mode)


def _string(value: bytes | str) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return struct.pack(">I", len(data)) + data


def _mode_attrs(mode: int) -> bytes:
    return struct.pack(">II", _PERMISSIONS, mode)


class _Sftp:
    """An SFTP v3 client over the pipes of one `ssh -s … sftp` process."""

    def __init__(self, process: subprocess.Popen, deadline: float) -> None:
        self.process = process
        self.out = process.stdout.fileno()
        self.buffer = b""
        self.next_id = 0
        self.replies: dict[int, tuple[int, _Reader]] = {}
        self._write(struct.pack(">BI", _INIT, 3))
        kind, body = self._packet(time.monotonic() + deadline)
        if kind != _VERSION:
            raise _Lost(f"the server answered SFTP with packet type {kind}")
        body.u32()
        self.extensions: dict[bytes, bytes] = {}
        while body.at < len(body.data):
            name = body.string()
            self.extensions[name] = body.string()

    # --- the wire --------------------------------------------------------------------------------------------------

    def _write(self, payload: bytes) -> None:
        try:
            self.process.stdin.write(struct.pack(">I", len(payload)) + payload)
            self.process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError) as err:
            raise _Lost(str(err)) from err

    def _packet(self, deadline: float | None = None) -> tuple[int, _Reader]:
        while True:
            if len(self.buffer) >= 4:
                (length,) = struct.unpack_from(">I", self.buffer)
                if len(self.buffer) >= 4 + length:
                    data, self.buffer = self.buffer[4 : 4 + length], self.buffer[4 + length :]
                    return data[0], _Reader(data[1:])
            if deadline is not None:
                left = deadline - time.monotonic()
                ready, _, _ = select.select([self.out], [], [], max(0.0, left))
                if not ready:
                    raise _Lost("no answer in time")
            piece = os.read(self.out, 1 << 16)
            if not piece:
                raise _Lost("the connection closed")
            self.buffer += piece

    def send(self, kind: int, payload: bytes) -> int:
        """Send a request; its id."""
        self.next_id = (self.next_id + 1) & 0xFFFFFFFF
        self._write(struct.pack(">BI", kind, self.next_id) + payload)
        return self.next_id

    def reply(self, request: int) -> tuple[int, _Reader]:
        """The answer to one request (answers to others are kept for their turn)."""
        while request not in self.replies:
            kind, body = self._packet()
            self.replies[body.u32()] = (kind, body)
        return self.replies.pop(request)

    def call(self, kind: int, payload: bytes, want: int | None = None) -> _Reader:
        """Send and wait; a status other than OK raises, and so does an answer of another type than `want`."""
        answer, body = self.reply(self.send(kind, payload))
        if answer == _STATUS:
            code = body.u32()
            text = body.string().decode("utf-8", "replace")
            if code != _OK or want not in (None, _STATUS):
                raise _Status(code, text or f"status {code}")
        elif want is not None and answer != want:
            raise _Lost(f"the server answered with packet type {answer}")
        return body

    # --- operations ------------------------------------------------------------------------------------------------

    def lstat(self, path: str) -> _Attrs:
        return self.call(_LSTAT, _string(path), _ATTRS).attrs()

    def stat(self, path: str) -> _Attrs:
        return self.call(_STAT, _string(path), _ATTRS).attrs()

    def realpath(self, path: str) -> str:
        body = self.call(_REALPATH, _string(path), _NAME)
        body.u32()
        return body.string().decode("utf-8", "surrogateescape")

    def mkdir(self, path: str) -> None:
        self.call(_MKDIR, _string(path) + _mode_attrs(DIR_MODE), _STATUS)

    def remove(self, path: str) -> None:
        self.call(_REMOVE, _string(path), _STATUS)

    def open(self, path: str, flags: int, mode: int = FILE_MODE) -> bytes:
        return self.call(_OPEN, _string(path) + struct.pack(">I", flags) + _mode_attrs(mode), _HANDLE).string()

    def close(self, handle: bytes) -> None:
        self.call(_CLOSE, _string(handle), _STATUS)

    def fsync(self, handle: bytes) -> None:
        if b"fsync@openssh.com" in self.extensions:
            self.call(_EXTENDED, _string("fsync@openssh.com") + _string(handle), _STATUS)

    def replace(self, source: str, target: str) -> None:
        """Rename `source` over `target` in one step (posix-rename); without the extension, v3's rename, which refuses
        an existing target, after removing it."""
        if b"posix-rename@openssh.com" in self.extensions:
            self.call(_EXTENDED, _string("posix-rename@openssh.com") + _string(source) + _string(target), _STATUS)
            return
        with contextlib.suppress(_Status):
            self.remove(target)
        self.call(_RENAME, _string(source) + _string(target), _STATUS)

    def free_bytes(self, path: str) -> int | None:
        """Space left for the login on the file system of `path` (statvfs@openssh.com), None when unknown."""
        if b"statvfs@openssh.com" not in self.extensions:
            return None
        try:
            body = self.call(_EXTENDED, _string("statvfs@openssh.com") + _string(path), _EXTENDED_REPLY)
        except (_Status, _Lost):
            return None
        _bsize, frsize, _blocks, _bfree, bavail = (body.u64() for _ in range(5))
        return frsize * bavail

    def read_into(self, handle: bytes, sink: Callable[[bytes], None], start: int = 0, end: int | None = None) -> int:
        """Read from `start` to `end` (or the end of the file) into `sink`, WINDOW requests in flight; bytes read."""
        at, asked = start, start
        flight: list[tuple[int, int, int]] = []  # (request, offset, length) in the order sent
        done = False
        while True:
            while not done and len(flight) < WINDOW and (end is None or asked < end):
                length = CHUNK if end is None else min(CHUNK, end - asked)
                flight.append((self.send(_READ, _string(handle) + struct.pack(">QI", asked, length)), asked, length))
                asked += length
            if not flight:
                return at - start
            request, offset, length = flight.pop(0)
            kind, body = self.reply(request)
            if done or offset != at:
                continue  # after a short read or the end: answers to requests past it are dropped
            if kind == _STATUS:
                code = body.u32()
                if code != _EOF:
                    raise _Status(code, body.string().decode("utf-8", "replace"))
                done = True
                continue
            data = body.string()
            sink(data)
            at += len(data)
            if len(data) < length:
                # A short read (not the end): ask again from where it stopped, after the requests in flight
                for pending, _, _ in flight:
                    self.reply(pending)
                flight.clear()
                asked = at

    def write_from(self, handle: bytes, source: BinaryIO, start: int, progress: Callable[[int], None]) -> None:
        """Write `source` from `start` to its end at the same offsets, WINDOW requests in flight."""
        source.seek(start)
        at = start
        flight: list[tuple[int, int]] = []
        while True:
            while len(flight) < WINDOW:
                data = source.read(CHUNK)
                if not data:
                    break
                flight.append((self.send(_WRITE, _string(handle) + struct.pack(">Q", at) + _string(data)), len(data)))
                at += len(data)
            if not flight:
                return
            request, length = flight.pop(0)
            try:
                self.call_reply(request)
            except _Status:
                for pending, _ in flight:
                    with contextlib.suppress(_Status):
                        self.call_reply(pending)
                raise
            progress(length)

    def call_reply(self, request: int) -> None:
        kind, body = self.reply(request)
        if kind != _STATUS:
            raise _Lost(f"the server answered a write with packet type {kind}")
        code = body.u32()
        if code != _OK:
            raise _Status(code, body.string().decode("utf-8", "replace"))


class SshStore:
    """A folder on an SSH host: files put atomically (temporary name, then a rename), read, sized and deleted by key.
    Headers are not kept: a plain web server serves by file name (see the nginx/Apache snippet in the docs). One
    SFTP session, used by one thread at a time."""

    kind = FILES  # a move's redirect goes into the web server's configuration, which deploy prints

    def __init__(self, url: str, rsync: bool | None = None, deadline: float = CONNECT_DEADLINE) -> None:
        self.url = url
        self.address = parse(url)
        self.deadline = deadline
        self.rsync = shutil.which("rsync") is not None if rsync is None else rsync
        if self.rsync and shutil.which("rsync") is None:
            raise PublishError(
                None, f"{url}: rsync is not installed here", "install it (apt install rsync) or deploy with SFTP"
            )
        if shutil.which("ssh") is None:
            raise PublishError(
                None, f"{url}: no `ssh` client here", "install OpenSSH's client (apt install openssh-client)"
            )
        self._control = Path(tempfile.mkdtemp(prefix="pp-ssh-")) if self.rsync else None
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 (what ssh says, kept for the session; close() ends it)
        self._checked: set[str] = set()
        self._process: subprocess.Popen | None = None
        try:
            self._sftp = self._connect()
            self.root = self._open_root()
        except BaseException:
            self.close()
            raise

    # --- connecting ------------------------------------------------------------------------------------------------

    def _ssh(self) -> list[str]:
        command = ["ssh", *ssh_options(self.deadline)]
        if self._control is not None:
            command += ["-o", f"ControlPath={self._control / 'c'}"]
        if self.address.port:
            command += ["-p", str(self.address.port)]
        if self.address.user:
            command += ["-l", self.address.user]
        return command

    def _connect(self) -> _Sftp:
        command = self._ssh()
        if self._control is not None:
            command += ["-o", "ControlMaster=yes", "-o", "ControlPersist=no"]
        self._process = subprocess.Popen(
            [*command, "-T", "-x", "-s", "--", self.address.host, "sftp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            start_new_session=True,  # Ctrl-C reaches the deploy, which closes the session itself
        )
        try:
            return _Sftp(self._process, self.deadline)
        except _Lost as err:
            raise self._connection_error(str(err), connecting=True) from err

    def _said(self) -> str:
        self._errors.seek(0)
        return self._errors.read().decode("utf-8", "replace")

    def _connection_error(self, detail: str, connecting: bool = False) -> PublishError:
        """What went wrong with the connection, from what ssh said, as one line with its fix."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired, AttributeError):
            self._process.wait(timeout=5)
        said = self._said()
        address, url = self.address, self.url
        lines = [line.strip() for line in said.splitlines() if line.strip() and not line.startswith("@@@")]
        if "REMOTE HOST IDENTIFICATION HAS CHANGED" in said or ("Host key for" in said and "has changed" in said):
            return PublishError(
                None,
                f"{url}: the host key of {address.known_as()} is not the one in known_hosts; panelpress did not connect",
                f"if its administrator confirms a new key, `ssh-keygen -R '{address.known_as()}'`, then `{address.login()}` "
                "once and compare the fingerprint it shows with theirs; otherwise someone may be in the middle",
            )
        if "host key is known" in said or "Host key verification failed" in said:
            return PublishError(
                None,
                f"{url}: the host key of {address.known_as()} is not in known_hosts; panelpress never accepts one unseen",
                f"connect once with `{address.login()}` and compare the fingerprint it shows with the server's "
                "(`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` there), or add it with "
                f"`ssh-keyscan{' -p ' + str(address.port) if address.port else ''} {address.host} >> ~/.ssh/known_hosts` "
                "and check it the same way",
            )
        if "Permission denied" in said:
            return PublishError(
                None,
                f"{url}: {address.host} refused the login of {address.user or 'your user'} ({lines[-1] if lines else 'permission denied'})",
                f"load your key into the agent (`ssh-add`) or name it with IdentityFile in ~/.ssh/config, and check "
                f"it is in the user's authorized_keys; `{address.login()}` must work without a password",
            )
        if "subsystem request failed" in said:
            return PublishError(
                None,
                f"{url}: {address.host} has no SFTP service",
                "enable it in the server's sshd_config (`Subsystem sftp internal-sftp`)",
            )
        if "Connection refused" in said:
            return PublishError(
                None,
                f"{url}: nothing listens for SSH at {address.host}:{address.port or 22} (connection refused)",
                "check the host name and port in the URL (sftp://USER@HOST:PORT/PATH), then deploy again",
            )
        if "Could not resolve hostname" in said:
            return PublishError(
                None, f"{url}: no host is known by the name {address.host}", "check the host name in the URL"
            )
        if connecting and (not lines or "timed out" in said):
            return PublishError(
                None,
                f"{url}: {address.host}:{address.port or 22} did not answer as an SSH server within {self.deadline:g} s",
                "check the host name and port, and that a firewall lets SSH through; then deploy again",
            )
        reason = lines[-1] if lines else detail
        return PublishError(None, f"{url}: the SSH connection to {address.host} failed: {reason}", RETRY_FIX)

    def _open_root(self) -> str:
        path = self.address.path
        try:
            try:
                attrs = self._sftp.stat(path)
            except _Status as err:
                if err.code != _NO_SUCH_FILE:
                    raise
                self._make_folders(path)
                attrs = self._sftp.stat(path)
            if not attrs.is_dir():
                raise PublishError(None, f"{self.url}: {path} is a file on {self.address.host}", "name a folder")
            return self._sftp.realpath(path)
        except _Status as err:
            raise self._refused(err, path) from err
        except _Lost as err:
            raise self._connection_error(str(err)) from err

    def _make_folders(self, path: str) -> None:
        made = ""
        for part in PurePosixPath(path).parts:
            made = part if not made else f"{made.rstrip('/')}/{part}"
            try:
                self._sftp.stat(made)
            except _Status as err:
                if err.code != _NO_SUCH_FILE:
                    raise
                self._sftp.mkdir(made)

    # --- paths -----------------------------------------------------------------------------------------------------

    def _path(self, key: str) -> str:
        parts = key.split("/")
        if not key or key.startswith("/") or any(part in ("", ".", "..") for part in parts) or "\x00" in key:
            raise PublishError(None, f"{self.url}: {key!r} is not a file of the site", "report this as a bug")
        return f"{self.root.rstrip('/')}/{key}"

    def _folders(self, key: str, create: bool) -> bool:
        """Check (and with `create`, make) every folder between the root and `key`: each a real folder, or a link
        that stays inside the root. False when one is missing (nothing there to read or delete)."""
        folder = self.root.rstrip("/")
        for part in key.split("/")[:-1]:
            folder = f"{folder}/{part}"
            if folder in self._checked:
                continue
            try:
                attrs = self._sftp.lstat(folder)
            except _Status as err:
                if err.code != _NO_SUCH_FILE:
                    raise
                if not create:
                    return False
                self._sftp.mkdir(folder)
                self._checked.add(folder)
                continue
            if attrs.is_link():
                real = self._sftp.realpath(folder)
                if real != self.root and not real.startswith(self.root.rstrip("/") + "/"):
                    raise PublishError(
                        None,
                        f"{self.url}: {folder} is a link to {real}, outside the deploy folder; panelpress does not "
                        "write through it",
                        "remove the link on the host, or deploy to the folder it points to",
                    )
            elif not attrs.is_dir():
                raise PublishError(
                    None, f"{self.url}: {folder} is a file where the site needs a folder", "move it away on the host"
                )
            self._checked.add(folder)
        return True

    def _refused(self, err: _Status, path: str, remaining: int = 0) -> PublishError:
        """A refused SFTP request as one line: permission, a full disk, or what the server said."""
        host = self.address.host
        if err.code == _PERMISSION_DENIED:
            return PublishError(
                None,
                f"{self.url}: {host} refused to write {path} (permission denied)",
                f"give {self.address.user or 'the login'} write access to the folder on the host, then deploy again",
            )
        if err.code == _FAILURE:
            free = self._sftp.free_bytes(str(PurePosixPath(path).parent))
            if free is not None and free < max(remaining, 1 << 20):
                return PublishError(
                    None,
                    f"{self.url}: the disk of {host} is full ({free} bytes free) while writing {path}",
                    "free space on the host, then deploy again: the upload resumes where it stopped",
                )
        return PublishError(None, f"{self.url}: {host} refused {path}: {err.text}", RETRY_FIX)

    # --- the Store protocol ----------------------------------------------------------------------------------------

    def read(self, key: str) -> bytes | None:
        """A small file (the manifest) as it is at the destination; None when there is none."""
        path = self._path(key)
        try:
            if not self._folders(key, create=False):
                return None
            try:
                handle = self._sftp.open(path, _READ_FLAG)
            except _Status as err:
                if err.code == _NO_SUCH_FILE:
                    return None
                raise
            out = io.BytesIO()
            try:
                self._sftp.read_into(handle, out.write)
            finally:
                self._sftp.close(handle)
            return out.getvalue()
        except _Status as err:
            raise self._refused(err, path) from err
        except _Lost as err:
            raise self._connection_error(str(err)) from err

    def size(self, key: str) -> int | None:
        """The size of a file at the destination (None: there is none)."""
        path = self._path(key)
        try:
            if not self._folders(key, create=False):
                return None
            return self._sftp.stat(path).size
        except _Status as err:
            if err.code == _NO_SUCH_FILE:
                return None
            raise self._refused(err, path) from err
        except _Lost as err:
            raise self._connection_error(str(err)) from err

    def put(self, key: str, source: Path, headers: Headers, progress: Callable[[int], None]) -> None:
        """Upload a file under a temporary name beside its place, then rename it over the old one."""
        path = self._path(key)
        try:
            self._folders(key, create=True)
            # rsync would write into a folder, or through a link to one, found at the file's place: a link there is
            # replaced by the SFTP rename instead (a rename never follows it)
            if (
                self.rsync
                and source.stat().st_size >= RSYNC_FROM
                and self._plain_file_or_none(path)
                and self._put_rsync(path, source, progress)
            ):
                return
            size = source.stat().st_size
            with source.open("rb") as handle:
                self._put(path, handle, size, progress, durable=size >= RSYNC_FROM or key.endswith(".xml"))
        except _Status as err:
            raise self._refused(err, path, source.stat().st_size) from err
        except _Lost as err:
            raise self._connection_error(str(err)) from err

    def _plain_file_or_none(self, path: str) -> bool:
        try:
            attrs = self._sftp.lstat(path)
        except _Status as err:
            if err.code == _NO_SUCH_FILE:
                return True
            raise
        return not attrs.is_link() and not attrs.is_dir()

    def put_bytes(self, key: str, data: bytes, headers: Headers) -> None:
        """`put` for bytes made in memory (the manifest, a redirect file)."""
        path = self._path(key)
        try:
            self._folders(key, create=True)
            self._put(path, io.BytesIO(data), len(data), lambda n: None, durable=True)
        except _Status as err:
            raise self._refused(err, path, len(data)) from err
        except _Lost as err:
            raise self._connection_error(str(err)) from err

    def delete(self, key: str) -> None:
        """Remove one file the engine named (missing already: fine)."""
        path = self._path(key)
        try:
            if not self._folders(key, create=False):
                return
            self._sftp.remove(path)
        except _Status as err:
            if err.code != _NO_SUCH_FILE:
                raise self._refused(err, path) from err
        except _Lost as err:
            raise self._connection_error(str(err)) from err

    def finish(self, message: str) -> None:
        """Nothing to do: every file was in place when its put returned."""

    def close(self) -> None:
        """End the SFTP session and the ssh process (and with it the connection rsync shared)."""
        process, self._process = self._process, None
        if process is not None:
            with contextlib.suppress(OSError, ValueError):
                process.stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            with contextlib.suppress(OSError, ValueError):
                process.stdout.close()
        if self._control is not None:
            shutil.rmtree(self._control, ignore_errors=True)
            self._control = None
        with contextlib.suppress(OSError, ValueError):
            self._errors.close()

    # --- uploads ---------------------------------------------------------------------------------------------------

    def _put(self, path: str, source: BinaryIO, total: int, progress: Callable[[int], None], durable: bool) -> None:
        """Upload through a temporary file and a rename. `durable`: on the host's disk before the rename (fsync), for
        what must survive a power cut there whole (media, feeds, the manifest); pages skip its few milliseconds each
        (ext4 flushes a file renamed over another anyway, and the next deploy rewrites them)."""
        digest = _sha256(source)
        folder, name = path.rsplit("/", 1)
        # The temporary name carries the content's hash: a part left by an interrupted upload of these bytes is resumed
        # (once its own bytes are verified), one of other bytes never is.
        part = f"{folder}/.{name}.{digest[:16]}{PART_SUFFIX}"
        start = self._resumable(part, source, total)
        handle = self._sftp.open(part, _WRITE_FLAG | _CREAT | (0 if start else _TRUNC))
        try:
            if start:
                progress(start)
            self._sftp.write_from(handle, source, start, progress)
            if durable:
                self._sftp.fsync(handle)
        finally:
            with contextlib.suppress(_Status):
                self._sftp.close(handle)
        self._sftp.replace(part, path)

    def _resumable(self, part: str, source: BinaryIO, total: int) -> int:
        """How much of a part left by an interrupted upload can be kept: its size when its bytes are the source's
        first bytes (compared by SHA-256), else 0 (and the part is removed)."""
        try:
            attrs = self._sftp.lstat(part)
        except _Status as err:
            if err.code == _NO_SUCH_FILE:
                return 0
            raise
        have = attrs.size or 0
        if attrs.is_link() or attrs.is_dir() or have > total or not have:
            if not attrs.is_dir():
                self._sftp.remove(part)
            return 0
        remote = hashlib.sha256()
        handle = self._sftp.open(part, _READ_FLAG)
        try:
            read = self._sftp.read_into(handle, remote.update, 0, have)
        finally:
            self._sftp.close(handle)
        source.seek(0)
        local = hashlib.sha256()
        left = have
        while left:
            chunk = source.read(min(left, 1 << 20))
            local.update(chunk)
            left -= len(chunk)
        if read == have and remote.digest() == local.digest():
            return have
        self._sftp.remove(part)
        return 0

    def _put_rsync(self, path: str, source: Path, progress: Callable[[int], None]) -> bool:
        """Upload with rsync over the shared SSH connection; False when the host has no rsync (SFTP takes over)."""
        remote = f"[{self.address.host}]" if ":" in self.address.host else self.address.host
        command = [
            "rsync",
            "--ignore-times",  # the engine puts only what changed; rsync must not skip it on size and time
            "--no-perms",
            f"--chmod=F{FILE_MODE:o}",
            f"--partial-dir={RSYNC_PARTIAL_DIR}",  # an interrupted file waits there, not under its own name
            "--progress",
            "--protect-args",
            "-e",
            shlex.join([*self._ssh(), "-o", "ControlMaster=no"]),
            "--",
            str(source),
            f"{remote}:{path}",
        ]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True
        )
        sent, pending = 0, b""
        try:
            while piece := process.stdout.read1(1 << 14):
                pending += piece
                *lines, pending = re.split(rb"[\r\n]", pending)
                for line in lines:
                    if match := re.match(rb"\s*([\d,.]+)\s+\d+%", line):
                        now = int(re.sub(rb"[,.]", b"", match.group(1)))
                        if now > sent:
                            progress(now - sent)
                            sent = now
            said = process.stderr.read().decode("utf-8", "replace")
            code = process.wait()
        except BaseException:
            process.kill()
            process.wait()
            raise
        finally:
            process.stdout.close()
            process.stderr.close()
        if code == 0:
            if (size := source.stat().st_size) > sent:
                progress(size - sent)
            return True
        lines = [line.strip() for line in said.splitlines() if line.strip()]
        if code == 127 or "rsync: not found" in said or "command not found" in said:
            self.rsync = False  # no rsync on the host: SFTP for this file and the rest
            return False
        if "Permission denied" in said or "Operation not permitted" in said:
            raise PublishError(
                None,
                f"{self.url}: {self.address.host} refused to write {path} (permission denied)",
                f"give {self.address.user or 'the login'} write access to the folder on the host, then deploy again",
            )
        if "No space left" in said or "Disk quota exceeded" in said:
            raise PublishError(
                None,
                f"{self.url}: the disk of {self.address.host} is full while writing {path}",
                "free space on the host, then deploy again: the upload resumes where it stopped",
            )
        reason = next((line for line in lines if line.startswith("rsync")), lines[-1] if lines else f"exit {code}")
        raise PublishError(None, f"{self.url}: rsync could not upload {path}: {reason}", RETRY_FIX)


def _sha256(source: BinaryIO) -> str:
    source.seek(0)
    digest = hashlib.sha256()
    while chunk := source.read(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


def for_deploy(url: str, cache: Path) -> SshStore:
    """The store `remote.open_store` opens: `rsync://` asks for rsync, `sftp://` takes it where it is installed."""
    return open_ssh(url, rsync=True if urllib.parse.urlsplit(url).scheme.lower() == "rsync" else None)


def open_ssh(url: str, rsync: bool | None = None, deadline: float = CONNECT_DEADLINE) -> SshStore:
    """The store of an `sftp://USER@HOST[:PORT]/PATH` URL: rsync over SSH when `rsync` is on PATH here (or as `rsync`
    says), else SFTP; connected (host key checked, logged in) within `deadline` seconds or a PublishError."""
    return SshStore(url, rsync, deadline)
