"""The official openai npm package against the worker: tests/node/smoke.mjs runs one check per
endpoint family; each family is reported here as its own test."""
import subprocess

import pytest

from integration.devserver import ROOT, tool_env

FAMILIES = ["models", "chat", "chat_stream", "chat_tools", "completions", "embeddings", "images", "audio",
            "moderations", "files", "vector_stores", "responses", "conversations", "assistants", "batches",
            "stored_chat_completions"]


@pytest.fixture(scope="module")
def smoke(server, owner) -> dict:
    done = subprocess.run(["node", str(ROOT / "tests" / "node" / "smoke.mjs"), server.url, owner.api_key],
                          cwd=ROOT, env=tool_env(), capture_output=True, text=True, timeout=300)
    results = {}
    for line in done.stdout.splitlines():
        if line.startswith("ok "):
            results[line[3:]] = None
        elif line.startswith("not ok "):
            name, _, error = line[7:].partition(": ")
            results[name] = error
    assert set(results) == set(FAMILIES), done.stdout + done.stderr
    assert done.returncode == (1 if any(results.values()) else 0), done.stderr
    return results


@pytest.mark.parametrize("family", FAMILIES)
def test_family(smoke, family):
    assert smoke[family] is None, smoke[family]
