"""Artwork: the show's cover as Apple Podcasts accepts it (JPEG or PNG, RGB, no alpha, square, 1400–3000 px)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import PIL  # its version alone: Pillow's modules are imported by the functions that read a picture

from .. import cache, inputs
from ..errors import ArtworkError
from ..files import write_if_changed

T = TypeVar("T")

MIN_SIDE, MAX_SIDE = 1400, 3000
FORMATS = {"JPEG": (".jpg", ".jpeg"), "PNG": (".png",)}
FIXED_NAME = "artwork-{side}.jpg"
# Small copies of the artwork for the pages: (file name, sides in px). The header shows the cover at 64 CSS px and
# the index at 10rem (160 px), so 192 and 400 px are sharp on screens of two and three device pixels per CSS pixel;
# 180 px is what iOS asks of a home-screen icon. Pages never load the 1400-3000 px original.
# The small copies of the artwork the site publishes: the favicon, the home-screen icon, and square covers for the
# pages' header and for apps' lists and grids (the feed's podcast:images lists the covers beside the original).
ICONS = (
    ("favicon.ico", (16, 32, 48)),
    ("apple-touch-icon.png", (180,)),
    ("cover-150.jpg", (150,)),
    ("cover-192.jpg", (192,)),
    ("cover-300.jpg", (300,)),
    ("cover-400.jpg", (400,)),
    ("cover-600.jpg", (600,)),
)
_FIX = "run `panelpress check --fix-artwork` for a copy that fits, or export the artwork again"
# Pillow's modes as a host's image editor names them.
_MODES = {
    "CMYK": "CMYK colour (made for print)",
    "P": "indexed (palette) colour",
    "L": "greyscale",
    "LA": "greyscale with an alpha channel",
    "1": "black and white (1 bit)",
    "RGBA": "an alpha channel (transparency)",
    "PA": "indexed colour with an alpha channel",
    "YCbCr": "YCbCr colour",
    "LAB": "Lab colour",
    "HSV": "HSV colour",
    "I": "32-bit greyscale",
    "F": "32-bit floating-point greyscale",
}


def problems(path: Path) -> list[ArtworkError]:
    """Everything about an artwork file that podcast apps would reject (empty: it is fine)."""
    from PIL import Image, UnidentifiedImageError

    try:
        inputs.picture(path, inputs.ANY_PICTURE)  # readable, and within the decompression-bomb limit
        with Image.open(path) as image:
            kind, mode, (width, height) = image.format, image.mode, image.size
            transparent = "transparency" in image.info
    except inputs.Refused as err:
        return [ArtworkError(path, err.problem, err.fix)]
    except (UnidentifiedImageError, OSError) as err:
        return [
            ArtworkError(
                path,
                f"is not an image panelpress can read ({err.__class__.__name__})",
                "export the artwork as a JPEG or PNG",
            )
        ]
    found = []
    if kind not in FORMATS:
        found.append(ArtworkError(path, f"is a {kind} image; Apple Podcasts accepts JPEG or PNG", _FIX))
    elif path.suffix.lower() not in FORMATS[kind]:
        # The build names the file's type after its extension: a PNG called .jpg is served as image/jpeg.
        found.append(
            ArtworkError(
                path,
                f"is a {kind} image named {path.suffix}",
                f"rename it to {path.stem}{FORMATS[kind][0]} and update [show] artwork",
            )
        )
    if mode != "RGB" and kind in FORMATS:
        what = _MODES.get(mode, f"the {mode} colour mode")
        if mode == "P" and transparent:
            what = "indexed colour with transparency"
        found.append(ArtworkError(path, f"uses {what}; Apple Podcasts needs RGB without an alpha channel", _FIX))
    if width != height:
        found.append(
            ArtworkError(
                path,
                f"is {width}×{height} pixels, not square",
                "crop it to a square, 3000×3000 pixels is best (--fix-artwork crops the centre)",
            )
        )
    side = min(width, height)
    if side < MIN_SIDE:
        found.append(
            ArtworkError(
                path,
                f"is {width}×{height} pixels; podcast apps need at least {MIN_SIDE}×{MIN_SIDE}",
                "export it again at 3000×3000 pixels (enlarging a small image looks blurry)",
            )
        )
    elif max(width, height) > MAX_SIDE:
        found.append(
            ArtworkError(
                path, f"is {width}×{height} pixels; Apple Podcasts accepts at most {MAX_SIDE}×{MAX_SIDE}", _FIX
            )
        )
    return found


def checked(path: Path, sha256: str, cache_dir: Path) -> list[ArtworkError]:
    """`problems`, kept in `cache_dir` by the artwork's checksum (and Pillow's version): a build reads the picture
    once per artwork, not on every edit."""
    return _kept(
        _kept_path(cache_dir, ".problems.json", sha256),
        lambda data: [ArtworkError(path, problem, fix) for problem, fix in data],
        lambda: problems(path),
        lambda found: [[error.problem, error.fix] for error in found],
    )


def _kept_path(cache_dir: Path, suffix: str, *made_of: object) -> Path:
    """The cache file of what is made of these (the artwork's checksum first), with Pillow and this panelpress."""
    key = "\0".join(map(str, (*made_of, PIL.__version__, cache.format_stamp())))
    return cache_dir / ICONS_DIR / (hashlib.sha256(key.encode()).hexdigest()[:32] + suffix)


def _kept(kept: Path, load: Callable[[Any], T], make: Callable[[], T], dump: Callable[[T], Any]) -> T:
    """What `make` makes, kept in the cache file `kept` as JSON (`dump`: its data, None to keep nothing; `load`: it
    back from its data)."""
    try:
        return load(json.loads(kept.read_bytes()))
    except (OSError, ValueError, KeyError, TypeError):
        pass  # not kept yet, or cut short: made again
    made = make()
    data = dump(made)
    if data is not None:
        with contextlib.suppress(OSError):  # a cache that cannot be written costs the next build the same work
            write_if_changed(kept, json.dumps(data).encode())
    return made


def fix(path: Path) -> Path:
    """Write a copy that fits (square, RGB JPEG, 1400–3000 px) beside the original; never touch the original."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        inputs.picture(path, inputs.ANY_PICTURE)
        with Image.open(path) as image:
            image.load()
            picture = ImageOps.exif_transpose(image)
    except inputs.Refused as err:
        raise ArtworkError(path, err.problem, err.fix) from err
    except (UnidentifiedImageError, OSError) as err:
        raise ArtworkError(
            path,
            f"is not an image panelpress can read ({err.__class__.__name__})",
            "export the artwork as a JPEG or PNG",
        ) from err
    picture = inputs.flattened(picture)
    side = min(picture.size)
    # A square from the middle: cover art is designed around its centre.
    picture = ImageOps.fit(picture, (side, side), method=Image.Resampling.LANCZOS)
    target = max(MIN_SIDE, min(MAX_SIDE, side))
    if target != side:
        picture = picture.resize((target, target), Image.Resampling.LANCZOS)
    out = path.with_name(FIXED_NAME.format(side=target))
    if out.resolve() == path.resolve():
        raise ArtworkError(path, f"is already named {out.name}", "rename the artwork before asking for a fixed copy")
    temp = out.with_name(f".{out.name}.panelpress-tmp")
    try:
        picture.save(temp, "JPEG", quality=90, optimize=True, progressive=False)
        os.replace(temp, out)
    finally:
        temp.unlink(missing_ok=True)
    return out


Icons = tuple[int, tuple[tuple[str, bytes], ...]]
ICONS_DIR = "icons"  # in the cache folder: the icons of an artwork, by its checksum


@lru_cache(maxsize=4)
def icons(path: Path, sha256: str, cache_dir: Path | None = None) -> Icons:
    """The artwork's width and its small copies (`ICONS`), as (file name, bytes); none when it cannot be read
    (`problems` says why). Keyed by the file's checksum, and kept in `cache_dir` when one is given: a build, or a
    preview server rebuilding the site, makes them once per artwork."""
    if cache_dir is None:
        return _icons(path)
    return _kept(
        _kept_path(cache_dir, ".json", sha256, ICONS),
        lambda data: (data["width"], tuple((name, base64.b64decode(text)) for name, text in data["icons"])),
        lambda: _icons(path),
        lambda made: (
            {"width": made[0], "icons": [[name, base64.b64encode(data).decode()] for name, data in made[1]]}
            if made[1]
            else None
        ),  # none made (the artwork cannot be read): nothing kept
    )


def _icons(path: Path) -> Icons:
    # IcoImagePlugin registers ICO: without it, saving one makes Pillow import all of its 40 formats first
    from PIL import IcoImagePlugin, Image, ImageOps, UnidentifiedImageError  # noqa: F401

    try:
        inputs.picture(path, inputs.ANY_PICTURE)
        with Image.open(path) as image:
            width = image.width
            # A JPEG decodes at the smallest fraction of its size still as large as the largest icon (700 px of
            # 1400, 750 of 3000: a 3000 px artwork is 36 MB decoded whole). As few copies as can be: turned in
            # place, flattened, and the decoded one let go (leaving `with` closes the file, not the image).
            largest = max(max(sides) for _, sides in ICONS)
            image.draft("RGB", (largest, largest))
            ImageOps.exif_transpose(image, in_place=True)
            picture = inputs.flattened(image)
            image.close()
    except (inputs.Refused, UnidentifiedImageError, OSError):
        return 0, ()
    side = min(picture.size)
    square = ImageOps.fit(picture, (side, side), method=Image.Resampling.LANCZOS)
    del picture
    made = []
    for name, sides in ICONS:
        out = io.BytesIO()
        if name.endswith(".ico"):
            square.resize((max(sides),) * 2, Image.Resampling.LANCZOS).save(out, "ICO", sizes=[(s, s) for s in sides])
        elif name.endswith(".png"):
            square.resize((sides[0],) * 2, Image.Resampling.LANCZOS).save(out, "PNG", optimize=True)
        else:
            square.resize((sides[0],) * 2, Image.Resampling.LANCZOS).save(out, "JPEG", quality=85, optimize=True)
        made.append((name, out.getvalue()))
    return width, tuple(made)


def cover_width(name: str) -> int | None:
    """The width of a square cover of `ICONS` (`cover-300.jpg` → 300), None for the other icons."""
    return ICONS_BY_NAME[name][0] if name.startswith("cover-") else None


ICONS_BY_NAME = dict(ICONS)
