"""The build, written once: discover → the per-episode map (cached) → guard → assemble → publish, as one transaction.

    recover       finish or undo what a killed build left (ledger write-ahead record, temporary files)
    discover      recordings paired with notes (starter notes for new recordings)
    map           each changed episode through `stages.STAGES`; unchanged ones come from the cache
    guard         GUIDs, URLs, dates and removals checked on the notes, before any audio work, and again after it
    assemble      every record + settings + ledger → the site plan (pure)
    publish       ledger (pending) → the plan's files → the feed → ledger (committed) → the engine's state

One build at a time per show and per site folder (a lock); one bad episode never stops the others.
"""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from . import cache, layout, lock, namespace_rules
from .config import LEDGER_NAME, Config
from .episode.discover import Recording, discover
from .errors import (
    CleanEditionError,
    ClipError,
    GuardError,
    Interrupted,
    NotesError,
    PanelpressError,
    PublishError,
    TranscriptError,
    unexpected,
)
from .files import file_sha256, sha256, write_atomic
from .progress import QuietReporter, Reporter
from .records import (
    Clip,
    EpisodeResult,
    Failure,
    Identity,
    Published,
    PublishReport,
    Remastered,
    SitePlan,
    Sound,
    Stamp,
)
from .show import guard, ledger
from .targets import seam

if TYPE_CHECKING:
    from .episode import stages
    from .show import assemble

FEED_ITEMS = "feed-items"  # what the cache keeps the published feed's items under (`Store.keep`)


@dataclass(frozen=True)
class BuildResult:
    """What a build did, for the summary."""

    site: Path
    published: tuple[Published, ...] = ()  # made (mastered, tagged or re-rendered) by this build
    unchanged: tuple[str, ...] = ()  # slugs published as before, from the cache
    skipped: tuple[tuple[str, str], ...] = ()  # (slug, why)
    failures: tuple[Failure, ...] = ()
    started_notes: tuple[Path, ...] = ()
    blocked: tuple[PanelpressError, ...] = ()  # guard errors: nothing was published
    kept: tuple[Published, ...] = ()  # published before, failed now: left in the feed as they were
    withheld: tuple[PanelpressError, ...] = ()  # files not published because they are wrong (a bad transcript)
    warnings: tuple[PanelpressError, ...] = ()  # published anyway, but the host should look (artwork, strong language)
    notes: tuple[str, ...] = ()  # what the build did besides (recovered a killed publish, adopted files)
    report: PublishReport | None = None  # None: the site was already as it should be
    plan: SitePlan | None = None  # a preview's site, as it would be published
    remastered: tuple[Remastered, ...] = ()  # a remaster: every episode's sound, as it was and as it is now
    episodes: tuple[EpisodeResult, ...] = ()  # what this build made of each episode it made again (the studio)
    clips_dir: Path | None = None  # [clips] publish = false: where the clips are kept for the host to upload

    @property
    def feed_path(self) -> Path:
        return self.site / layout.FEED_FILE

    @property
    def index_path(self) -> Path:
        return self.site / layout.INDEX_PAGE

    @property
    def clips(self) -> tuple[Clip, ...]:
        """The clips of the episodes this build made (made now, or taken from the cache)."""
        return tuple(clip for item in self.published for clip in item.clips)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.blocked and not self.withheld


def build(
    config: Config,
    reporter: Reporter | None = None,
    now: datetime | None = None,
    allow: guard.Allow | None = None,
    wait: bool = True,
    notify: bool = True,
    remaster: bool = False,
) -> BuildResult:
    """Build and publish a show; one bad episode never stops the others. Holds the show's and the site's locks.
    `notify`: tell the show's hubs and Podcast Index when the published feed changed (`[notify]`). `remaster`: make
    every episode's audio again, whatever the cache holds (after an ffmpeg upgrade, say), and report what changed."""
    reporter = reporter or QuietReporter()
    ready(config)
    with (
        lock.hold(lock.show_lock(config), "this show", wait, reporter.note),
        lock.hold_folder(lock.site_lock(config), str(config.output_dir), wait, reporter.note),
        cache.thawed(),
    ):
        return _Build(
            config,
            reporter,
            now or datetime.now(UTC),
            allow or guard.Allow(),
            notify=notify,
            remaster=remaster,
        ).run()


def ready(config: Config, publish: bool = True) -> None:
    """Refuse, before any work and writing nothing, a build whose folders cannot be written (or made): the cache,
    and to publish, the show folder (its ledger) and the site folder (and a blog's). PublishError names the folder
    and the fix."""
    lock.writable(config.cache_dir, "the cache folder", lock.CACHE)
    if publish:
        lock.writable(config.root, "the show folder", LEDGER)
        seam.for_config(config).check()


DRAFT_FIX = "the feed carries the draft this time; build again to have it written (or put your transcript there)"
LEDGER = f"keep the show in a folder you can write: every publish records what it published in its {LEDGER_NAME}"


def plan(config: Config, book: ledger.Ledger | None = None, now: datetime | None = None) -> assemble.ShowPlan | None:
    """The site as the last build published it, made again from the cache and today's settings: every episode as it
    was last published (no recording read, no audio work; only the cache is written, with the artwork's icons).
    When nothing changed since that build, it is what a build would publish now. None when the cache holds no
    published build of the show. `book`: the ledger, when the caller read it already (else PanelpressError when it
    cannot be read)."""
    from .show import assemble

    book = ledger.load(config.ledger_path) if book is None else book
    store = show_store(config, book)
    state = store.state()
    chosen = []
    with cache.thawed():
        with cache.many():
            results = [(key, store.result(key)) for key, _ in state.published.values()]
        for key, result in results:
            if result is None or result.item is None:
                return None  # the cache lost it: only a build can make it again
            chosen.append(assemble.Episode(result.item, key))
        if not chosen:
            return None
        return assemble.assemble(config, chosen, book, now or datetime.now(UTC), gather(config, store))


def gather(config: Config, store: cache.Store, templates: Mapping[str, str] | None = None) -> assemble.Inputs:
    """What assemble needs of the disk: the template sources (`templates`, when they were read already), the
    artwork's checksum and icons (made once per artwork and kept in the cache), and the HTML earlier builds rendered."""
    from .show import artwork, assemble, pages

    path = config.artwork_path
    sha = cache.stamp(config.root, path).sha256 if path else ""
    width, icons = artwork.icons(path, sha, config.cache_dir) if path else (0, ())
    sources = pages.templates(config.templates_dir) if templates is None else templates
    return assemble.Inputs(sources, sha, width, icons, store.rendered(), store.pages())


def show_store(config: Config, book: ledger.Ledger) -> cache.Store:
    """The cache of a show, named by its podcast GUID (the ledger's, else the one its feed's address gives)."""
    return cache.Store(
        config.cache_dir, book.podcast_guid or namespace_rules.podcast_guid(layout.feed_url(config.site_url))
    )


def preview(config: Config, reporter: Reporter | None = None, now: datetime | None = None) -> BuildResult:
    """Make everything a build would publish, without publishing it: the site is the result's `plan` (what
    `panelpress serve` shows). Only the cache is written: not the site folder, the ledger or the show's notes; what
    the guard would refuse is reported as a warning."""
    reporter = reporter or QuietReporter()
    ready(config, publish=False)
    with lock.hold(lock.show_lock(config), "this show", True, reporter.note), cache.thawed():
        return _Build(config, reporter, now or datetime.now(UTC), guard.Allow(), preview=True).run()


@dataclass
class _Build:
    """One run of the build (its working state lives here, never in a shared dictionary)."""

    config: Config
    reporter: Reporter
    now: datetime
    allow: guard.Allow
    preview: bool = False
    notify: bool = False
    remaster: bool = False  # every episode through the audio work again, the cached audio ignored
    failures: list[Failure] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[PanelpressError] = field(default_factory=list)
    starting: list[Recording] = field(default_factory=list)  # recordings whose draft notes are still to be started
    unwritten: set[str] = field(default_factory=set)  # episodes whose drafts are still to be written (not cached)
    _identities: dict[tuple[str, str, str], Identity] = field(
        default_factory=dict
    )  # unchanged episodes', for the guard
    templates: Mapping[str, str] = field(
        default_factory=dict
    )  # the pages' template sources, read before the audio work
    artwork_sha: str = ""  # the artwork's checksum, once the site's inputs were gathered

    def run(self) -> BuildResult:
        config = self.config
        self.target = seam.for_config(config)
        self.book = self._recover()
        self.store = show_store(config, self.book)
        state = self.store.state()
        recordings, found = discover(config)
        self.failures += found
        if self.preview:  # a preview writes nothing into the show: recordings without notes wait for a build
            self.skipped += [
                (rec.slug, "no notes yet: `panelpress build` starts them")
                for rec in recordings
                if not rec.notes_path.exists()
            ]
            recordings = [rec for rec in recordings if rec.notes_path.exists()]
        started = []
        if not self.preview and self.config.build.publish_new:  # their notes are what they publish: made first
            recordings, started = self._start_notes(recordings)
        elif not self.preview:  # drafts for the host to review, written once the build is not refused
            self.starting = [rec for rec in recordings if not rec.notes_path.exists()]
            recordings = [rec for rec in recordings if rec not in self.starting]
        self.recordings = {rec.slug: rec for rec in recordings}
        context = (cache.episode_context(config), cache.location(config))
        self._listing = cache.Listing()  # the show's folders, each listed once while the cache is compared with them
        entries = (
            {}
            if self.remaster
            else {rec.slug: hit for rec in recordings if (hit := self._cached(rec, state, context)) is not None}
        )
        changed = [rec for rec in recordings if rec.slug not in entries]
        if (
            not changed and not self.failures and not self.preview
        ):  # perhaps nothing to do: then no notes are read, no ffmpeg starts
            published = {slug: (entry.result, entry.guid) for slug, entry in entries.items() if entry.guid}
            if _noop_key(config, self.book, published) == state.noop and self.target.is_current(state.plan):
                if dict(entries) != dict(state.entries):  # touched files: remember their new times
                    self.store.save(replace(state, entries=entries), {})
                return self._result({}, entries, started + self._start_drafts())
        return self._make(state, context, entries, changed, started)

    def _make(
        self,
        state: cache.State,
        context: tuple[str, str],
        entries: dict[str, cache.Entry],
        changed: list[Recording],
        started: list[Path],
    ) -> BuildResult:
        """The build proper: the changed episodes through the map, the guard, assemble, publish."""
        # The audio and rendering stack is imported only now: a build with nothing to do must start fast.
        from .episode import stages
        from .show import assemble, pages

        config, book = self.config, self.book
        # What a start over (an unchanged episode's record found damaged, below) goes back to.
        again = (dict(entries), list(changed), len(self.failures), len(self.notes), len(self.warnings))
        self.templates = pages.templates(config.templates_dir)  # read before any audio work: a bad one stops it
        # Unchanged episodes come from their cached records; one that cannot be read (a damaged cache) is made again.
        # Their summaries suffice while the index page shows only what a summary keeps (and the site is no blog's,
        # whose posts are rendered from the whole records): their pages and feed items are kept rendered.
        summaries = not config.blog.engine and pages.index_from_summaries(config.templates_dir)
        read = self.store.summary if summaries else self.store.result
        with cache.many():
            cached = {slug: read(entry.result) for slug, entry in entries.items()}
        for slug in [slug for slug, found in cached.items() if found is None]:
            del entries[slug], cached[slug]
            changed.append(self.recordings[slug])
        published_xml = self.target.published_feed()
        feed_items = self._feed_items(published_xml) if published_xml else []
        if (
            published_xml and not book.podcast_guid
        ):  # a lost ledger: the podcast GUID subscribers' apps know is in the feed
            book = self.book = replace(
                book,
                podcast_guid=guard.channel_guid(
                    guard.parse(config.output_dir / layout.FEED_FILE, published_xml).find("channel")
                ),
            )

        # The map, first part: the notes of every changed stages.
        guids_published = {guid for _, guid in state.published.values()}
        results: dict[str, EpisodeResult] = {}
        works: list[stages.Work] = []
        for rec in changed:
            old = state.entries.get(rec.slug)
            # Its files as its last build stamped them: those whose size and time did not move are not read again;
            # and with the same settings and panelpress, the audio it was mastered to (an edit of its words alone
            # tags that audio again).
            known = {stamp.path: stamp for stamp in old.inputs} if old and not self.remaster else {}
            same = known and (old.context, old.location) == context
            before = self.store.result(old.result) if same else None
            start = stages.Work(source=rec, known=known, before=before.mastered if before is not None else None)
            work = self._each(rec.slug, lambda start=start: stages.run(start, self._setup(), stages.NOTES))
            if work is None:
                continue
            if work.skipped:
                results[rec.slug] = stages.result(work, config)
            else:
                old = state.entries.get(rec.slug)
                unpublished = old.guid if old and old.guid not in guids_published else ""
                works.append(replace(work, guid=self._guid(rec.slug, unpublished, feed_items)))

        # The guard, before any audio work: everything it compares is known from the notes and the ledger.
        kept = self._kept(state)
        blocked = self._guard(
            book,
            feed_items,
            [stages.identity(config, work.source, work.guid, work.notes.date) for work in works],
            entries,
            kept,
        )
        if blocked and not self.preview:
            return self._result(results, entries, started, blocked=blocked)

        # The map, second part: the audio work of every changed episode, in parallel.
        for slug, result in self._map(works):
            results[slug] = self._keep_clean(result, state)
            if self._draft_blocked(results[slug]):
                self.unwritten.add(slug)  # made again by the next build, once its draft can be written
        remastered = self._remastered(state, results) if self.remaster else ()
        kept = self._kept(state)  # episodes that failed in the audio work may be kept too
        blocked = self._guard(book, feed_items, [r.item.identity for r in results.values() if r.item], entries, kept)
        if blocked and not self.preview:
            return self._result(results, entries, started, blocked=blocked)
        if self.preview:  # it writes no draft: their episodes are made again by a build
            results = {slug: self._write_drafts(result) for slug, result in results.items()}

        # Assemble and publish, unless the site already is what this build would make.
        kept_slugs = {item.episode.slug for item in kept}

        def records() -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
            """Every made episode's record key, and the episodes to publish: (record key, GUID) by slug."""
            keys = {slug: cache.digest(result) for slug, result in results.items()}
            entries.update({slug: _entry(context, keys[slug], result) for slug, result in results.items()})
            published = {slug: (entry.result, entry.guid) for slug, entry in entries.items() if entry.guid}
            published.update({slug: state.published[slug] for slug in kept_slugs})
            return keys, published

        keys, published = records()
        made = {**cached, **results}
        chosen = [
            assemble.Episode(
                made[slug].item,
                key,
                self._whole(slug, key) if summaries and slug in cached and slug not in results else None,
            )
            for slug, (key, _) in published.items()
            if slug not in kept_slugs
        ]
        chosen += [assemble.Episode(item, published[item.episode.slug][0]) for item in kept]
        try:
            plan = assemble.assemble(config, chosen, book, self.now, self._inputs())
        except _Damaged as damaged:
            # An unchanged episode's summary was read, but not its whole record, which one of its texts rendered anew
            # needs: a damaged cache is made again, never trusted nor an error. The build starts over with that
            # episode made again (from its cached audio), and says nothing twice.
            entries, changed, failed, noted, warned = again
            del self.failures[failed:], self.notes[noted:], self.warnings[warned:]
            del entries[damaged.slug]
            return self._make(state, context, entries, [*changed, self.recordings[damaged.slug]], started)
        if config.clean.edition:
            blocked = guard.check_clean(book, plan.ledger, self.allow)
            if blocked and not self.preview:
                return self._result(results, entries, started, blocked=blocked)
        if self.preview:
            kept_entries = {
                slug: entry for slug, entry in entries.items() if slug not in self.unwritten
            }  # made again by a build, which writes their drafts
            self.store.save(
                replace(state, entries={**state.entries, **kept_entries}),
                {keys[slug]: result for slug, result in results.items()},
                plan.html,
                plan.used,
                plan.pages,
            )
            return self._result(results, entries, started, kept=kept, plan=plan.site, refused=blocked)
        if self.starting or any(result.drafts for result in results.values()):
            # Drafts (notes to start, transcripts made) go into the show folder once publishing is sure to be
            # tried: a refused publish writes none. A made transcript's file becomes its episode's input, so the
            # records' keys are made again.
            self.target.check(plan.site)
            started += self._start_drafts()
            results = {slug: self._write_drafts(result) for slug, result in results.items()}
            keys, published = records()
        report = None
        if not (plan.ledger == book and self.target.is_current(plan.site.digest)):
            report = self._publish(book, plan)
            if self.notify and plan.site.feed_path in report.written:  # committed, and the feed changed: tell apps
                self._notify()
            self._keep_feed_items(plan)
        if config.clips.make and not config.clips.publish:
            try:
                self._keep_clips([episode.item for episode in chosen])
            except OSError as err:  # published all the same: the clips are for the host, not for listeners
                self.warnings.append(
                    PublishError(
                        config.clips_dir,
                        f"the clips could not be written there: {err.strerror or err}",
                        "check the folder's permissions and free space, then build again after a change",
                    )
                )
        saved = {slug: entry for slug, entry in entries.items() if slug not in self.unwritten}
        fresh = cache.State(
            saved, published, _noop_key(config, plan.ledger, published), plan.site.digest, state.checked_feed
        )
        if fresh != state:
            self.store.save(
                fresh, {keys[slug]: result for slug, result in results.items()}, plan.html, plan.used, plan.pages
            )
        return self._result(results, entries, started, kept=kept, report=report, remastered=remastered)

    # --- steps ----------------------------------------------------------------------------------------------------

    def _setup(self):
        from .episode.stages import Setup

        return Setup(config=self.config, now=self.now, fresh=self.remaster)

    def _recover(self) -> ledger.Ledger:
        """Finish or undo a publish that was killed: its feed written or not decides (the ledger's write-ahead record)."""
        config = self.config
        book = ledger.load(config.ledger_path)
        if book.pending is None and self.preview:
            return book
        cleaned = () if self.preview else self.target.recover()
        if book.pending is None:
            return book
        xml = self.target.published_feed()
        written = sha256(xml) if xml is not None else None
        recovered, withdrawing = ledger.recover(book, written)
        if self.preview:
            return recovered
        done = (
            "its feed was written, so it is complete"
            if written == book.pending.feed_sha256
            else "its feed was not written, so this build publishes again"
        )
        self.notes.append(
            f"an earlier build was interrupted while publishing; {done}"
            + (f" ({len(cleaned)} temporary files removed)" if cleaned else "")
        )
        self.allow = replace(
            self.allow, remove=self.allow.remove | withdrawing
        )  # what it was withdrawing, this build withdraws
        self._save_ledger(recovered)
        return recovered

    def _start_notes(self, recordings: list[Recording]) -> tuple[list[Recording], list[Path]]:
        """Starter notes for recordings without any, filled from their tags (never overwriting a file); the
        recordings that have notes now, and the notes started. One whose notes cannot be written fails, in words."""
        started, ready = [], []
        for rec in recordings:
            if rec.notes_path.exists():
                ready.append(rec)
                continue
            from .episode import starter

            info = _try_probe(rec.path)
            try:
                text = starter.starter_text(
                    rec.slug,
                    info,
                    self.now.date() if isinstance(self.now, datetime) else date.today(),
                    draft=not self.config.build.publish_new,
                    image=starter.save_cover(rec.notes_path, info),
                    tracks=tuple(p.name for p in rec.tracks),
                )
                if starter.write_starter(rec.notes_path, text):
                    started.append(rec.notes_path)
            except OSError as err:
                folder = rec.notes_path.parent
                self.failures.append(
                    Failure(
                        rec.slug,
                        NotesError(
                            rec.notes_path,
                            f"could not be started: {err.strerror or err}",
                            f"make {folder.name}/ writable (or write the notes yourself), then build again",
                        ),
                    )
                )
                continue
            ready.append(rec)
        return ready, started

    def _start_drafts(self) -> list[Path]:
        """The starter notes held back until the build was sure not to be refused (drafts: they publish nothing)."""
        if not self.starting:
            return []  # the stage list (and the audio stack it imports) is not loaded by a build with nothing to start
        from .episode.stages import draft_skipped

        ready, started = self._start_notes(self.starting)
        self.skipped += [(rec.slug, draft_skipped(rec.notes_path)) for rec in ready]
        self.starting = []
        return started

    def _cached(self, rec: Recording, state: cache.State, context: tuple[str, str]) -> cache.Entry | None:
        """The episode's cached entry while everything it was made from is unchanged (None: make it again)."""
        entry = state.entries.get(rec.slug)
        if entry is None or (entry.context, entry.location) != context:
            return None
        if entry.until and datetime.fromisoformat(entry.until) <= self.now:
            return None  # a scheduled episode that is due
        if entry.guid:
            published = self.book.episodes.get(rec.slug)
            if (published.guid if published else entry.guid) != entry.guid or (
                not published and rec.slug in state.published
            ):
                return None  # the ledger gives it another GUID (or the host removed its entry to get a new one)
        fresh = cache.unchanged(self.config.root, entry.inputs, self._listing)
        if fresh is None:
            return None
        return entry if fresh == entry.inputs else replace(entry, inputs=fresh)  # a copy only for a touched file

    def _feed_items(self, xml: bytes) -> list[guard.FeedItem]:
        """The items subscribers can reach from the published feed (`guard.published_items`), kept in the cache by the
        feed's checksum and its archives' fingerprints: a feed of a thousand items is parsed once, not on every edit."""
        config = self.config
        key = self._feed_key(xml)
        kept = self.store.kept(FEED_ITEMS, key)
        try:
            archives = [Stamp(*stamp) for stamp in kept["archives"]] if kept is not None else None
            if archives is not None and cache.unchanged(config.output_dir, archives) is not None:
                return [
                    guard.FeedItem(guid, title, url, length, datetime.fromisoformat(date) if date else None, link)
                    for guid, title, url, length, date, link in kept["items"]
                ]
        except (TypeError, ValueError, KeyError):
            pass  # written by other code: parsed again
        read: list[Path] = []
        items = guard.published_items(
            config.output_dir, config.site_url, config.output_dir / layout.FEED_FILE, xml, config.media_url, read
        )
        self._keep_items(key, items, [cache.stamp(config.output_dir, path) for path in read])
        return items

    def _keep_feed_items(self, plan: assemble.ShowPlan) -> None:
        """The items of the feed and archives just published, as `guard.published_items` reads them back from the
        files: the next build's guard takes them from the cache instead of parsing the feed it finds (this one)."""
        config, site = self.config, plan.site
        prefix, show_guid = config.deploy.prefix, plan.ledger.podcast_guid
        items = [
            guard.FeedItem(
                item.guid.strip(),
                item.episode.notes.title.strip(),
                layout.unmeasured(
                    layout.measured(prefix, item.media_url, show_guid), config.site_url, config.media_url
                ),
                item.media.length,
                item.pub_date.replace(microsecond=0),  # as RFC 2822 writes it
                item.page_url,
            )
            for item in plan.items
        ]
        archives = []
        for rel in sorted(rel for rel in site.files if rel.startswith(layout.ARCHIVE_DIR + "/")):
            try:
                info = os.stat(config.output_dir / rel)
            except OSError:
                return
            archives.append(Stamp(rel, info.st_size, info.st_mtime_ns, site.files[rel].sha256))
        self._keep_items(self._feed_key(site.feed), items, archives)

    def _feed_key(self, xml: bytes) -> str:
        """What the kept items of a feed are kept by: the feed itself, and the addresses they are read against."""
        return cache.context_digest(sha256(xml), self.config.site_url, self.config.media_url)

    def _keep_items(self, key: str, items: list[guard.FeedItem], archives: list[Stamp]) -> None:
        rows = [
            [i.guid, i.title, i.enclosure_url, i.length, i.pub_date.isoformat() if i.pub_date else "", i.link]
            for i in items
        ]
        self.store.keep(
            FEED_ITEMS, key, {"archives": [[s.path, s.size, s.mtime_ns, s.sha256] for s in archives], "items": rows}
        )

    def _guid(self, slug: str, unpublished: str, feed_items: list[guard.FeedItem]) -> str:
        """The episode's GUID: the ledger's; else the one panelpress's own published feed gives its audio (a ledger
        that lost it); else one minted earlier and never published; else a new one."""
        if slug not in self.book.episodes:
            url = self.config.address(layout.media(slug, self.config.audio.format))
            found = next((item for item in feed_items if item.enclosure_url == url and item.guid), None)
            if found is not None:
                self.notes.append(
                    f"took the GUID of {slug!r} ({found.guid}) from the published feed: the ledger did not have it"
                )
                return found.guid
        return ledger.guid(self.book, slug, unpublished)

    def _guard(
        self,
        book: ledger.Ledger,
        feed_items: list[guard.FeedItem],
        changed: list[Identity],
        entries: dict[str, cache.Entry],
        kept: list[Published],
    ) -> list[PanelpressError]:
        """What this build would change for subscribers: the changed episodes, the unchanged ones and the kept ones."""
        from .episode.stages import identity

        known = self._identities  # the guard runs twice: before the audio work and after it
        unchanged = [
            known.get((slug, entry.guid, entry.date))
            or known.setdefault(
                (slug, entry.guid, entry.date),
                identity(self.config, self.recordings[slug], entry.guid, datetime.fromisoformat(entry.date)),
            )
            for slug, entry in entries.items()
            if entry.guid
        ]
        identities = changed + unchanged + [item.identity for item in kept]
        try:
            return list(guard.check(book, feed_items, identities, self.allow))
        except GuardError as err:
            return [err]

    def _kept(self, state: cache.State) -> list[Published]:
        """Published episodes that failed in this build, as last published, while their files are still in the site."""
        from .show.assemble import kept_item

        found = []
        for slug in dict.fromkeys(failure.slug for failure in self.failures):
            entry = self.book.episodes.get(slug)
            if (
                entry is None
                or slug in self.allow.remove
                or entry.guid in self.allow.remove
                or slug not in state.published
            ):
                continue  # never published, withdrawn on purpose, or nothing kept (a fresh cache: the guard refuses)
            result = self.store.result(state.published[slug][0])
            if result is None or result.item is None or result.item.guid != entry.guid:
                continue
            item = kept_item(
                result.item,
                self.config.output_dir,
                self.config.site_url,
                self.config.media_url,
                self.config.deploy.media_transcripts,
            )
            # Its files are taken from the site (the originals may be what broke), as long as they are as panelpress wrote them.
            wanted = [
                (item.media_path, item.media.sha256),
                *((a.path, a.sha256) for a in (*item.attachments, *item.alternates)),
            ]
            if item.clean is not None:  # its clean edition too
                wanted += [
                    (item.clean.media_path, item.clean.media.sha256),
                    *((a.path, a.sha256) for a in item.clean.attachments),
                ]
            if all(self.target.checksum(rel) == sha for rel, sha in wanted):
                found.append(item)
        return found

    def _write_drafts(self, result: EpisodeResult) -> EpisodeResult:
        """Write what an episode made for the host to review (a made transcript) into the show folder, never over a
        file, and take it among the files the episode was made from; a preview writes nothing into the show."""
        if not result.drafts:
            return result
        if self.preview:
            self.unwritten.add(result.slug)
            return replace(result, drafts=())
        from .episode import stages, transcribe

        written = {}
        for path, text in result.drafts:
            problem = stages.draft_blocker(path)  # it was free when the episode was made: not necessarily now
            try:
                if problem is None and transcribe.write_draft(path, text):
                    written[cache.stamp(self.config.root, path).path] = path
                    continue
            except OSError as err:
                problem = TranscriptError(path, f"could not be written: {err.strerror or err}", DRAFT_FIX)
            self.unwritten.add(result.slug)  # made again by the next build, which writes it
            self.warnings.append(
                problem
                or TranscriptError(path, "appeared while its draft was made: the draft was not written", DRAFT_FIX)
            )
        inputs = tuple(
            cache.stamp(self.config.root, written[s.path]) if s.path in written else s for s in result.inputs
        )
        return replace(result, drafts=(), inputs=inputs)

    def _draft_blocked(self, result: EpisodeResult) -> bool:
        """Whether the episode's transcript was held back because its draft could not be written where it goes."""
        if not self.config.transcripts.make or not result.withheld:
            return False
        from .episode import stages, transcribe

        blocked = stages.draft_blocker(transcribe.draft_path(self.config, result.slug))
        return blocked is not None and any(
            (w.path, w.problem) == (blocked.path, blocked.problem) for w in result.withheld
        )

    def _keep_clean(self, result: EpisodeResult, state: cache.State) -> EpisodeResult:
        """An episode whose clean edition failed keeps the one the clean feed has, as last published (its files in
        the site, as panelpress wrote them), as a failed episode keeps its place in the main feed."""
        item, book = result.item, self.book
        if (
            item is None
            or item.clean is not None
            or not self.config.clean.edition
            or not book.clean
            or result.slug not in book.clean.episodes
            or result.slug not in state.published
        ):
            return result
        before = self.store.result(state.published[result.slug][0])
        old = before.item.clean if before is not None and before.item is not None else None
        if old is None or old.guid != book.clean.episodes[result.slug].guid:
            return result
        from .show.assemble import kept_item

        kept = kept_item(
            old,
            self.config.output_dir,
            self.config.site_url,
            self.config.media_url,
            self.config.deploy.media_transcripts,
        )
        if not all(
            self.target.checksum(rel) == sha
            for rel, sha in [(kept.media_path, kept.media.sha256), *((a.path, a.sha256) for a in kept.attachments)]
        ):
            return result
        alternate = next((a for a in before.item.alternates if a.rel == layout.CLEAN), None)
        alternates = item.alternates + (
            (replace(alternate, content=self.config.output_dir / alternate.path),) if alternate else ()
        )
        self.notes.append(
            f"kept the clean edition of {result.slug!r} as last published: this build's failed (see above)"
        )
        return replace(result, item=replace(item, clean=kept, alternates=alternates))

    def _map(self, works: list[stages.Work]) -> list[tuple[str, EpisodeResult]]:
        """The audio work of every changed episode, on the show's executor (threads here, or a Dask cluster): each
        made episode's record, by slug."""
        from . import executors
        from .episode import stages

        if not works:
            return []  # nothing to make: no thread pool, no cluster
        overall = self.reporter.task("episodes", len(works)) if len(works) > 1 else (lambda done: None)
        done = []
        with executors.start(self.config, self.reporter) as pool:  # on Ctrl-C it stops what still runs
            try:
                # Each finished Work (its tags' cover art, its transcript, …) is let go once its record is kept:
                # a build of a thousand episodes holds a thousand records, not a thousand Works.
                pending = deque(pool.submit(works, self._setup()))
                for finished in range(1, len(pending) + 1):
                    work, outcome = pending.popleft()
                    made = self._each(work.source.slug, outcome)
                    if made is not None:
                        done.append((made.source.slug, stages.result(made, self.config)))
                    overall(finished)
            except (KeyboardInterrupt, Interrupted):
                from .audio import ffmpeg

                ffmpeg.stop_running()  # at once, not after their pass: they may not have heard it (SIGTERM)
                raise
        return done

    def _each(self, slug: str, step: Callable[[], stages.Work]) -> stages.Work | None:
        """Run one episode's step; its failure (a bug included) is reported and the others go on."""
        try:
            return step()
        except Interrupted:
            raise  # Ctrl-C reached ffmpeg before this process: the build stops, as interrupted, publishing nothing
        except PanelpressError as err:
            self.failures.append(Failure(slug, err))
        except Exception as err:  # a bug: one line for the host, the trace in the cache's log folder
            self.failures.append(
                Failure(slug, unexpected(f"making episode {slug!r}", err, self.config.cache_dir / "logs"))
            )
        return None

    def _remastered(self, state: cache.State, results: dict[str, EpisodeResult]) -> tuple[Remastered, ...]:
        """Every episode made again, with its sound as last published (from the cache's record of it) and now."""
        changes = []
        for slug, made in sorted(results.items()):
            if made.item is None:
                continue
            old = self.store.result(state.published[slug][0]) if slug in state.published else None
            changes.append(
                Remastered(
                    slug, Sound.of(old.item) if old is not None and old.item is not None else None, Sound.of(made.item)
                )
            )
        return tuple(changes)

    def _whole(self, slug: str, key: str) -> Callable[[], Published]:
        """The whole record of an episode assembled from its summary, read when one of its texts is rendered anew
        (`_Damaged` when it cannot be read: the build makes the episode again)."""

        def whole() -> Published:
            result = self.store.result(key)
            if result is None or result.item is None:  # its summary was read, its record is there: a damaged line
                raise _Damaged(slug)
            return result.item

        return whole

    def _inputs(self) -> assemble.Inputs:
        inputs = gather(self.config, self.store, self.templates)
        self.artwork_sha = inputs.artwork_sha  # the warnings' too: the artwork is read once
        return inputs

    def _publish(self, book: ledger.Ledger, plan: assemble.ShowPlan) -> PublishReport:
        """One transaction: the ledger's write-ahead record, the files, the feed last, then the committed ledger. What
        the site folder refuses (a file of the blog's where the plan puts one) is refused before anything is written."""
        self.target.check(plan.site)
        self._save_ledger(ledger.begin(book, plan.ledger, sha256(plan.site.feed)))
        report = self.target.apply(plan.site)
        self._save_ledger(plan.ledger)
        if report.adopted:
            self.notes.append(
                f"took back {len(report.adopted)} files of the site folder that are exactly what panelpress writes (its manifest was missing)"
            )
        for rel in report.edited:
            self.notes.append(
                f"kept {rel} as you edited it: panelpress did not overwrite it (delete it to get panelpress's version back)"
            )
        return report

    def _keep_clips(self, items: list[Published]) -> None:
        """`[clips] publish = false`: the clips of the published episodes written into the clips folder for the host
        to upload. Only files panelpress wrote there (its list, `layout.CLIPS_MANIFEST`) are ever replaced or
        removed, and only while they are as it wrote them; anything else in the way is left and named."""
        import json

        folder = self.config.clips_dir
        listed = folder / layout.CLIPS_MANIFEST
        try:
            wrote = json.loads(listed.read_text()) if listed.is_file() else {}
        except (OSError, ValueError):
            wrote = {}
        wrote = wrote if isinstance(wrote, dict) else {}
        wanted = {}  # name in the folder → (file, checksum): each clip, and its captions
        for clip in (clip for item in items for clip in item.clips):
            wanted[clip.path.rsplit("/", 1)[-1]] = (Path(clip.content), clip.sha256)
            if clip.caption_path:
                wanted[clip.caption_path.rsplit("/", 1)[-1]] = (Path(clip.caption_file), clip.caption_sha256)
        ours = lambda path, name: path.is_file() and not path.is_symlink() and file_sha256(path) == wrote.get(name)  # noqa: E731
        folder.mkdir(parents=True, exist_ok=True)
        kept = {}
        for name, (content, sha) in sorted(wanted.items()):
            path = folder / name
            if not content.is_file():  # an episode kept as it was published: its clips stay as they are
                kept.update({name: wrote[name]} if name in wrote else {})
            elif path.is_file() and not path.is_symlink() and file_sha256(path) == sha:
                kept[name] = sha
            elif os.path.lexists(path) and not ours(path, name):
                self.warnings.append(
                    PublishError(
                        path,
                        "is in the way of a clip: panelpress leaves your files alone",
                        "move it away and build again",
                    )
                )
            else:
                write_atomic(path, content)
                kept[name] = sha
        for name in set(wrote) - set(wanted):  # clips of soundbites no longer in the notes
            if ours(folder / name, name):
                (folder / name).unlink()
        if kept != wrote:
            write_atomic(listed, json.dumps(kept, indent=1, sort_keys=True).encode())

    def _save_ledger(self, book: ledger.Ledger) -> None:
        path = self.config.ledger_path
        try:
            ledger.save(path, book)
        except OSError as err:
            raise PublishError(
                path,
                f"could not be written: {err.strerror or err}",
                "check the show folder's permissions and free space, then build again (the next build completes or undoes this one)",
            ) from err

    def _notify(self) -> None:
        """Tell the hubs and Podcast Index that the feed changed; one that cannot be told is a warning, never a failure."""
        from . import notify

        told, failed = notify.publish(self.config)
        if told:
            self.notes.append(f"told {', '.join(told)} of the new feed")
        self.warnings += failed

    def _result(
        self,
        results: dict[str, EpisodeResult],
        entries: dict[str, cache.Entry],
        started: list[Path],
        blocked=(),
        kept=(),
        report=None,
        plan=None,
        refused=(),
        remastered=(),
    ) -> BuildResult:
        """The summary; `refused`: what the guard would refuse, for a preview (it publishes nothing, so it goes on)."""
        made = sorted(
            (r.item for r in results.values() if r.item),
            key=lambda item: (item.pub_date, item.episode.slug),
            reverse=True,
        )
        cached = [slug for slug, entry in entries.items() if entry.guid and slug not in results]
        skipped = [(r.slug, r.skipped) for r in results.values() if r.skipped] + self.skipped
        skipped += [(rec.slug, "no notes yet: a build that is not refused starts them") for rec in self.starting]
        skipped += [(slug, entry.skipped) for slug, entry in entries.items() if entry.skipped and slug not in results]
        problems = [cache.decode(p) for slug, entry in entries.items() if slug not in results for p in entry.problems]
        warnings = [w for r in results.values() for w in r.warnings] + [p for p in problems if not _is_withheld(p)]
        withheld = [w for r in results.values() for w in r.withheld] + [p for p in problems if _is_withheld(p)]
        warnings += [*self.config.warnings, *self._artwork_warnings(), *refused, *self.warnings]
        return BuildResult(
            site=self.config.output_dir,
            published=tuple(made) if not blocked else (),
            unchanged=tuple(sorted(cached)) if not blocked else (),
            skipped=tuple(sorted(skipped)),
            failures=tuple(self.failures),
            started_notes=tuple(started),
            blocked=tuple(blocked),
            kept=tuple(kept),
            withheld=tuple(withheld),
            warnings=tuple(warnings),
            notes=tuple(self.notes),
            report=report,
            plan=plan,
            remastered=tuple(remastered),
            episodes=tuple(results.values()),
            clips_dir=self.config.clips_dir if self.config.clips.make and not self.config.clips.publish else None,
        )

    def _artwork_warnings(self) -> list[PanelpressError]:
        from .show import artwork

        path = self.config.artwork_path
        if not path:
            return []
        try:
            return artwork.checked(path, self.artwork_sha or file_sha256(path), self.config.cache_dir)
        except OSError:
            return artwork.problems(path)  # says why it cannot be read


class _Damaged(Exception):
    """An unchanged episode's whole record cannot be read from the cache, though its summary could: it is made again."""

    def __init__(self, slug: str) -> None:
        super().__init__(slug)
        self.slug = slug


def _is_withheld(error: PanelpressError) -> bool:
    return isinstance(error, (TranscriptError, CleanEditionError, ClipError))


def _entry(context: tuple[str, str], key: str, result: EpisodeResult) -> cache.Entry:
    item = result.item
    return cache.Entry(
        context=context[0],
        location=context[1],
        inputs=result.inputs,
        result=key,
        guid=item.guid if item else "",
        date=item.pub_date.isoformat() if item else "",
        until=result.until.isoformat() if result.until else "",
        skipped=result.skipped,
        problems=tuple(cache.encode(p) for p in (*result.warnings, *result.withheld)),
        title=item.episode.notes.title if item else "",
        explicit=item.explicit if item else False,
        duration=item.media.duration if item else 0.0,
    )


def _noop_key(config: Config, book: ledger.Ledger, published: dict[str, tuple[str, str]]) -> str:
    """Fingerprint of everything a plan is made from: settings, templates, artwork, ledger and every episode's record."""
    templates = sorted(config.templates_dir.glob("*")) if config.templates_dir.is_dir() else []
    files = [*templates, *([config.artwork_path] if config.artwork_path else [])]
    ledger_ = (book.podcast_guid, book.feed_hash, book.last_build, sorted(book.episodes.items()), book.pending)
    # Where the audio work runs changes nothing it makes: switching executors is no reason to assemble again.
    settings = replace(config, build=replace(config.build, executor="", scheduler=""))
    parts = [repr(settings), repr(ledger_), cache.file_digest(files), sorted(published.items())]
    return hashlib.sha256(repr([cache.format_stamp(), *parts]).encode()).hexdigest()[:32]


def _try_probe(path: Path):
    from .episode import probe

    try:
        return probe.probe(path)
    except PanelpressError:
        return None  # the starter is still useful; the real error is reported when the episode builds
