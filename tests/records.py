"""Records for the pure stages (render, feed), built without audio: they need none."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pipeline import config as config_module
from pipeline.records import Episode, Media, Notes, Panelist, Published

SITE = "https://pod.example.com/show/"


def show_config(root: Path = Path("/show"), **show) -> config_module.Config:
    """A validated config without touching disk."""
    values = {
        "title": "Test Panel",
        "description": "A panel made by the tests.",
        "author": "Test Author",
        "owner_email": "owner@example.com",
        "site_url": SITE,
        "subcategory": "Management",
        **show,
    }
    return config_module.Config(root=root, show=config_module.ShowSettings(**values))


def published(
    slug: str, title: str, day: int, explicit: bool = False, body: str = "Notes **body**.", length: int = 12345, **notes
) -> Published:
    """One published episode, with made-up but consistent media facts."""
    note = Notes(
        path=Path(f"/show/show_notes/{slug}.md"),
        title=title,
        date=datetime(2026, 5, day, 8, 30, tzinfo=UTC),
        body=body,
        summary=notes.pop("summary", f"Summary of {title}."),
        panelists=(Panelist("Ann Host", role="host"), Panelist("Bo Guest")),
        explicit=explicit,
        **notes,
    )
    episode = Episode(slug=slug, recording=Path(f"/show/episodes/{slug}.wav"), notes=note)
    media = Media(
        path=Path(f"/cache/{slug}.mp3"),
        filename=f"{slug}.mp3",
        mime="audio/mpeg",
        length=length,
        duration=1801.4,
        sha256="0" * 64,
    )
    return Published(
        episode=episode,
        media=media,
        guid=f"00000000-0000-4000-8000-00000000000{day % 10}",
        pub_date=note.date,
        explicit=explicit,
        site_url=SITE,
        media_path=f"media/{slug}.mp3",
        page_path=f"episodes/{slug}.html",
    )
