"""The layout's rules, checked over the source tree: no import cycles, the engine never imports the
app's libraries, modules stay small, pages stay thin."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("nn_core", "ui")
MAX_MODULE_LINES = 320  # "about 300": a module past this is split by concept
MAX_PAGE_LINES = 130  # pages are thin: widgets, a call into ui/ or nn_core, render


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the project modules it imports at import time (top-level statements only)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                submodules = {f"{node.module}.{alias.name}" for alias in node.names}
                targets.update(submodules)
                if not submodules <= modules.keys():  # names from the module itself, not only its submodules
                    targets.add(node.module)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles():
    cycle = find_cycle(import_graph(source_modules()))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


PURE_UI_MODULES = ["ui.training.params"]  # settings and URL logic, usable without a Streamlit runtime


def test_engine_imports_neither_streamlit_nor_plotting():
    names = sorted(n for n in source_modules() if n.startswith("nn_core")) + PURE_UI_MODULES
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    if name.endswith('__main__'):\n"
        "        continue\n"
        "    importlib.import_module(name)\n"
        "bad = sorted({m.split('.')[0] for m in sys.modules} & {'streamlit', 'plotly', 'pandas'})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"the engine imported {out.stdout.strip()}"


def test_public_api_imports_from_the_package():
    import nn_core

    for name in nn_core.__all__:
        assert hasattr(nn_core, name), name


def test_modules_stay_small():
    too_long = {
        name: n
        for name, path in source_modules().items()
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not too_long, f"split these by concept: {too_long}"


def test_pages_stay_thin():
    pages = {p.name: len(p.read_text().splitlines()) for p in (ROOT / "app_pages").glob("*.py")}
    assert pages and all(n <= MAX_PAGE_LINES for n in pages.values()), pages


def test_every_package_says_what_lives_there():
    for name, path in source_modules().items():
        if path.name == "__init__.py":
            doc = ast.get_docstring(ast.parse(path.read_text()))
            assert doc and len(doc.splitlines()) >= 2, f"{name} needs a docstring describing the package"
