"""The deploy target: a built site folder copied to a remote store, safely.

The destination's state is the manifest the last deploy kept there (`.panelpress-deploy.json`: key → sha256 and
size). A deploy uploads what changed by content, and deletes only keys that manifest lists and the new site does not:
nothing else under the prefix is ever touched (the bucket may hold other things).

Order, so that a deploy killed at any instant leaves the public feed old or new, and every enclosure it names whole:
the manifest first records the site being deployed (`pending`), then media go up, then pages and the rest, the feed
last; only then are the files the new site dropped deleted, and the manifest written without `pending`. The next
deploy reads a `pending` manifest as a deploy to finish: what it may have left is deleted when dropped, and a file
already whole at the destination is not sent again.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .. import layout
from ..errors import PublishError
from ..progress import Reporter
from .folder import Folder
from .remote import FILES, PAGES, Headers, Store, open_store

# A deploy records what it has put whole after this many bytes or files: one cut short resends at most that much.
CHECKPOINT_BYTES = 32 * 1024 * 1024
CHECKPOINT_FILES = 200  # deletions a deploy makes without --allow-remove
SHORT = "public, max-age=300"  # the feed and pages: apps and readers see a new episode within minutes
MODERATE = "public, max-age=86400"  # media and art whose address stays when their bytes change (a remaster)
LONG = "public, max-age=31536000, immutable"  # for a file whose address changes with its bytes

FEEDS = (layout.FEED_FILE, layout.CLEAN_FEED_FILE)
MEDIA, REST, FEED = 0, 1, 2  # the order kinds of files go up in


@dataclass(frozen=True)
class Entry:
    """A file as deployed: its content's checksum and its size."""

    sha256: str
    size: int


@dataclass(frozen=True)
class State:
    """What the deploys so far left at a destination: the site the last complete one put there and, after deploys cut
    short, the keys they may have changed (`dirty`: content unknown) and those known whole since (`done`)."""

    files: Mapping[str, Entry] = field(default_factory=dict)
    dirty: frozenset[str] = frozenset()
    done: Mapping[str, Entry] = field(default_factory=dict)

    @property
    def cut_short(self) -> bool:
        return bool(self.dirty or self.done)


@dataclass(frozen=True)
class Plan:
    """What a deploy does: keys to upload in order, keys to delete, and the site it leaves."""

    site: Mapping[str, Entry]
    upload: tuple[str, ...]
    delete: tuple[str, ...]
    unchanged: int
    resumed: bool  # the last deploy was cut short: this one finishes it

    @property
    def bytes(self) -> int:
        return sum(self.site[key].size for key in self.upload)

    @property
    def empty(self) -> bool:
        return not self.upload and not self.delete and not self.resumed


@dataclass(frozen=True)
class Summary:
    """What a deploy did."""

    uploaded: int
    bytes: int
    deleted: int
    unchanged: int
    seconds: float
    notes: tuple[str, ...] = ()


def kind(key: str) -> int:
    """When a file goes up: media first, the feed last (so that the feed never names audio not yet whole)."""
    if key.startswith(layout.MEDIA_DIR + "/"):
        return MEDIA
    return FEED if key in FEEDS else REST


def headers(key: str, moved_to: str = "") -> Headers:
    """The content type and cache rule a file is served with (`moved_to`: the feed's new address after a move)."""
    content_type = layout.served_type(key)
    if content_type.startswith(("text/html", "application/rss", "text/xsl")) or key.endswith((".vtt", ".srt", ".json")):
        cache = SHORT  # the feed, pages and what they name beside them change in place
    elif kind(key) == MEDIA or content_type.startswith("image/"):
        cache = MODERATE  # the enclosure's address never moves, even when a remaster changes its bytes
    else:
        cache = "public, max-age=3600"  # the stylesheet and script: same address, new build
    return Headers(content_type, cache, moved_to if key == layout.FEED_FILE else "")


def local_site(folder: Path) -> dict[str, Entry]:
    """The files of the site folder's last finished build (its manifest), each checked to be as the build wrote it;
    PublishError with the fix when there is no finished build, or a file changed since."""
    site = Folder(folder)
    manifest = site.manifest()
    if manifest.pending or not manifest.plan or layout.FEED_FILE not in manifest.files:
        raise PublishError(
            folder,
            "holds no finished build" + (" (one was cut short)" if manifest.pending else ""),
            "run `panelpress build`, then deploy",
        )
    files = {}
    for rel, written in manifest.files.items():
        if site.checksum(rel) != written.sha256:
            raise PublishError(
                folder / rel, "changed (or went) since the build", "run `panelpress build` again, then deploy"
            )
        files[rel] = Entry(written.sha256, written.size if written.size >= 0 else (folder / rel).stat().st_size)
    return files


def remote_state(store: Store) -> State:
    """The manifest the last deploy kept at the destination (an empty state for a first deploy)."""
    data = store.read(layout.DEPLOY_MANIFEST)
    if data is None:
        return State()
    try:
        parsed = json.loads(data)
        pending = parsed.get("pending", {})
        return State(
            files=_entries(parsed["files"]),
            dirty=frozenset(str(k) for k in pending.get("dirty", ())),
            done=_entries(pending.get("done", {})),
        )
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as err:
        raise PublishError(
            None,
            f"{store.url.rstrip('/')}/{layout.DEPLOY_MANIFEST}: the deploy manifest is damaged ({err})",
            "delete it: the next deploy then uploads the whole site again and deletes nothing",
        ) from err


def _entries(data: Mapping) -> dict[str, Entry]:
    return {str(k): Entry(str(v[0]), int(v[1])) for k, v in data.items()}


def plan(site: Mapping[str, Entry], state: State, size: Callable[[str], int | None]) -> Plan:
    """What to upload (changed content, in the order media → rest → feed) and delete (what the deploys so far put
    there, or may have, and the site no longer has). A key a deploy cut short may have changed goes up again, unless
    it recorded it whole since and the destination still has it at its size (`size(key)`, asked only then)."""
    upload, unchanged = [], 0
    for key in sorted(site, key=lambda k: (kind(k), k)):
        entry = site[key]
        if key in state.done:
            same = state.done[key] == entry and size(key) == entry.size
        else:
            same = key not in state.dirty and state.files.get(key) == entry
        if same:
            unchanged += 1
        else:
            upload.append(key)
    gone = (set(state.files) | state.dirty | set(state.done)) - set(site)
    return Plan(dict(site), tuple(upload), tuple(sorted(gone)), unchanged, state.cut_short)


def _manifest(files: Mapping[str, Entry], dirty: frozenset[str] | None = None, done: Mapping[str, Entry] = {}) -> bytes:
    data: dict = {"files": _listed(files)}
    if dirty is not None:  # a deploy in progress: what it may change, and what it has put whole so far
        data["pending"] = {"dirty": sorted(dirty), "done": _listed(done)}
    return json.dumps(data, indent=1, sort_keys=True).encode()


def _listed(files: Mapping[str, Entry]) -> dict[str, list]:
    return {k: [e.sha256, e.size] for k, e in sorted(files.items())}


MANIFEST_HEADERS = Headers("application/json", "no-store")


def redirects(site_url: str, new_feed_url: str) -> str:
    """A Pages host's `_redirects` (Netlify, Cloudflare Pages): the old feed's path to the new address, permanently."""
    return f"{layout.path_prefix(site_url)}{layout.FEED_FILE} {new_feed_url} 301\n"


def media_moved(store: Store, site_url: str, media_url: str) -> str:
    """How the old host sends requests for the audio it served to `media_url` once the media moved there, in the
    destination's own words: a `_redirects` line (Pages), the web server's lines (SSH), an S3 website routing rule."""
    old = layout.path_prefix(site_url) + layout.MEDIA_DIR + "/"
    new = layout.url(media_url, layout.MEDIA_DIR + "/")
    if store.kind == PAGES:
        return f"{old}* {new}:splat 301\n"
    if store.kind == FILES:
        return f"nginx:  location ^~ {old} {{ rewrite ^{old}(.*)$ {new}$1 permanent; }}\nApache: RedirectMatch permanent ^{old}(.*)$ {new}$1"
    target = urlsplit(new)
    rule = {
        "Condition": {"KeyPrefixEquals": getattr(store, "prefix", "") + layout.MEDIA_DIR + "/"},
        "Redirect": {
            "Protocol": target.scheme,
            "HostName": target.netloc,
            "ReplaceKeyPrefixWith": target.path.lstrip("/"),
            "HttpRedirectCode": "301",
        },
    }
    return "S3 website RoutingRules (behind a CDN, a redirect rule of the CDN to the same effect):\n" + json.dumps(
        [rule]
    )


def server_snippet(site_url: str, new_feed_url: str) -> str:
    """What a host adds to their web server's configuration when the show moves (an SSH destination)."""
    path = layout.path_prefix(site_url) + layout.FEED_FILE
    return (
        f"nginx:  location = {path} {{ return 301 {new_feed_url}; }}\nApache: Redirect permanent {path} {new_feed_url}"
    )


CROSS_ORIGIN = (".json", ".vtt", ".srt", ".xml")  # what web players on other sites fetch: chapters, transcripts, feed


def cors_headers(site_url: str) -> str:
    """A Pages host's `_headers` (Netlify, Cloudflare Pages): the whole public site readable from any origin."""
    return f"{layout.path_prefix(site_url)}*\n  Access-Control-Allow-Origin: *\n"


def cors_snippet() -> str:
    """What a host adds to their web server's configuration so that web players can read the site (SSH)."""
    names = "|".join(suffix.lstrip(".") for suffix in CROSS_ORIGIN)
    return (
        f'nginx:  location ~* \\.({names})$ {{ add_header Access-Control-Allow-Origin "*"; }}\n'
        f'Apache: <FilesMatch "\\.({names})$"> Header set Access-Control-Allow-Origin "*" </FilesMatch>'
    )


def apply(
    plan_: Plan,
    store: Store,
    folder: Path,
    state: State,
    reporter: Reporter,
    moved_to: str = "",
    site_url: str = "",
    said: Callable[[str], None] = lambda line: None,
    keep: bool = False,
    label: str = "deploy",
    media_url: str = "",
) -> Summary:
    """Carry out a plan: pending manifest, uploads (media, rest, feed), deletions, the manifest of the new site.
    `said` is told of each file sent or deleted (a log's lines; a terminal shows the reporter's bar, `label`, instead).
    `keep`: the media destination, whose files the old feed still names: the deletions wait (`drop` makes them once
    the new feed is up); its manifest lists them as still to delete, so that a deploy cut short before then makes
    them the next time. `media_url`: the media are served from there (`[deploy] media_to`), so the audio this
    destination served before is redirected there."""
    began = time.monotonic()
    notes: list[str] = []
    extra: dict[str, bytes] = {}
    if store.kind == PAGES and (moved_to or media_url):
        extra[layout.REDIRECTS] = (
            (redirects(site_url, moved_to) if moved_to else "")
            + (media_moved(store, site_url, media_url) if media_url else "")
        ).encode()
    elif media_url and any(kind(key) == MEDIA for key in plan_.delete):
        notes.append(
            f"the audio moved to {media_url}: redirect its old addresses there, so that apps that have not read the "
            f"new feed yet still find it\n{media_moved(store, site_url, media_url)}"
        )
    if moved_to and store.kind == FILES:
        notes.append(
            "the show moved: add this redirect to the web server's configuration\n" + server_snippet(site_url, moved_to)
        )
    notes.extend(_cross_origin(store, state, site_url, extra))
    if plan_.empty and not any(store.read(k) != v for k, v in extra.items()):
        store.finish("panelpress deploy: no change")
        return Summary(0, 0, 0, plan_.unchanged, time.monotonic() - began, tuple(notes))
    # Before anything changes: every key this deploy may change is marked, so that a deploy cut short is known and
    # finished by the next; what goes up whole is recorded now and then, so that the next need not send it again.
    dirty = state.dirty | set(state.done) | set(plan_.upload) | set(plan_.delete)
    done = {k: e for k, e in state.done.items() if k not in plan_.upload and k not in plan_.delete}
    store.put_bytes(layout.DEPLOY_MANIFEST, _manifest(state.files, frozenset(dirty), done), MANIFEST_HEADERS)
    total = plan_.bytes
    progress = reporter.task(label, total or 1)
    guard = threading.Lock()  # files of one kind go up side by side
    sent = unrecorded = count = 0

    def told(n: int) -> None:
        nonlocal sent
        with guard:
            sent += n
            progress(min(sent, total))

    def one(key: str) -> None:
        nonlocal unrecorded, count
        store.put(key, folder / key, headers(key, moved_to), told)
        with guard:
            done[key] = plan_.site[key]
            unrecorded, count = unrecorded + plan_.site[key].size, count + 1
            said(f"uploaded {key}")
            if unrecorded >= CHECKPOINT_BYTES or count % CHECKPOINT_FILES == 0:
                store.put_bytes(
                    layout.DEPLOY_MANIFEST, _manifest(state.files, frozenset(dirty), done), MANIFEST_HEADERS
                )
                unrecorded = 0

    workers = max(1, getattr(store, "parallel", 1))
    for group in (MEDIA, REST):  # every file of a kind is up before the next kind starts
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(one, [key for key in plan_.upload if kind(key) == group]))
    for name, data in extra.items():  # a move's redirect file, just before the feed
        store.put_bytes(name, data, headers(name))
    for key in plan_.upload:
        if kind(key) == FEED:
            one(key)
    progress(total or 1)
    reporter.finish(label)
    if keep and plan_.delete:
        store.put_bytes(layout.DEPLOY_MANIFEST, _manifest(plan_.site, frozenset(plan_.delete)), MANIFEST_HEADERS)
        store.finish(f"panelpress deploy: {len(plan_.upload)} uploaded, {plan_.unchanged} unchanged")
        return Summary(len(plan_.upload), plan_.bytes, 0, plan_.unchanged, time.monotonic() - began, tuple(notes))
    for key in plan_.delete:
        store.delete(key)
        said(f"deleted {key}")
    store.put_bytes(layout.DEPLOY_MANIFEST, _manifest(plan_.site), MANIFEST_HEADERS)
    store.finish(
        f"panelpress deploy: {len(plan_.upload)} uploaded, {len(plan_.delete)} deleted, {plan_.unchanged} unchanged"
    )
    return Summary(
        len(plan_.upload), plan_.bytes, len(plan_.delete), plan_.unchanged, time.monotonic() - began, tuple(notes)
    )


def _cross_origin(store: Store, state: State, site_url: str, extra: dict[str, bytes]) -> list[str]:
    """Let web players on other sites read the chapters, transcripts and feed (CORS), as the store can: its own
    rule (a bucket), a `_headers` file (a Pages host: one the host wrote is kept), or a note for the host's web
    server on a first deploy (SSH); the notes for the summary."""
    if hasattr(store, "allow_cross_origin"):
        note = store.allow_cross_origin()
        return [note] if note else []
    if store.kind == PAGES:
        ours = cors_headers(site_url).encode()
        there = store.read(layout.HEADERS)
        if there is None or there == ours:
            extra[layout.HEADERS] = ours
            return []
        return [f"{layout.HEADERS} at {store.url} is the host's own, kept: add to it\n{ours.decode()}"]
    if store.kind == FILES and not state.files and not state.cut_short:
        return ["so that web players on other sites can read chapters and transcripts, add\n" + cors_snippet()]
    return []


def drop(plan_: Plan, store: Store, said: Callable[[str], None] = lambda line: None) -> int:
    """The deletions `apply(keep=True)` left, made once the new feed no longer names them; how many."""
    if not plan_.delete:
        return 0
    for key in plan_.delete:
        store.delete(key)
        said(f"deleted {key}")
    store.put_bytes(layout.DEPLOY_MANIFEST, _manifest(plan_.site), MANIFEST_HEADERS)
    store.finish(f"panelpress deploy: {len(plan_.delete)} deleted")
    return len(plan_.delete)


def split(site: Mapping[str, Entry], transcripts: bool) -> tuple[dict[str, Entry], dict[str, Entry]]:
    """The site in two for `[deploy] media_to`: the media (layout.is_media) and the rest, pages and feed."""
    media = {k: e for k, e in site.items() if layout.is_media(k, transcripts)}
    return media, {k: e for k, e in site.items() if k not in media}


@dataclass(frozen=True)
class Leg:
    """One destination of a deploy: its store, what the last deploy left there, and this deploy's plan."""

    url: str
    store: Store
    state: State
    plan: Plan
    media: bool  # the media destination ([deploy] media_to): first, its deletions after the feed's


def legs(site: Mapping[str, Entry], to: str, media_to: str, transcripts: bool, cache: Path) -> list[Leg]:
    """The destinations of a deploy, in the order they go up (the media's first), each planned against its own
    manifest; the caller closes their stores. Without `media_to`, one: the whole site to `to`."""
    parts = [(media_to, True), (to, False)] if media_to else [(to, False)]
    media, rest = split(site, transcripts) if media_to else ({}, dict(site))
    opened: list[Leg] = []
    try:
        for url, is_media in parts:
            store = open_store(url, cache)
            try:
                state = remote_state(store)
                opened.append(Leg(url, store, state, plan(media if is_media else rest, state, store.size), is_media))
            except BaseException:
                store.close()
                raise
    except BaseException:
        for leg in opened:
            leg.store.close()
        raise
    return opened


def refuse_deletes(plan_: Plan, max_deletes: int, url: str) -> None:
    """More deletions than `max_deletes`: PublishError before any write, naming a few and the way through."""
    if len(plan_.delete) > max_deletes:
        shown = ", ".join(plan_.delete[:5]) + (", …" if len(plan_.delete) > 5 else "")
        raise PublishError(
            None,
            f"deploy to {url} would delete {len(plan_.delete)} files ({shown}), more than [deploy] max_deletes = {max_deletes}; nothing was written",
            "check that this is the destination you meant, then deploy with --allow-remove",
        )
