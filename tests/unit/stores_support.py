"""Helpers for the vector store tests: a second key, uploads, a bag-of-words embedder standing in
for bge (texts sharing words get close vectors), and running the queued ingestion jobs."""
import re
import zlib

import pytest

from api import app, auth, jobs
from api.ports import QueueMessage
from fakes import MemoryBinary
from unit.support import AUTH, NOW, call, request, run

OTHER_SECRET = "sk-other-owner"
OTHER = {"authorization": f"Bearer {OTHER_SECRET}"}
DIMS = 64


@pytest.fixture(autouse=True)
def second_key_and_embedder(deps):
    """A stored key (owner key_other) beside the local dev key, and the embedder as Workers AI."""
    deps.db.conn.execute("INSERT INTO api_keys (id, name, key_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)",
                         ("key_other", "other", auth.key_hash(OTHER_SECRET), OTHER_SECRET[:10], NOW))
    deps.ai.run = embedder(deps.ai.calls)
    yield


def vector(text: str):
    values = [0.0] * DIMS
    for word in re.findall(r"\w+", text.lower()):
        values[zlib.crc32(word.encode()) % DIMS] += 1.0
    return values


def embedder(calls: list):
    """Workers AI's run for bge: {shape, data}; errors queued in `embedder.errors` are raised first."""
    async def run_model(model, inputs, options=None):
        calls.append((model, inputs, options))
        if run_model.errors:
            raise run_model.errors.pop(0)
        return {"shape": [len(inputs["text"]), DIMS], "data": [vector(t) for t in inputs["text"]]}
    run_model.errors = []
    return run_model


def upload(deps, data: bytes, filename="notes.txt", headers=AUTH) -> str:
    form = {"file": [MemoryBinary(data, "text/plain", filename)], "purpose": ["assistants"]}
    req = request("POST", "/v1/files", headers={**headers, "content-type": "multipart/form-data; boundary=x"},
                  form=form)
    response = run(app.handle(req, deps))
    assert response.status == 200, response.body
    return response.body["id"]


def post(deps, path, body, headers=AUTH):
    return call(deps, "POST", path, body, headers=headers)


def get(deps, path, headers=AUTH, **query):
    return call(deps, "GET", path, headers=headers, query={k: str(v) for k, v in query.items()})


def store(deps, headers=AUTH, **body) -> dict:
    response = post(deps, "/v1/vector_stores", body, headers)
    assert response.status == 200, response.body
    return response.body


def ingest_messages(deps):
    """The ingestion jobs sent so far (taken off the queue) as QueueMessages."""
    sent = [b for b in deps.jobs.sent if b.get("kind") == "ingest"]
    deps.jobs.sent = [b for b in deps.jobs.sent if b.get("kind") != "ingest"]
    return [QueueMessage(f"m{i}", body) for i, body in enumerate(sent)]


def consume(deps, messages):
    return run(jobs.consume(messages, deps))


def ingest_all(deps):
    """Delivers every queued ingestion job once: their decisions."""
    return consume(deps, ingest_messages(deps))


def chunk_rows(deps, file_id=None):
    sql = "SELECT id, vector_store_id, file_id, n, text, tokens FROM chunks"
    rows = deps.db.conn.execute(sql + (" WHERE file_id = ?" if file_id else "") + " ORDER BY vector_store_id, file_id, n",
                                (file_id,) if file_id else ())
    return [dict(r) for r in rows]


def words(count: int, word="alpha") -> str:
    return " ".join(f"{word}{i}" for i in range(count))
