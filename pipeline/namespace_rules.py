"""The Podcasting 2.0 namespace's rules for the values a show's settings and notes give it (config.py and notes.py
check them before any work; podcastindex.py writes them). No feed library here: the settings load fast."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .records import Location

# "Please do not exceed 128 characters … or it may be truncated by aggregators" (txt purpose, soundbite, trailer,
# license, location, updateFrequency); a txt value may hold 4000.
TEXT_LIMIT, TXT_LIMIT = 128, 4000
# socialprotocols.txt of the namespace ("disabled" is written alone: no comments wanted).
SOCIAL_PROTOCOLS = ("activitypub", "twitter", "bluesky", "matrix", "nostr", "hive", "lightning")
# Licences apps know by name (the namespace's licence list is SPDX's); any other needs its own address.
KNOWN_LICENSES = (
    "CC0-1.0",
    "CC-BY-4.0",
    "CC-BY-SA-4.0",
    "CC-BY-ND-4.0",
    "CC-BY-NC-4.0",
    "CC-BY-NC-SA-4.0",
    "CC-BY-NC-ND-4.0",
)
# Apple Podcasts Connect's schedule words, as the namespace writes them (rrule, text).
FREQUENCIES = {
    "daily": ("FREQ=DAILY", "Daily"),
    "weekly": ("FREQ=WEEKLY", "Weekly"),
    "biweekly": ("FREQ=WEEKLY;INTERVAL=2", "Biweekly"),
    "monthly": ("FREQ=MONTHLY", "Monthly"),
    "bimonthly": ("FREQ=MONTHLY;INTERVAL=2", "Bimonthly"),
    "yearly": ("FREQ=YEARLY", "Yearly"),
}
LOCATION_RELS = ("subject", "creator")
_RRULE_PARTS = {
    "FREQ",
    "UNTIL",
    "INTERVAL",
    "BYSECOND",
    "BYMINUTE",
    "BYHOUR",
    "BYDAY",
    "BYMONTHDAY",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYMONTH",
    "BYSETPOS",
    "WKST",
    "COUNT",
}
_FREQS = ("SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_WEEKDAY = re.compile(r"[+-]?(?:[1-9]|[1-4][0-9]|5[0-3])?(?:MO|TU|WE|TH|FR|SA|SU)")
_NUMBERS = re.compile(r"[+-]?[0-9]{1,3}(?:,[+-]?[0-9]{1,3})*")
_UNTIL = re.compile(r"[0-9]{8}(?:T[0-9]{6}Z?)?|[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9:.]+Z?)?")
_GEO = re.compile(r"geo:(-?[0-9]{1,2}(?:\.[0-9]+)?),(-?[0-9]{1,3}(?:\.[0-9]+)?)(?:,-?[0-9]+(?:\.[0-9]+)?)?")
_OSM = re.compile(r"[NWR][0-9]+(?:#[0-9]+)?")


def license_url(identifier: str) -> str:
    """The address of a licence apps know by name ('' for any other)."""
    known = {name.lower(): name for name in KNOWN_LICENSES}.get(identifier.lower())
    return f"https://spdx.org/licenses/{known}.html" if known else ""


def frequency(value: str) -> tuple[str, str]:
    """(rrule, text) of an `update_frequency` setting: a schedule word, or an RFC 5545 rule as it is."""
    return FREQUENCIES.get(value.lower(), (value, ""))


def rrule_problem(rule: str) -> str:
    """Why a text is not an RFC 5545 recurrence rule apps can read ('' when it is one)."""
    parts = [part.partition("=") for part in rule.split(";")]
    names = [name.upper() for name, _, _ in parts]
    if any(not eq or not value for _, eq, value in parts) or len(set(names)) != len(names):
        return "is not a recurrence rule (KEY=VALUE parts joined by ';', each key once)"
    values = {name.upper(): value.upper() for name, _, value in parts}
    unknown = sorted(set(values) - _RRULE_PARTS)
    if unknown:
        return f"has parts a recurrence rule does not know: {', '.join(unknown)}"
    if values.get("FREQ") not in _FREQS:
        return f"needs FREQ= one of {', '.join(_FREQS)}"
    if "COUNT" in values:
        return "has COUNT, which needs a start date the feed does not give"
    if "INTERVAL" in values and not (values["INTERVAL"].isdigit() and int(values["INTERVAL"]) > 0):
        return "has an INTERVAL that is not a positive whole number"
    if "UNTIL" in values and not _UNTIL.fullmatch(values["UNTIL"]):
        return "has an UNTIL that is not a date (YYYYMMDD or YYYYMMDDTHHMMSSZ)"
    if "BYDAY" in values and not all(_WEEKDAY.fullmatch(day) for day in values["BYDAY"].split(",")):
        return "has a BYDAY that is not a list of weekdays (MO,TU,WE,TH,FR,SA,SU)"
    for name in ("BYMONTHDAY", "BYMONTH", "BYYEARDAY", "BYWEEKNO", "BYSETPOS", "BYHOUR", "BYMINUTE", "BYSECOND"):
        if name in values and not _NUMBERS.fullmatch(values[name]):
            return f"has a {name} that is not a list of numbers"
    return ""


def location_problem(location: Location) -> tuple[str, str] | None:
    """(problem, fix) when a place is not what podcast:location may say; None when it is."""
    if not location.name.strip():
        return "has no name", 'give the place\'s name as apps should show it, e.g. name = "Austin, TX"'
    if len(location.name) > TEXT_LIMIT:
        return (
            f"name is {len(location.name)} characters long; apps may cut it at {TEXT_LIMIT}",
            "shorten it: the attributes say the rest",
        )
    geo = _GEO.fullmatch(location.geo) if location.geo else None
    if location.geo and (geo is None or abs(float(geo.group(1))) > 90 or abs(float(geo.group(2))) > 180):
        return (
            f"geo {location.geo!r} is not a geo URI",
            'write it as "geo:LATITUDE,LONGITUDE", e.g. "geo:30.2672,-97.7431"',
        )
    if location.osm and not _OSM.fullmatch(location.osm):
        return (
            f"osm {location.osm!r} is not an OpenStreetMap object",
            'write its type (N node, W way, R relation) and number, e.g. "R113314"',
        )
    if location.country and not re.fullmatch(r"[A-Za-z]{2}", location.country):
        return (
            f"country {location.country!r} is not a two-letter country code",
            'write its ISO 3166-1 code, e.g. "us" or "de"',
        )
    if location.rel and location.rel not in LOCATION_RELS:
        return f"rel {location.rel!r} is not allowed", "use subject (what it is about) or creator (where it was made)"
    return None


def is_uuid(value: str) -> bool:
    """Whether a text is a UUID (a podcast:guid)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def seconds(value: float) -> str:
    """A time or a length in seconds as the namespace writes it: whole seconds plain, else to the millisecond."""
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}".rstrip("0")


# podcast:guid is a UUIDv5 of the feed URL (no scheme, no trailing slash) in this namespace.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


def podcast_guid(feed_url: str) -> str:
    """The Podcasting 2.0 GUID of a feed URL."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))
