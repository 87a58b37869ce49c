"""api.catalog: aliases (default and configured), @cf passthrough, retired ids, task checks."""
import pytest

from api import catalog
from api.catalog import CHAT, EMBEDDINGS
from api.errors import InvalidRequest, ModelNotFound
from unit.support import error

RETIRED_MESSAGE = "The model `{}` was retired by Workers AI on 2026-05-30; see GET /v1/models for current models."


def resolve(name, task=CHAT, extra=None):
    return catalog.resolve(name, task, extra or {})


@pytest.mark.parametrize("alias,target", catalog.DEFAULT_ALIASES.items())
def test_default_aliases_resolve(alias, target):
    assert resolve(alias, catalog.BY_ID[target].task) == catalog.BY_ID[target]


@pytest.mark.parametrize("spec", catalog.MODELS, ids=lambda s: s.id)
def test_catalog_ids_resolve_to_themselves(spec):
    assert resolve(spec.id, spec.task) is spec


def test_configured_aliases_add_and_override():
    extra = {"gpt-4o": "@cf/zai-org/glm-4.7-flash", "house-model": "@cf/qwen/qwq-32b"}
    assert resolve("gpt-4o", extra=extra).id == "@cf/zai-org/glm-4.7-flash"
    assert resolve("house-model", extra=extra).id == "@cf/qwen/qwq-32b"
    assert resolve("gpt-4").id == "@cf/meta/llama-3.3-70b-instruct-fp8-fast"  # others untouched


def test_uncatalogued_cf_ids_pass_through_as_native():
    spec = resolve("@cf/newvendor/new-model-9b")
    assert spec == catalog.ModelSpec("@cf/newvendor/new-model-9b", CHAT, shape="native")
    assert resolve("@cf/newvendor/new-embedder", EMBEDDINGS).task == EMBEDDINGS


@pytest.mark.parametrize("name", sorted(catalog.RETIRED) + ["@hf/thebloke/zephyr-7b-beta-awq", "@hf/google/gemma-7b-it"])
def test_retired_ids_are_404(name):
    with pytest.raises(ModelNotFound) as raised:
        resolve(name)
    assert (raised.value.status, raised.value.body()) == (404, error(
        RETIRED_MESSAGE.format(name), "model", "model_not_found"))


def test_alias_to_a_retired_id_is_404():
    with pytest.raises(ModelNotFound) as raised:
        resolve("old-llama", extra={"old-llama": "@cf/meta/llama-3.1-8b-instruct"})
    assert raised.value.message == RETIRED_MESSAGE.format("old-llama")


@pytest.mark.parametrize("name", ["gpt-5", "llama-3", "meta/llama-3.3-70b", "", "@cf"])
def test_unknown_names_are_404(name):
    with pytest.raises(ModelNotFound) as raised:
        resolve(name)
    assert (raised.value.status, raised.value.body()) == (404, error(
        f"The model `{name}` does not exist or you do not have access to it.", "model", "model_not_found"))


@pytest.mark.parametrize("name,task,message", [
    ("@cf/baai/bge-base-en-v1.5", CHAT, "The model `@cf/baai/bge-base-en-v1.5` is not a chat model."),
    ("text-embedding-3-small", CHAT, "The model `text-embedding-3-small` is not a chat model."),
    ("gpt-4o", EMBEDDINGS, "The model `gpt-4o` is not an embeddings model."),
])
def test_model_of_another_task_is_400(name, task, message):
    with pytest.raises(InvalidRequest) as raised:
        resolve(name, task)
    assert (raised.value.status, raised.value.body()) == (400, error(message, "model", "model_not_supported"))


@pytest.mark.parametrize("raw,parsed", [
    (None, {}), ("", {}), ("{}", {}),
    ('{"gpt-4o": "@cf/zai-org/glm-4.7-flash"}', {"gpt-4o": "@cf/zai-org/glm-4.7-flash"}),
])
def test_parse_aliases(raw, parsed):
    assert catalog.parse_aliases(raw) == parsed


@pytest.mark.parametrize("raw", ['["gpt-4o"]', '"gpt-4o"', "42", "null", '{"gpt-4o": 1}',
                                 '{"gpt-4o": null}', "{not json"])
def test_parse_aliases_rejects_anything_but_an_object_of_strings(raw):
    with pytest.raises(ValueError):
        catalog.parse_aliases(raw)


@pytest.mark.parametrize("model_id,owner", [("@cf/meta/llama-3.3-70b-instruct-fp8-fast", "meta"),
                                             ("@cf/baai/bge-m3", "baai"), ("custom", "cloudflare")])
def test_owned_by(model_id, owner):
    assert catalog.ModelSpec(model_id, CHAT).owned_by == owner


def test_catalog_is_consistent():
    ids = [m.id for m in catalog.MODELS]
    assert len(ids) == len(set(ids))
    assert not set(ids) & catalog.RETIRED
    assert all(target in catalog.BY_ID for target in catalog.DEFAULT_ALIASES.values())
    assert all(m.dims > 0 for m in catalog.MODELS if m.task == EMBEDDINGS)
    assert all(m.shape in ("native", "choices", "openai") for m in catalog.MODELS)


def test_every_task_has_deadlines_and_unknown_models_get_chats():
    assert set(catalog.TIMEOUTS) == {catalog.CHAT, catalog.EMBEDDINGS, catalog.MODERATION, catalog.SPEECH_TO_TEXT,
                                     catalog.TEXT_TO_SPEECH, catalog.IMAGES}
    assert catalog.timeouts("@cf/baai/bge-base-en-v1.5") == catalog.Timeouts(60.0)
    assert catalog.timeouts("@cf/someone/new-model") == catalog.TIMEOUTS[catalog.CHAT]
