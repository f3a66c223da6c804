"""The studio page: what the last preview made of every episode, gathered and drawn for the host.

`Studio(config, result)` is what `panelpress serve` calls for the page after each rebuild: the episodes that wait
for review with what blocks each (a draft, a transcript waiting for review, a file held back, a failure), and per
episode its loudness before and after mastering, the limiter's work, each panelist's talk time, every flagged word
with links that play it in both editions, and its downloads. The charts are inline SVG (plots.py), each followed by
its numbers as text.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from importlib.resources import files
from pathlib import Path
from urllib.parse import parse_qs

from markupsafe import Markup

from .. import layout, plots
from ..build import BuildResult, show_store
from ..config import Config
from ..errors import DraftTranscript, PanelpressError, unexpected
from ..records import EpisodeResult, Published, Turn
from ..show import ledger
from . import curves
from .downloads import Downloads
from .downloads import read as read_downloads

TEMPLATE = "studio.html"
STYLESHEET = "studio.css"
RECENT = 10  # published episodes the overview shows in full (a back catalogue's others are one link each)
PAD = 0.5  # seconds played before and after a flagged word: enough to hear it in its sentence
LOW = -60.0  # the loudness chart's floor (LUFS): quieter is silence to a listener


@dataclass(frozen=True)
class Waiting:
    """An episode that is not published as it is, and what stands in its way."""

    slug: str
    title: str
    blockers: tuple[str, ...]


@dataclass(frozen=True)
class Flag:
    """A flagged word as the studio lists it, with where each edition plays it."""

    word: str
    state: str
    how: str
    note: str
    start: float  # seconds of the published audio
    end: float
    explicit: str  # the explicit edition at the word (a #t= media fragment)
    clean: str  # the clean edition at the word ("" when there is none)


@dataclass(frozen=True)
class View:
    """One episode on the studio page."""

    slug: str
    title: str
    status: str
    released: bool = False  # published (or ready to be): downloads may be counted
    loudness: Markup | None = None
    loudness_text: str = ""
    loudness_rows: tuple[tuple[str, str, str, str, str], ...] = ()
    loudness_problem: str = ""
    measuring: bool = False  # its curves are being measured: the page shows them once they are
    limiter: Markup | None = None
    limiter_rows: tuple[tuple[str, str], ...] = ()
    talk: Markup | None = None
    talk_rows: tuple[tuple[str, str, str], ...] = ()
    talk_source: str = ""
    flags: tuple[Flag, ...] = ()
    clean_state: str = ""
    player: str = ""
    days: Markup | None = None
    days_rows: tuple[tuple[str, int], ...] = ()
    apps: Markup | None = None
    app_rows: tuple[tuple[str, int], ...] = ()
    editions: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Page:
    """Everything the studio page shows."""

    show: str
    site: str
    waiting: tuple[Waiting, ...]
    views: tuple[View, ...]
    warnings: tuple[str, ...] = ()
    counted: bool = False  # `stats` has counted downloads
    measuring: int = 0  # episodes whose curves are still being measured (the page refreshes itself till then)
    older: tuple[tuple[str, str, str], ...] = ()  # published episodes not shown in full: (slug, title, date)
    only: str = ""  # the one episode shown (`?episode=slug`); "": the overview


# One meter for every studio page of this process: files are measured once, one at a time, across rebuilds.
METER = curves.Meter()


class Studio:
    """The studio page of one preview (what `serve` calls when the page is asked for): it answers at once, and
    shows the curves still being measured once they are."""

    def __init__(self, config: Config, result: BuildResult, prefix: str = "") -> None:
        self.config, self.result, self.prefix = config, result, prefix
        self._made: dict[str, EpisodeResult] | None = None  # the episodes' records, read once per preview
        self._lock = threading.Lock()

    def __call__(self, query: str = "") -> bytes:
        """The page; `query`: its address's query (`episode=slug` shows that episode alone)."""
        only = parse_qs(query).get("episode", [""])[0]
        try:
            with self._lock:
                if self._made is None:
                    self._made = episodes(self.config, self.result)
            counted = read_downloads(self.config)
            return render(gather(self.config, self.result, counted, self.prefix, METER, only, made=self._made))
        except PanelpressError:
            raise
        except Exception as err:  # a bug: one line on the page, the trace in the cache's log folder
            raise unexpected("making the studio page", err, self.config.cache_dir / "logs") from err


# --- what the page shows ---------------------------------------------------------------------------------------------


def episodes(config: Config, result: BuildResult) -> dict[str, EpisodeResult]:
    """Every episode the last preview knows, by slug: made by it, or taken from the cache unchanged."""
    try:
        book = ledger.load(config.ledger_path)
    except PanelpressError:
        book = ledger.Ledger()
    store = show_store(config, book)
    found: dict[str, EpisodeResult] = {}
    for slug, entry in store.state().entries.items():
        record = store.result(entry.result)
        if record is not None:
            found[slug] = record
    found.update({made.slug: made for made in result.episodes})
    return found


def gather(
    config: Config,
    result: BuildResult,
    downloads: Downloads,
    prefix: str = "",
    meter: curves.Meter | None = None,
    only: str = "",
    recent: int = RECENT,
    made: Mapping[str, EpisodeResult] | None = None,
) -> Page:
    """The page's content, from the settings, the last preview and what `stats` counted: every episode that waits,
    and the `recent` newest published ones in full (the others listed), or the episode `only` alone. With a `meter`,
    curves not measured yet are measured in the background (the page says so); without, they are measured now."""
    from ..episode.discover import discover  # only the studio's page needs the recordings' list

    root = config.root
    recordings = {rec.slug: rec for rec in discover(config)[0]}
    known = episodes(config, result) if made is None else made  # (`made`: read already)
    made = {slug: record for slug, record in known.items() if slug in recordings}
    failed = {failure.slug: failure.error for failure in result.failures}
    skipped = dict(result.skipped)
    waiting = []
    for slug in sorted(set(skipped) | set(failed) | {s for s, r in made.items() if _blockers(r, root)}):
        blockers = list(_blockers(made[slug], root)) if slug in made else []
        if slug in skipped and skipped[slug] not in blockers:
            blockers.insert(0, skipped[slug])
        if slug in failed:
            blockers.insert(0, f"the build failed: {failed[slug].message(root)}")
        waiting.append(Waiting(slug, _title(made.get(slug), recordings.get(slug), root) or slug, tuple(blockers)))
    ordered = _ordered(made, set(recordings))
    held = {w.slug for w in waiting}
    if only:
        shown = [slug for slug in ordered if slug == only]
    else:
        published = [slug for slug in ordered if slug not in held and slug in made and made[slug].item is not None]
        shown = [slug for slug in ordered if slug not in published] + published[:recent]
    older = tuple(
        (slug, _title(made.get(slug), recordings.get(slug), root) or slug, made[slug].item.pub_date.date().isoformat())
        for slug in ordered
        if slug not in shown and slug in made and made[slug].item is not None
    )
    views = [
        _view(config, slug, made.get(slug), recordings.get(slug), downloads, prefix, meter, slug in held)
        for slug in shown
    ]
    told = {message for w in waiting for message in w.blockers}
    warnings = tuple(
        message
        for message in dict.fromkeys(w.message(root) for w in result.warnings)
        if message not in told and not any(message in t for t in told)
    )
    return Page(
        show=config.show.title,
        site=prefix,
        waiting=tuple(waiting),
        views=tuple(views),
        older=older,
        only=only,
        warnings=warnings,
        counted=bool(downloads),
        measuring=sum(view.measuring for view in views),
    )


def _ordered(made: dict[str, EpisodeResult], slugs: set[str]) -> list[str]:
    """Episodes not published yet first (by name), then the published, newest first."""
    dated = {slug: made[slug].item.pub_date for slug in slugs if slug in made and made[slug].item is not None}
    return sorted(slugs - set(dated)) + sorted(dated, key=lambda slug: (dated[slug], slug), reverse=True)


def _blockers(record: EpisodeResult, root: Path) -> tuple[str, ...]:
    """What keeps an episode, or a part of it, from its listeners."""
    found = [record.skipped] if record.skipped else []
    found += [w.message(root) for w in record.warnings if isinstance(w, DraftTranscript)]
    found += [w.message(root) for w in record.withheld]
    item = record.item
    if item is not None:
        held = [f for f in item.flagged if f.state in ("heard", "unplaced", "unchecked")]
        if held:
            words = ", ".join(f"{f.word!r} ({f.state})" for f in held)
            found.append(f"its clean edition is held back: flagged words not silenced: {words}")
    return tuple(dict.fromkeys(found))


def _title(record: EpisodeResult | None, recording, root: Path) -> str:
    if record is not None and record.item is not None:
        return record.item.episode.notes.title
    if recording is not None and recording.notes_path.is_file():
        from ..episode import notes  # a draft's title, from its notes

        try:
            return notes.read(recording.notes_path, root).title
        except PanelpressError:
            return ""
    return ""


def _view(
    config: Config,
    slug: str,
    record: EpisodeResult | None,
    recording,
    downloads: Downloads,
    prefix: str,
    meter: curves.Meter | None,
    waiting: bool,
) -> View:
    item = record.item if record else None
    title = _title(record, recording, config.root) or slug
    if item is None:
        status = "waiting: not published"
    else:
        day = item.pub_date.date().isoformat()
        status = f"published {day}; a part of it waits for your review" if waiting else f"published {day}"
    view = View(slug=slug, title=title, status=status, released=item is not None)
    view = _loudness(view, config, recording, item, meter)
    if item is None:
        return view
    view = _limiter(view, item)
    view = _talk(view, item)
    view = _flags(view, item, prefix)
    return _downloads(view, item, downloads)


def _sources(recording) -> list[Path]:
    """The files an episode's recording is: the file, or the tracks of its folder."""
    if recording is None:
        return []
    return list(recording.tracks) if recording.tracks else [recording.path]


def _loudness(view: View, config: Config, recording, item: Published | None, meter: curves.Meter | None) -> View:
    """Short-term loudness of the recording and of the published audio, on the published timeline."""
    target, ceiling = config.audio.loudness, config.audio.true_peak
    series, text, rows = [], [], []
    offset = item.offset if item else 0.0
    sources = {"before": _sources(recording), "after": [item.media.path] if item and item.media.path.is_file() else []}
    found: dict[str, curves.Curve | None] = {}
    try:
        for name, paths in sources.items():
            if paths:
                found[name] = meter.ask(paths, config.cache_dir) if meter else curves.curve(paths, config.cache_dir)
    except PanelpressError as err:
        return replace(view, loudness_problem=err.message(config.root))
    if any(curve is None for curve in found.values()):
        return replace(view, measuring=True)
    before, after = found.get("before"), found.get("after")
    if before is not None:
        series.append(plots.Series("before mastering", before.points(offset), "plot-before"))
        text.append(f"Before mastering: {_lufs(before.integrated)} integrated, true peak {_db(before.true_peak)} dBTP.")
    if after is not None:
        series.append(plots.Series("after mastering", after.points(), "plot-after"))
        text.append(f"After mastering: {_lufs(after.integrated)} integrated, true peak {_db(after.true_peak)} dBTP.")
    if not series:
        return view
    text.append(f"The target is {_lufs(target)}; the true-peak ceiling is {_db(ceiling)} dBTP.")
    lows = [y for s in series for _, y in s.points if y > LOW]
    top = max([y for s in series for _, y in s.points] + [ceiling, target]) + 2
    svg = plots.line_chart(
        f"loudness-{layout.web_slug(view.slug)}",
        f"Loudness of {view.title} before and after mastering",
        f"Short-term loudness (LUFS, 3 s windows) over time. {' '.join(text)}",
        series,
        [
            plots.Rule(target, f"target {_lufs(target)}", "plot-target"),
            plots.Rule(ceiling, f"true-peak ceiling {_db(ceiling)} dBTP", "plot-ceiling"),
        ],
        x_label="time (m:ss)",
        y_label="LUFS",
        y_range=(max(LOW, min(lows, default=LOW) - 2), top),
    )
    befores = before.minutes() if before else []
    afters = after.minutes() if after else []
    for n in range(max(len(befores), len(afters))):
        b = befores[n] if n < len(befores) else None
        a = afters[n] if n < len(afters) else None
        rows.append(
            (
                f"{n}:00",
                _db(b[0]) if b else "",
                _db(b[1]) if b else "",
                _db(a[0]) if a else "",
                _db(a[1]) if a else "",
            )
        )
    return replace(view, loudness=Markup(svg), loudness_text=" ".join(text), loudness_rows=tuple(rows))


def _limiter(view: View, item: Published) -> View:
    report = item.report
    if report is None:
        return view
    rows = (
        ("gain applied to the recording", f"{report.gain:+.1f} dB"),
        ("compressor: most gain reduction", f"{report.compressor_max:.1f} dB"),
        ("compressor: 99 % of the time at most", f"{report.compressor_p99:.1f} dB"),
        ("limiter: most gain reduction", f"{report.limiter_max:.1f} dB"),
        ("limiter: 99 % of the time at most", f"{report.limiter_p99:.1f} dB"),
        ("method", f"{report.method}, {report.passes} pass{'es' if report.passes != 1 else ''}"),
    )
    bars = [
        ("compressor, most", report.compressor_max),
        ("compressor, 99 %", report.compressor_p99),
        ("limiter, most", report.limiter_max),
        ("limiter, 99 %", report.limiter_p99),
    ]
    svg = plots.hbar_chart(
        f"limiter-{layout.web_slug(view.slug)}",
        f"Gain reduction while mastering {view.title}",
        f"The compressor took off at most {report.compressor_max:.1f} dB ({report.compressor_p99:.1f} dB or less 99 % "
        f"of the time); the limiter at most {report.limiter_max:.1f} dB ({report.limiter_p99:.1f} dB or less 99 % of "
        "the time).",
        bars,
        value_format=lambda v: f"{v:.1f} dB",
        css="plot-bar plot-reduction",
    )
    return replace(view, limiter=Markup(svg), limiter_rows=rows)


def talk_turns(item: Published) -> tuple[tuple[Turn, ...], str]:
    """Who spoke when, and where that is known from: the tracks (the mix), else the transcript's speakers."""
    if item.turns:
        return item.turns, "the tracks"
    wanted = layout.transcript(item.episode.slug, "json")
    for attachment in item.attachments:
        if attachment.path == wanted:
            try:
                data = json.loads(attachment.read())
                turns = tuple(
                    Turn(float(s["startTime"]), float(s["endTime"]), str(s["speaker"]))
                    for s in data.get("segments", ())
                    if s.get("speaker")
                )
            except (OSError, ValueError, KeyError, TypeError):
                return (), ""
            return turns, "the transcript" if turns else ""
    return (), ""


def _talk(view: View, item: Published) -> View:
    from ..show.pages import talk_time  # how the episode's page adds it up

    turns, source = talk_turns(item)
    spoken = talk_time(turns)
    if not spoken:
        return view
    total = sum(seconds for _, seconds in spoken) or 1.0
    rows = tuple((who, plots.clock(seconds), f"{100 * seconds / total:.0f} %") for who, seconds in spoken)
    svg = plots.hbar_chart(
        f"talk-{layout.web_slug(view.slug)}",
        f"Talk time per panelist in {view.title}",
        "; ".join(f"{who}: {at} ({share})" for who, at, share in rows) + f" (from {source}).",
        spoken,
        value_format=plots.clock,
        css="plot-bar plot-talk",
    )
    return replace(view, talk=Markup(svg), talk_rows=rows, talk_source=source)


def fragment(url: str, start: float, end: float) -> str:
    """The address of a stretch of an audio file (a W3C media fragment), padded to be heard in its sentence."""
    return f"{url}#t={max(0.0, start - PAD):.2f},{end + PAD:.2f}"


def _flags(view: View, item: Published, prefix: str) -> View:
    if not item.flagged:
        return view
    explicit = f"{prefix}{item.media_path}"
    clean = f"{prefix}{item.clean.media_path}" if item.clean is not None else ""
    flags = tuple(
        Flag(
            word=f.word,
            state=f.state,
            how=f.how,
            note=f.note,
            start=round(f.start + item.offset, 3),
            end=round(f.end + item.offset, 3),
            explicit=fragment(explicit, f.start + item.offset, f.end + item.offset),
            clean=fragment(clean, f.start + item.offset, f.end + item.offset) if clean else "",
        )
        for f in item.flagged
    )
    state = "" if clean else "its clean edition is held back: only the explicit edition can be played"
    return replace(view, flags=flags, clean_state=state, player=explicit)


def _downloads(view: View, item: Published, downloads: Downloads) -> View:
    days = downloads.days(item.episode.slug, item.pub_date.date() if item.pub_date else None)
    apps = downloads.by_app(item.episode.slug)
    if not days and not apps:
        return view
    total = sum(n for _, n in days)
    since = date.fromisoformat(days[0][0]).isoformat() if days else ""
    svg_days = plots.bar_chart(
        f"days-{layout.web_slug(view.slug)}",
        f"Downloads of {view.title} per day",
        f"{total} downloads from {since} to {days[-1][0]}; the most in a day: {max(n for _, n in days)}."
        if days
        else "No downloads counted per day.",
        days,
        y_label="downloads",
        x_label="day",
        css="plot-bar plot-days",
    )
    svg_apps = plots.hbar_chart(
        f"apps-{layout.web_slug(view.slug)}",
        f"Downloads of {view.title} per app",
        "; ".join(f"{app}: {n}" for app, n in apps) + ".",
        apps,
        value_format=lambda v: f"{v:.0f}",
        css="plot-bar plot-apps",
    )
    return replace(
        view,
        days=Markup(svg_days) if days else None,
        days_rows=tuple(days),
        apps=Markup(svg_apps) if apps else None,
        app_rows=tuple(apps),
        editions=tuple(downloads.editions(item.episode.slug)),
    )


def _lufs(value: float) -> str:
    return f"{plots.number(round(value, 1))} LUFS"


def _db(value: float) -> str:
    return plots.number(round(value, 1)) if value > -120 else "silence"


# --- the page --------------------------------------------------------------------------------------------------------


def sources() -> dict[str, str]:
    """The studio's own template and stylesheet, shipped beside this module."""
    folder = files(__package__)
    return {name: folder.joinpath(name).read_text(encoding="utf-8") for name in (TEMPLATE, STYLESHEET)}


def render(page: Page) -> bytes:
    """The studio page as HTML."""
    from jinja2 import DictLoader, Environment, StrictUndefined

    found = sources()
    env = Environment(loader=DictLoader(found), autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True)
    env.filters["clock"] = plots.clock
    env.filters["web_slug"] = layout.web_slug
    return env.get_template(TEMPLATE).render(page=page, css=Markup(found[STYLESHEET])).encode()
