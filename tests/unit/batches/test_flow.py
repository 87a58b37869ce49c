"""/v1/batches end to end on the core: create, validate, run the lines through the live endpoints,
write the output and error files."""
import pytest

from api.batches import queued
from unit.batches.support import EchoAI, batch, chat, content, create, work
from unit.support import NOW, drain, run


@pytest.fixture(autouse=True)
def echo(deps, monkeypatch):
    deps.ai = EchoAI()
    monkeypatch.setattr(queued, "POLL_FIRST", 0)
    monkeypatch.setattr(queued, "POLL_MAX", 0)
    yield
    run(drain(deps))


def test_a_chat_batch_completes_with_its_output_file(deps):
    response = create(deps, [chat("a", "one"), chat("b", "two")])
    assert response.status == 200, response.body
    created = response.body
    assert created["status"] == "validating"
    work(deps)
    done = batch(deps, created["id"])
    assert done["status"] == "completed", done
    lines = content(deps, done["output_file_id"])
    assert [line["custom_id"] for line in lines] == ["a", "b"]
    assert lines[0]["response"]["body"]["choices"][0]["message"]["content"] == "Echo: one"

