"""Isolate start loads no resource, wire type, engine or heavy library: what src/entry.py and src/cf
import from api.* is imported in a fresh interpreter, and the rest loads with the first request
(route, queue message kind) that needs it."""
import ast
import json
import pathlib
import subprocess
import sys

SRC = pathlib.Path(__file__).resolve().parents[2] / "src"
HEAVY = ("api.resources.", "api.types.", "api.generation.", "api.responses.", "api.assistants.", "api.batches.",
         "api.vector_stores.ingest", "api.media.", "pydantic", "fastjsonschema", "pypdf")


def startup_imports() -> list:
    """The api modules the edge imports at module level (the js/pyodide/workers ones cannot load here)."""
    modules = set()
    for path in [SRC / "entry.py", *sorted((SRC / "cf").glob("*.py"))]:
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom) and node.module == "api":
                modules.update(f"api.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("api."):
                modules.add(node.module)
    return sorted(modules)


def loaded_after(code: str) -> list:
    """The heavy modules loaded once the start-up imports and then `code` have run, in a new interpreter."""
    script = (f"import sys\nfor name in {startup_imports()!r}:\n    __import__(name)\n{code}\n"
              f"import json\nprint(json.dumps(sorted(m for m in sys.modules if m.startswith({HEAVY!r}))))")
    done = subprocess.run([sys.executable, "-c", script], cwd=SRC, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_the_edge_imports_the_app_and_the_jobs_table():
    assert {"api.app", "api.jobs", "api.feed"} <= set(startup_imports())


def test_start_up_loads_nothing_heavy():
    assert loaded_after("") == []


def test_a_route_loads_its_resource_module_when_it_is_first_served():
    loaded = loaded_after("from api import routes\nroutes.match('POST', '/v1/images/edits')[0].handler")
    assert "api.resources.images" in loaded and "api.media.png" in loaded
    assert "api.resources.chat" not in loaded and "fastjsonschema" not in loaded


def test_a_queue_message_kind_loads_its_handler_when_it_first_arrives():
    loaded = loaded_after("from api import jobs\njobs._load(jobs.HANDLERS['ingest'])")
    assert "api.vector_stores.ingest" in loaded and not any(m.startswith("api.responses.") for m in loaded)


def test_chat_loads_the_json_schema_compiler_only_with_a_schema():
    loaded = loaded_after("from api import routes\nroutes.match('POST', '/v1/chat/completions')[0].handler")
    assert "api.resources.chat" in loaded and "fastjsonschema" not in loaded
    loaded = loaded_after("from api.generation import structured\nstructured.validator('{}')")
    assert "fastjsonschema" in loaded
