"""The import rules and size limits of the house style, checked on the source text."""
import ast
import pathlib

import pytest

SRC = pathlib.Path(__file__).resolve().parents[2] / "src"
API_FILES = sorted((SRC / "api").rglob("*.py"))
ALL_FILES = sorted(SRC.rglob("*.py"))
EDGE_MODULES = {"js", "pyodide", "workers", "cf"}


def imported(path: pathlib.Path):
    """Absolute module names a file imports (relative imports resolve inside its own package)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def test_there_are_files_to_check():
    assert len(API_FILES) > 20 and (SRC / "api" / "app.py") in API_FILES


@pytest.mark.parametrize("path", API_FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_core_never_imports_the_edge(path):
    assert {name for name in imported(path) if name.split(".")[0] in EDGE_MODULES} == set()


@pytest.mark.parametrize("path", sorted((SRC / "api" / "resources").glob("*.py")), ids=lambda p: p.name)
def test_resources_do_not_import_each_other(path):
    assert {n for n in imported(path) if n.startswith("api.resources")} == set()


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_files_stay_under_400_lines(path):
    assert len(path.read_text().splitlines()) <= 400


def test_no_top_level_module_shadows_the_stdlib():
    top = {p.stem if p.is_file() else p.name for p in SRC.iterdir() if p.suffix == ".py" or p.is_dir()}
    assert top & {"queue", "types", "http", "json", "platform"} == set()


@pytest.mark.parametrize("path", API_FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_every_module_opens_with_a_docstring(path):
    assert ast.get_docstring(ast.parse(path.read_text()))
