"""GET /v1/models and /v1/models/{model} through the official SDK: catalog ids, aliases, retired ids."""
import openai
import pytest

from api import catalog


def test_list_holds_every_catalog_model_and_alias_once(client):
    models = list(client.models.list())
    ids = [m.id for m in models]
    assert len(ids) == len(set(ids))
    assert set(ids) == {m.id for m in catalog.MODELS} | set(catalog.DEFAULT_ALIASES)
    assert {"gpt-4o-mini", "text-embedding-3-small", "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
            "@cf/baai/bge-large-en-v1.5", "@cf/zai-org/glm-4.7-flash"} <= set(ids)
    for model in models:
        assert model.object == "model"
        assert type(model.created) is int and model.created == catalog.CREATED
        assert isinstance(model.owned_by, str) and model.owned_by


def test_list_is_an_openai_list_object(http):
    body = http.get("/v1/models").json()
    assert body["object"] == "list"
    assert set(body["data"][0]) == {"id", "object", "created", "owned_by", "task", "workers_ai_model",
                                    "context_window", "features"}


def test_retrieve_alias(client):
    model = client.models.retrieve("gpt-4o-mini")
    assert (model.id, model.object, model.created, model.owned_by) == (
        "gpt-4o-mini", "model", catalog.CREATED, "meta")


def test_retrieve_id_with_slashes(client):
    model = client.models.retrieve("@cf/meta/llama-3.3-70b-instruct-fp8-fast")
    assert (model.id, model.object, model.owned_by) == (
        "@cf/meta/llama-3.3-70b-instruct-fp8-fast", "model", "meta")


def test_retrieve_id_with_raw_slashes(http):
    response = http.get("/v1/models/@cf/baai/bge-small-en-v1.5")
    assert response.status_code == 200
    assert response.json() == {"id": "@cf/baai/bge-small-en-v1.5", "object": "model",
                               "created": catalog.CREATED, "owned_by": "baai", "task": "embeddings",
                               "workers_ai_model": "@cf/baai/bge-small-en-v1.5", "context_window": 512,
                               "features": ["async-batch"]}


def test_retrieve_shows_what_a_model_can_do(client):
    model = client.models.retrieve("gpt-4.1")
    assert model.model_extra == {"task": "chat", "workers_ai_model": "@cf/meta/llama-4-scout-17b-16e-instruct",
                                 "context_window": 131000,
                                 "features": ["json-mode", "penalty-0", "short-tool-ids", "tools", "vision"]}


def test_retrieve_unknown_model_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as missing:
        client.models.retrieve("gpt-9-ultra")
    assert missing.value.code == "model_not_found"
    assert missing.value.param == "model"
    assert "gpt-9-ultra" in missing.value.message


def test_retrieve_retired_model_says_it_was_retired(client):
    with pytest.raises(openai.NotFoundError) as retired:
        client.models.retrieve("@cf/meta/llama-3.1-8b-instruct")
    assert retired.value.code == "model_not_found"
    assert "retired" in retired.value.message


def test_retrieve_retired_model_by_raw_path(http):
    response = http.get("/v1/models/@cf/meta/llama-3.1-8b-instruct")
    assert response.status_code == 404
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("model_not_found", "model")
    assert "retired" in error["message"]
