"""The site against the plan: what is in the site folder, compared with the site a build makes (`build.plan`: the
same assemble, from the records the cache holds), file by file and the feed element by element. `check` derives
nothing of its own: what it expects is what a build publishes."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from pathlib import Path

from lxml import etree

from .. import build, layout
from ..errors import PanelpressError
from ..files import file_sha256
from ..records import Published
from ..show import ledger
from ..show.assemble import ShowPlan
from ..show.feed import apple_bool
from ..targets import seam
from . import feed
from .findings import BUILD, REBUILD, REMAKE, Checker

EDITED = "move the change into the notes or a template, delete this file, then rebuild"


def check(checker: Checker) -> ledger.Ledger | None:
    """The published site (if there is one): the feed's form and the parsers' view of it, then the site against
    the plan. Returns the ledger (None: there is no site)."""
    settings = checker.config
    path = settings.output_dir / layout.FEED_FILE
    if not path.is_file():
        return None
    raw = path.read_bytes()
    root = feed.parse(checker, path, raw)
    if root is None:
        return ledger.Ledger()
    book, trusted = _ledger(checker)
    plan = _plan(checker, book) if trusted else None
    target = _target(checker)
    channel = root.find("channel")
    before = len(checker.problems)
    feed.channel(checker, path, channel)
    feed.size(checker, path, raw, len(channel.findall("item")))
    archived = feed.archives(checker, path, root, book)
    items = feed.items(checker, path, channel, book, archived)
    records = {item.media_url: item for item in plan.items} if plan is not None else {}
    if plan is not None:
        _channel_meant(checker, path, channel, plan)
        for item in (*items, *archived):
            _item_meant(checker, item, records.get(item.url))
    good_items = feed.parsers(checker, path, root, items)
    good_files = feed.attachments(
        checker, path, items, target, {url: record.media.duration for url, record in records.items()}
    )
    feed.editions(checker, path, items, target)
    _files(checker, target, plan, raw, explained=len(checker.problems) > before)
    checker.memory.remember(good_items, good_files)
    return book


class _AsTheyAre:
    """A site folder whose manifest cannot be read: its files as they are, none of them known as panelpress's."""

    def __init__(self, site: Path) -> None:
        self.site = site

    def checksum(self, rel: str) -> str | None:
        path = self.site.joinpath(*rel.split("/"))
        return file_sha256(path) if path.is_file() else None

    def published(self) -> dict[str, str]:
        return {}


def _target(checker: Checker) -> seam.Target | _AsTheyAre:
    """Where the show publishes; a damaged manifest is said once, and the files are then read as they are."""
    target = seam.for_config(checker.config)
    try:
        target.published()
    except PanelpressError as err:
        checker.problems.append(err)
        return _AsTheyAre(checker.config.output_dir)
    return target


def _ledger(checker: Checker) -> tuple[ledger.Ledger, bool]:
    """The ledger, and whether a plan can be made with it (it is there and can be read)."""
    settings = checker.config
    try:
        book = ledger.load(settings.ledger_path)
    except PanelpressError as err:
        checker.problems.append(err)
        return ledger.Ledger(), False
    if not settings.ledger_path.is_file():
        checker.add(
            settings.ledger_path,
            "is missing, so the feed's GUIDs cannot be checked",
            "restore it from version control; it holds your episodes' GUIDs",
        )
        return book, False
    return book, True


def _plan(checker: Checker, book: ledger.Ledger) -> ShowPlan | None:
    """The site a build makes from what the cache holds; None (and a warning) when the cache holds no build."""
    try:
        plan = build.plan(checker.config, book)
    except PanelpressError as err:
        checker.problems.append(err)
        return None
    if plan is None:
        checker.warnings.append(
            PanelpressError(
                checker.config.cache_dir,
                "holds no build of this show: the site is checked for its form and against the ledger, not against what a build publishes",
                "build with `panelpress build` once on this machine",
            )
        )
    return plan


def _channel_meant(checker: Checker, path: Path, channel: etree._Element, plan: ShowPlan) -> None:
    """The channel's elements against the plan's (made from panelpress.toml), unless the settings changed since the
    last build (said once, as a change the site does not show yet)."""
    if checker.memory.settings_changed:
        return
    planned = etree.fromstring(plan.site.feed).find("channel")
    for name in feed.REQUIRED:
        written, wanted = feed.value(channel, name), feed.value(planned, name)
        if not written or (name == "itunes:explicit" and written not in ("true", "false")):
            continue  # said as a problem of the feed's form
        if written != wanted:
            checker.add(path, f"the channel's <{name}> is {written!r}, but panelpress.toml means {wanted!r}", REBUILD)


def _item_meant(checker: Checker, item: feed.Item, record: Published | None) -> None:
    """An item against the record a build publishes it from: its title, date, explicit flag and length. (Its GUID
    and enclosure are checked against the ledger, as subscribers hold them.)"""
    if record is None or item.broken:
        return
    where, notes = item.document, record.episode.notes
    if item.title and item.title != notes.title:
        checker.add(where, f"{item.label}: the title differs from the notes ({notes.title!r})", REBUILD)
    explicit = feed.text(item.element, "itunes:explicit")
    if explicit in ("true", "false") and explicit != apple_bool(record.explicit):
        checker.add(
            where,
            f"{item.label}: <itunes:explicit> is {explicit}, but the notes mean {apple_bool(record.explicit)}",
            REBUILD,
        )
    pub = feed.text(item.element, "pubDate")
    if pub and not feed.date_problem(pub) and parsedate_to_datetime(pub) != record.pub_date:
        checker.add(
            where,
            f"{item.label}: <pubDate> {pub!r} differs from the notes' date ({record.pub_date.isoformat()})",
            REBUILD,
        )
    written = feed.text(item.element, "itunes:duration")
    if written is not None:
        seconds = feed.seconds(written)
        if seconds is None or abs(seconds - record.media.duration) > feed.DURATION_SLACK:
            checker.add(
                where,
                f"{item.label}: <itunes:duration> is {written!r}, but the audio lasts {record.media.duration:.0f} s",
                REBUILD,
            )


def _files(checker: Checker, target: seam.Target, plan: ShowPlan | None, raw: bytes, explained: bool) -> None:
    """Every file of the site against the plan when nothing changed since the last build (a build would publish
    exactly the plan), else against what panelpress last wrote there: present, and as panelpress made it."""
    settings, memory = checker.config, checker.memory
    site = settings.output_dir
    written = target.published()
    if plan is not None and memory.as_built:
        wanted = {rel: file.sha256 for rel, file in plan.site.files.items()}
        if raw != plan.site.feed and not explained:
            checker.add(
                site / layout.FEED_FILE, "is not the feed a build publishes for this show (edited by hand?)", REBUILD
            )
    else:
        wanted = {rel: sha for rel, sha in written.items() if rel != layout.FEED_FILE}
    reported = checker.reported()
    older = []
    for rel, sha in sorted(wanted.items()):
        local = site.joinpath(*rel.split("/"))
        if local in reported:
            continue
        found = target.checksum(rel)
        if found is None:
            checker.add(local, "is missing, but panelpress published it", REMAKE)
        elif found == sha:
            continue
        elif found == written.get(rel):
            older.append(rel)  # as panelpress wrote it: a build would write another version
        elif local.suffix.lower().lstrip(".") in layout.AUDIO_TYPES:
            checker.add(local, "is not the episode's audio: it is not the file panelpress published", REMAKE)
        else:
            checker.add(local, "is not what panelpress published (edited by hand?)", EDITED)
    if older:
        shown = ", ".join(older[:3]) + (", …" if len(older) > 3 else "")
        checker.add(
            site,
            f"{len(older)} file{'s are' if len(older) != 1 else ' is'} as panelpress last wrote {'them' if len(older) != 1 else 'it'}, but a build now publishes another version ({shown}): the templates or panelpress changed since the last build",
            BUILD,
        )
