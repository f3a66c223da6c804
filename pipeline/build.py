"""The flow, written once: discover → probe → master → tag → render → feed → publish."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from . import artwork as artwork_check
from . import audio, chapters, explicit, feed, guard, kept, ledger, notes, pages, probe, site, tags, transcript
from .config import Config
from .discover import Recording, discover, web_slug
from .errors import AudioError, GuardError, PanelpressError
from .files import file_sha256
from .records import Attachment, AudioInfo, Episode, Failure, Mastered, Published

STAGES = ("discover", "probe", "master", "tag", "render", "feed", "publish")

# lastBuildDate is left out of the content hash by rendering it with this fixed date.
_HASH_DATE = datetime(2000, 1, 1, tzinfo=timezone.utc)


class Reporter(Protocol):
    """How the build tells the host what it is doing (the CLI shows bars; tests stay quiet)."""

    def task(self, label: str, total: float) -> Callable[[float], None]: ...


class QuietReporter:
    """A reporter that shows nothing."""

    def task(self, label: str, total: float) -> Callable[[float], None]:
        return lambda seconds: None


@dataclass(frozen=True)
class BuildResult:
    """What a build did, for the summary."""

    site: Path
    published: tuple[Published, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()  # (slug, why)
    failures: tuple[Failure, ...] = ()
    started_notes: tuple[Path, ...] = ()
    blocked: tuple[PanelpressError, ...] = ()  # guard errors: nothing was published
    kept: tuple[Published, ...] = ()  # published before, failed now: left in the feed as they were
    withheld: tuple[PanelpressError, ...] = ()  # files not published because they are wrong (a bad transcript)
    warnings: tuple[PanelpressError, ...] = ()  # published anyway, but the host should look (artwork, strong language)

    @property
    def feed_path(self) -> Path:
        return self.site / pages.FEED_FILE

    @property
    def index_path(self) -> Path:
        return self.site / pages.INDEX_PAGE

    @property
    def ok(self) -> bool:
        return not self.failures and not self.blocked and not self.withheld


def build(config: Config, reporter: Reporter | None = None, now: datetime | None = None, allow: guard.Allow | None = None) -> BuildResult:
    """Run the whole flow for a show; one bad episode never stops the others."""
    reporter = reporter or QuietReporter()
    now = now or datetime.now(timezone.utc)
    recordings, failures = discover(config)
    warnings: list[PanelpressError] = []
    episodes, skipped, started = _read_notes(config, recordings, now, failures)
    infos = _each([(ep, None) for ep in episodes], failures, lambda ep, _: (ep, probe.probe(ep.recording)))
    # Chapters, transcripts and language are checked before any audio work: a bad one names its file and line.
    infos = _each(infos, failures, lambda ep, info: (replace(ep, chapters=chapters.resolve(ep, info)), info))
    transcripts, withheld = _read_transcripts(config, infos)
    infos = _each(infos, failures, lambda ep, info: (_review_explicit(config, ep, transcripts, warnings), info))
    mastered = _master_all(config, infos, failures, reporter)

    book = ledger.load(config.ledger_path)
    artwork = _artwork(config)
    art_bytes = config.artwork_path.read_bytes() if config.artwork_path else None
    art_mime = "image/png" if artwork and artwork.endswith(".png") else "image/jpeg"
    tagged = _each(mastered, failures, lambda ep, master: (ep, _tag(config, book, ep, master, art_bytes if artwork else None, art_mime)))
    built = _newest_first(_attach_transcripts(config, [item for _, item in tagged], transcripts, {episode.slug: master for episode, master in mastered}))
    allow = allow or guard.Allow()
    podcast_guid = book.podcast_guid or ledger.podcast_guid(feed.feed_url(config))  # an imported one is kept for life
    last = _last_published(config, book, podcast_guid, failures, allow)
    pages_of = {item.episode.slug: item.page_path for item in [*built, *last]}
    built = [_cross_linked(item, pages_of) for item in built]
    items = _newest_first([*built, *last])
    warnings.extend(artwork_check.problems(config.artwork_path) if config.artwork_path else [])

    result = BuildResult(site=config.output_dir, published=tuple(built), kept=tuple(last), skipped=tuple(skipped), failures=tuple(failures), started_notes=tuple(started), withheld=tuple(withheld), warnings=tuple(warnings))
    try:
        blocked = guard.check(book, _published_feed(config), items, allow)
    except GuardError as err:
        blocked = [err]
    if blocked:
        return BuildResult(**{**result.__dict__, "published": (), "kept": (), "blocked": tuple(blocked)})

    files: dict[str, site.Content] = {item.media_path: item.media.path for item in items}
    files.update({a.path: a.content for item in items for a in item.attachments})
    files.update({rel: text.encode() for rel, text in pages.render(config, items, artwork).items()})
    if artwork:
        files[artwork] = config.artwork_path
    feed_hash = hashlib.sha256(feed.render(config, items, _HASH_DATE, artwork, podcast_guid)).hexdigest()
    last_build = book.last_build if feed_hash == book.feed_hash and book.last_build else now.isoformat(timespec="seconds")
    xml = feed.render(config, items, datetime.fromisoformat(last_build), artwork, podcast_guid)
    site.publish(config.output_dir, files, pages.FEED_FILE, xml)
    ledger.save(config.ledger_path, ledger.record(book, items, feed_hash, last_build, podcast_guid))
    kept.save(config.cache_dir, podcast_guid, built, {item.guid for item in items})
    return result


def _cross_linked(item: Published, pages_of: dict[str, str]) -> Published:
    """Links of the notes to another episode's notes (`[last week](other-episode.md)`) point at its page, if it is published."""
    links = ((url, pages_of.get(notes.mentioned_slug(url), "")) for url in item.episode.notes.mentions)
    return replace(item, links=tuple((url, page) for url, page in links if page))


def _newest_first(items: list[Published]) -> list[Published]:
    return sorted(items, key=lambda item: (item.pub_date, item.episode.slug), reverse=True)


def _last_published(config: Config, book: ledger.Ledger, show: str, failures: list[Failure], allow: guard.Allow) -> list[Published]:
    """Published episodes that failed in this build, as they were last published, while their files are still in the site."""
    found = []
    manifest = site.read_manifest(config.output_dir)
    for slug in dict.fromkeys(failure.slug for failure in failures):
        entry = book.episodes.get(slug)
        if entry is None or slug in allow.remove or entry.guid in allow.remove:
            continue  # never published, or withdrawn on purpose
        item = kept.load(config.cache_dir, show, entry.guid)
        if item is None:
            continue  # nothing kept (a fresh cache): the guard refuses the build instead
        audio_file = config.output_dir / item.media_path
        if not audio_file.is_file() or file_sha256(audio_file) != item.media.sha256:
            continue  # the published audio is gone or changed: there is nothing to keep it with
        # Files that were copied from the show folder are taken from the site now (the originals may be what broke),
        # as long as they are as panelpress wrote them.
        copies = [replace(a, content=config.output_dir / a.path) if isinstance(a.content, Path) else a for a in item.attachments]
        if all(isinstance(a.content, bytes) or (a.content.is_file() and file_sha256(a.content) == manifest.get(a.path)) for a in copies):
            found.append(replace(item, site_url=config.site_url, media=replace(item.media, path=audio_file), attachments=tuple(copies)))
    return found


def _published_feed(config: Config) -> list[guard.FeedItem]:
    """The items of the feed panelpress last published in the site folder (none if it wrote none there)."""
    path = config.output_dir / pages.FEED_FILE
    if not path.is_file() or pages.FEED_FILE not in site.read_manifest(config.output_dir):
        return []
    return guard.read_items(path)


def _read_notes(config: Config, recordings: list[Recording], now: datetime, failures: list[Failure]):
    """Pair each recording with its notes (starting missing ones); validate them all before audio work."""
    episodes, skipped, started = [], [], []
    for rec in recordings:
        try:
            if not rec.notes_path.exists():
                info = _try_probe(rec.path)
                text = notes.starter_text(rec.slug, info, now.date() if isinstance(now, datetime) else date.today(), draft=not config.build.publish_new, image=notes.save_cover(rec.notes_path, info))
                if notes.write_starter(rec.notes_path, text):
                    started.append(rec.notes_path)
            parsed = notes.read(rec.notes_path)
        except PanelpressError as err:
            failures.append(Failure(rec.slug, err))
            continue
        if parsed.draft:
            skipped.append((rec.slug, f"draft: review {rec.notes_path.name}, then remove `draft: true`"))
        elif parsed.date is None:
            failures.append(Failure(rec.slug, PanelpressError(rec.notes_path, "has no date", "add `date: YYYY-MM-DD` to the front matter")))
        elif parsed.date > now:
            skipped.append((rec.slug, f"scheduled for {parsed.date.isoformat(timespec='minutes')}"))
        else:
            episodes.append(Episode(slug=rec.slug, recording=rec.path, notes=parsed))
    return episodes, skipped, started


def _review_explicit(config: Config, episode: Episode, transcripts: dict[str, transcript.Transcript], warnings: list[PanelpressError]) -> Episode:
    """Scan an episode's notes and transcript for strong language and apply [explicit] on_detect."""
    found = explicit.episode_findings(episode.notes, config, transcripts[episode.slug].path if episode.slug in transcripts else None)
    reviewed, warning = explicit.review(episode.notes, found, config)
    if warning is not None:
        warnings.append(warning)
    return replace(episode, notes=reviewed)


def _try_probe(path: Path) -> AudioInfo | None:
    try:
        return probe.probe(path)
    except PanelpressError:
        return None  # the starter is still useful; the real error is reported when the episode builds


def _each(pairs: list[tuple[Episode, Any]], failures: list[Failure], stage: Callable[[Episode, Any], tuple[Episode, Any]]) -> list[tuple[Episode, Any]]:
    """Run one step for every episode; an episode whose step fails is reported and drops out, the others go on."""
    done = []
    for episode, value in pairs:
        try:
            done.append(stage(episode, value))
        except PanelpressError as err:
            failures.append(Failure(episode.slug, err))
    return done


def _master_all(config: Config, infos: list[tuple[Episode, AudioInfo]], failures: list[Failure], reporter: Reporter) -> list[tuple[Episode, Mastered]]:
    """Master the episodes in parallel: ffmpeg does the work, a thread per worker waits on it."""
    workers = config.build.workers or os.cpu_count() or 1
    stop = threading.Event()

    def one(pair: tuple[Episode, AudioInfo]) -> Mastered:
        episode, info = pair

        def bars(name: str, total: float) -> Callable[[float], None]:  # opened as each pass starts
            if stop.is_set():  # Ctrl-C came between two passes: do not start the next
                raise AudioError(info.path, "was interrupted", "build again")
            return reporter.task(f"{episode.slug} · {name}", total)

        return audio.master(info, config.audio, config.cache_dir, bars, config.root)

    results = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [(pair[0], pool.submit(one, pair)) for pair in infos]
        try:
            for episode, future in futures:
                try:
                    results.append((episode, future.result()))
                except PanelpressError as err:
                    failures.append(Failure(episode.slug, err))
        except BaseException:  # Ctrl-C: queued episodes never start, running ones stop (their ffmpeg got the signal too)
            stop.set()
            pool.shutdown(cancel_futures=True)
            raise
    return results


def _read_transcripts(config: Config, infos: list[tuple[Episode, AudioInfo]]) -> tuple[dict[str, transcript.Transcript], list[PanelpressError]]:
    """Every episode's transcript, validated before any audio work; a bad one is held back, not the episode."""
    found, withheld = {}, []
    for episode, info in infos:
        try:
            path = transcript.source(config, episode.slug)
            if path is not None:
                found[episode.slug] = transcript.read(path, info.duration, [p.name for p in episode.notes.panelists])
        except PanelpressError as err:
            withheld.append(err)
    return found, withheld


def _attach_transcripts(config: Config, items: list[Published], transcripts: dict[str, transcript.Transcript], masters: dict[str, Mastered]) -> list[Published]:
    """Each episode with its transcript files, moved onto the mastered audio's timeline."""
    done = []
    for item in items:
        found = transcripts.get(item.episode.slug)
        if found is not None:
            master = masters[item.episode.slug]
            files = transcript.attachments(found, web_slug(item.episode.slug), site.PAGES_DIR, master.offset, master.duration, config.show.language)
            item = replace(item, attachments=item.attachments + files)
        done.append(item)
    return done


def _artwork(config: Config) -> str | None:
    """The show artwork's path in the site folder."""
    path = config.artwork_path
    return f"artwork{path.suffix.lower()}" if path else None


def _tag(config: Config, book: ledger.Ledger, episode: Episode, master: Mastered, art: bytes | None, art_mime: str) -> Published:
    notes_ = episode.notes
    name = web_slug(episode.slug)
    guid = ledger.guid(book, episode.slug)
    page_path = f"{site.PAGES_DIR}/{name}.html"
    filename = f"{name}.{config.audio.format}"
    marks = chapters.shift(episode.chapters, master.offset, master.duration)
    image = notes.image_file(notes_)
    if image is not None:  # the episode's own art replaces the show's in its tags
        art, art_mime = image.read_bytes(), chapters.IMAGE_MIME[image.suffix.lower()]
    values = tags.for_episode(
        notes_, config.show, master, guid=guid, page_url=config.site_url + page_path, feed_url=feed.feed_url(config),
        art=art, art_mime=art_mime, chapters=chapters.for_tags(marks, master.duration, notes_.path.parent),
    )  # fmt: skip
    media = tags.tag(master, values, config.cache_dir, filename)
    extra = chapters.publish(marks, notes_.path.parent, f"{site.PAGES_DIR}/{name}", config.site_url, notes_.title, config.show.title)
    image_path = f"{site.PAGES_DIR}/{name}{image.suffix.lower()}" if image is not None else ""
    if image is not None:
        extra += (Attachment(path=image_path, mime=art_mime, content=art),)
    for url in notes_.files:  # what the body links to beside the notes goes into a folder of the episode's own
        linked = notes.local_name(url) or ""
        mime = mimetypes.guess_type(linked)[0] or "application/octet-stream"
        extra += (Attachment(path=f"{site.PAGES_DIR}/{name}/{linked}", mime=mime, content=notes_.path.parent / linked, source=url),)
    return Published(
        episode=episode,
        media=media,
        guid=guid,
        pub_date=notes_.date,
        explicit=explicit.effective(notes_.explicit, config.show.explicit),
        site_url=config.site_url,
        media_path=site.media_path(config, episode.slug),
        page_path=page_path,
        report=master.report,
        attachments=extra,
        chapters=marks,
        image=image_path,
    )
