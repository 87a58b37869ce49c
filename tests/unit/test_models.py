"""GET /v1/models and /v1/models/{model} through api.app."""
import pytest

from api import catalog
from api.ports import Config
from unit.support import call, error

CREATED = 1767225600
LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"


def model(model_id, owned_by, target=None):
    """The model object; for a catalog model (or an alias of one) with what it can do."""
    found = {"id": model_id, "object": "model", "created": CREATED, "owned_by": owned_by}
    spec = catalog.BY_ID.get(target or model_id)
    if spec:
        found.update(task=spec.task, workers_ai_model=spec.id, context_window=spec.context,
                     features=sorted(spec.features))
    return found


def test_list_has_catalog_ids_and_aliases(deps):
    response = call(deps, "GET", "/v1/models")
    assert response.status == 200
    assert response.body["object"] == "list"
    data = response.body["data"]
    ids = [m["id"] for m in data]
    assert len(ids) == len(set(ids)) == len(catalog.MODELS) + len(catalog.DEFAULT_ALIASES)
    assert set(ids) == {m.id for m in catalog.MODELS} | set(catalog.DEFAULT_ALIASES)
    assert all({"id", "object", "created", "owned_by", "task", "context_window", "features"} <= set(m)
               and m["object"] == "model" and type(m["created"]) is int and m["owned_by"] for m in data)
    by_id = {m["id"]: m for m in data}
    assert by_id[LLAMA] == model(LLAMA, "meta")
    assert by_id["gpt-4o"] == model("gpt-4o", "meta", LLAMA)
    assert by_id["gpt-4o"]["features"] == ["async-batch", "json-mode", "tools"]
    assert by_id["text-embedding-3-small"] == model("text-embedding-3-small", "baai", "@cf/baai/bge-base-en-v1.5")


def test_list_includes_configured_aliases(deps):
    deps.config = Config(model_aliases={"house": "@cf/qwen/qwq-32b", "future": "@cf/vendor/new-model"},
                         local_dev_key="sk-test")
    by_id = {m["id"]: m for m in call(deps, "GET", "/models").body["data"]}
    assert (by_id["house"], by_id["future"]) == (model("house", "qwen", "@cf/qwen/qwq-32b"),
                                                 model("future", "cloudflare"))


@pytest.mark.parametrize("path,expected", [
    ("/v1/models/gpt-4o", model("gpt-4o", "meta", LLAMA)),
    (f"/v1/models/{LLAMA}", model(LLAMA, "meta")),
    (f"/models/{LLAMA}/", model(LLAMA, "meta")),
    ("/v1/models/@cf/baai/bge-m3", model("@cf/baai/bge-m3", "baai")),
])
def test_retrieve(deps, path, expected):
    response = call(deps, "GET", path)
    assert (response.status, response.body) == (200, expected)


RETIRED = "@cf/meta/llama-3.1-8b-instruct"


@pytest.mark.parametrize("path,status,body", [
    ("/v1/models/@cf%2Fmeta%2Fllama-3.3-70b-instruct-fp8-fast", 200, model(LLAMA, "meta")),
    ("/v1/models/@cf%2Fmeta%2Fllama-3.1-8b-instruct", 404, error(
        f"The model `{RETIRED}` was retired by Workers AI on 2026-05-30; see GET /v1/models for current models.",
        "model", "model_not_found")),
], ids=["current", "retired"])
def test_retrieve_id_as_the_openai_sdk_sends_it(deps, path, status, body):
    # openai-python (3.51, the pinned client) percent-encodes path parameters, `/` included:
    # client.models.retrieve(LLAMA) requests the first path, and cf.http passes url.path on as is.
    response = call(deps, "GET", path)
    assert (response.status, response.body) == (status, body)


def test_retrieve_unknown_is_404(deps):
    response = call(deps, "GET", "/v1/models/gpt-5")
    assert (response.status, response.body) == (404, error(
        "The model `gpt-5` does not exist or you do not have access to it.", "model", "model_not_found"))


@pytest.mark.parametrize("name", ["@cf/meta/llama-3.1-8b-instruct", "@hf/thebloke/zephyr-7b-beta-awq"])
def test_retrieve_retired_is_404_saying_so(deps, name):
    response = call(deps, "GET", f"/v1/models/{name}")
    assert (response.status, response.body) == (404, error(
        f"The model `{name}` was retired by Workers AI on 2026-05-30; see GET /v1/models for current models.",
        "model", "model_not_found"))
