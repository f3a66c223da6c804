"""The import rules of the package (docs/explanation/architecture.md), read from the code itself.

Every `import` in `pipeline/` (at the top of a module or inside a function) is resolved to the module it names.
The wings may import only what sits below them, and no module may reach itself again through its imports.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pipeline"

# What each wing may import besides itself. The faces (the CLI, the build, and every other command) may import
# anything; nothing imports a face but another face.
GROUND = "ground"
RULES = {
    GROUND: {GROUND},
    "audio": {GROUND},
    "episode": {GROUND, "audio"},
    "show": {GROUND},
    "targets": {GROUND},
    "stats": {GROUND},  # `panelpress stats`: log formats, the IAB rules, the user-agent list, its state
}
# `studio` (the hosts' page `serve` shows) is a face: it reads the cache, runs the meter and renders, as `check` does.
FACES = {"cli", "build", "executors", "serve", "importer", "notify", "check", "studio"}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module(path): path for path in sorted(PACKAGE.rglob("*.py"))}


MODULES = _modules()


def wing(module: str) -> str:
    """The wing a module belongs to: its folder under pipeline/, a face, or the ground floor."""
    parts = module.split(".")
    if len(parts) == 1:
        return GROUND  # pipeline/__init__.py: the version
    top = parts[1]
    if top in FACES:
        return "face"
    if top in RULES or (PACKAGE / top).is_dir():
        return top
    return GROUND


def imports(module: str) -> set[str]:
    """The pipeline modules `module` imports (a name imported from a package counts as its module when it is one)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("pipeline")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("pipeline"):
                continue
            for alias in node.names:
                name = f"{target}.{alias.name}"
                found.add(name if name in MODULES else target)
    return {name for name in found if name in MODULES and name != module}


GRAPH = {module: imports(module) for module in MODULES}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_its_own_wing_and_the_floors_below(module):
    own = wing(module)
    if own == "face":
        return
    allowed = RULES[own] | {own}
    wrong = sorted(f"{name} ({wing(name)})" for name in GRAPH[module] if wing(name) not in allowed)
    assert not wrong, f"{module} ({own}) may import only {sorted(allowed)}, not {wrong}"


def test_no_module_reaches_itself_through_its_imports():
    state: dict[str, str] = {}
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for name in sorted(GRAPH[module]):
            if state.get(name) == "open":
                cycles.append(" → ".join([*path[path.index(name) :], name]))
            elif name not in state:
                visit(name, [*path, name])
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import circles:\n" + "\n".join(cycles)


def test_a_wings_front_door_imports_nothing():
    # Importing one module of a wing runs its __init__ first: a heavy one would load the whole wing (a build with
    # nothing to do must start fast).
    for folder in sorted(p for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()):
        init = folder / "__init__.py"
        if wing(_module(init)) == "face":
            continue
        assert not GRAPH[_module(init)], f"{init.relative_to(PACKAGE.parent)} imports {sorted(GRAPH[_module(init)])}"


def test_the_rules_see_every_wing():
    wings = {wing(module) for module in MODULES}
    assert wings == {GROUND, "audio", "episode", "show", "targets", "stats", "face"}, wings
    assert {wing(m) for m in ("pipeline.layout", "pipeline.cache", "pipeline.config")} == {GROUND}
    assert wing("pipeline.audio.mastering") == "audio" and wing("pipeline.check.live") == "face"
    assert wing("pipeline.studio.page") == "face" and wing("pipeline.plots") == GROUND


def test_the_charts_are_drawn_from_numbers_alone():
    # plots.py stands on the ground floor by choice: pure, it imports nothing of panelpress, so any wing may draw.
    assert GRAPH["pipeline.plots"] == set()
    assert "pipeline.show.assemble" in GRAPH["pipeline.build"], "the resolver sees function-level imports too"


def test_the_sites_paths_and_urls_are_decided_in_layout_alone():
    # Joining a URL or naming a published file by hand elsewhere is how two modules come to disagree on an address.
    by_hand = re.compile(
        r"site_url \+|\+ \w*site_url\b|\.chapters\.json|\.transcript\.json|\.chapter-|f\"\{(?:PAGES|MEDIA)_DIR\}"
    )
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}"
        for path in MODULES.values()
        if path.name != "layout.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if by_hand.search(line) and not line.lstrip().startswith("#")
    ]
    assert not found, "\n".join(found)
