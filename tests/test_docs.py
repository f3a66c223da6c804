"""The documentation site builds cleanly, its reference covers every setting and show-notes key, and the README
stays a short front door to it (docs/, mkdocs.yml; the reference is made by docs/hooks/reference.py)."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from pipeline import config
from pipeline.episode import notes

ROOT = Path(__file__).resolve().parent.parent
INSTALL = "the docs tests need MkDocs and its Material theme: pip install -e '.[test]' (or '.[docs]')"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once with `mkdocs build --strict` (a warning fails it: a broken link, a missing doc)."""
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        pytest.skip(INSTALL)
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", "mkdocs.yml", "-d", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # Material 9.7+ prints a banner about MkDocs 2 without it
    )
    assert done.returncode == 0, f"`mkdocs build --strict` failed:\n{done.stdout}{done.stderr}"
    return out


def _hook() -> types.ModuleType:
    """docs/hooks/reference.py, the MkDocs hook that makes the reference pages."""
    spec = importlib.util.spec_from_file_location("reference_hook", ROOT / "docs" / "hooks" / "reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _page(site: Path, name: str) -> str:
    return (site / name / "index.html").read_text(encoding="utf-8")


def _tables(kind: str) -> list[tuple[str, type]]:
    """The tables a settings field of this type holds ([podcast.location], [[podcast.podroll]]): their records."""
    return [(name, record) for name, record in config.TABLES.items() if name in kind]


def test_the_docs_build_strictly(site: Path):
    for page in ("", "tutorial", "reference/settings", "reference/notes", "reference/cli", "benchmarks"):
        assert (site / page / "index.html").is_file(), page
    for page in site.rglob("*.html"):  # every marker was replaced, with its note for readers on GitHub
        text = page.read_text(encoding="utf-8")
        assert "<!-- generated:" not in text and "read it on the built site" not in text, page


def test_every_setting_is_in_the_reference(site: Path):
    html = _page(site, "reference/settings")
    missing = []
    for section, cls in config.SECTIONS.items():
        for spec in dataclasses.fields(cls):
            if f'id="{section}-{spec.name}"' not in html or f"<code>{spec.name}</code>" not in html:
                missing.append(f"[{section}] {spec.name}")
            kind = spec.type if isinstance(spec.type, str) else spec.type.__name__
            for _, record in _tables(kind):
                for field in dataclasses.fields(record):
                    if f'id="{section}-{spec.name}-{field.name}"' not in html:
                        missing.append(f"[{section}.{spec.name}] {field.name}")
    assert not missing, f"settings missing from the reference: {missing}"


def test_every_settings_table_is_documented():
    """[podcast.location] and [[podcast.podroll]]: each key of their records has its doc in config.TABLE_DOCS."""
    for name, record in config.TABLES.items():
        assert set(config.TABLE_DOCS[name]) == {f.name for f in dataclasses.fields(record)}, name


def test_every_notes_key_is_in_the_reference(site: Path):
    html = _page(site, "reference/notes")
    missing = [
        f"{group}: {key}"
        for group, table in notes.DEFINITIONS.items()
        for key in table
        if f'id="{group}-{key}"' not in html or f"<code>{key}</code>" not in html
    ]
    assert not missing, f"show-notes keys missing from the reference: {missing}"
    documented = {key for table in notes.DEFINITIONS.values() for key in table}
    for keys in (
        notes.KEYS,
        notes.PANELIST_KEYS,
        notes.CHAPTER_KEYS,
        notes.SOUNDBITE_KEYS,
        notes.COMMENTS_KEYS,
        notes.LOCATION_KEYS,
        notes.ROLES,
    ):
        assert set(keys) <= documented


def test_every_command_is_in_the_reference(site: Path):
    html = _page(site, "reference/cli")
    for command in ("init", "build", "remaster", "import", "info", "transcribe", "check", "serve"):
        assert f'id="{command}"' in html, command
    for option in ("--allow-remove", "--no-wait", "--fix-artwork", "--url", "--port", "--executor"):
        assert option in html, option


def test_a_setting_or_key_without_a_doc_fails_the_docs(monkeypatch: pytest.MonkeyPatch):
    """The reference cannot drift: a setting added without its doc stops the docs from building."""
    hook = _hook()
    spec = next(f for f in dataclasses.fields(config.FeedSettings) if f.name == "items")
    undocumented = types.MappingProxyType({k: v for k, v in spec.metadata.items() if k != "doc"})
    monkeypatch.setattr(spec, "metadata", undocumented)
    with pytest.raises(hook.ReferenceError, match=r"\[feed\] items has no doc"):
        hook.settings()
    monkeypatch.setitem(notes.CHAPTER_DOCS, "start", "")
    with pytest.raises(hook.ReferenceError, match=r"chapters\.start has no doc"):
        hook.notes_keys()


def test_the_readme_is_short():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines: move the detail into docs/"
    assert "make test" in "\n".join(lines)
