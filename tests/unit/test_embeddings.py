"""POST /v1/embeddings through api.app: order, batching, base64, dimensions, and errors."""
import base64
import math
import struct

import pytest

from api.catalog import BY_ID
from unit.support import NOW, drain, error, post, run

BGE = "@cf/baai/bge-base-en-v1.5"
QWEN = "@cf/qwen/qwen3-embedding-0.6b"


@pytest.fixture(autouse=True)
def run_deferred_work(deps):
    yield
    run(drain(deps))


def vector(index: int, dims: int):
    """A recognisable vector; all values are exact in float32 so base64 round-trips exactly."""
    return [index + 0.5] + [((index + j) % 16 - 8) / 16 for j in range(1, dims)]


def answer(deps, model, first, count, pooling=True):
    """A Workers AI embeddings result ({shape, data[, pooling]}) for inputs first..first+count-1."""
    dims = BY_ID[model].dims
    result = {"shape": [count, dims], "data": [vector(first + i, dims) for i in range(count)]}
    deps.ai.answer({**result, "pooling": "mean"} if pooling and "bge" in model else result)


def create(deps, **body):
    return post(deps, "/v1/embeddings", {"model": "text-embedding-3-small", **body})


def embedding(index, values):
    return {"object": "embedding", "index": index, "embedding": values}


def test_single_input(deps):
    answer(deps, BGE, 0, 1)
    response = create(deps, input="Hello, world!")
    assert (response.status, response.body) == (200, {
        "object": "list", "model": BGE, "data": [embedding(0, vector(0, 768))],
        "usage": {"prompt_tokens": 4, "total_tokens": 4}})
    assert deps.ai.calls == [(BGE, {"text": ["Hello, world!"]}, None)]


def test_list_input_keeps_order_and_estimates_usage(deps):
    answer(deps, BGE, 0, 3)
    response = create(deps, input=["a b c", "d", "e, f"])
    assert response.body["data"] == [embedding(i, vector(i, 768)) for i in range(3)]
    assert response.body["usage"] == {"prompt_tokens": 7, "total_tokens": 7}
    run(drain(deps))
    assert deps.jobs.sent == [{"kind": "usage", "id": "req_0001", "key_id": "local-dev", "model": BGE,
                               "endpoint": "/v1/embeddings", "prompt_tokens": 7, "completion_tokens": 0,
                               "created_at": NOW, "duration_ms": 0}]


@pytest.mark.parametrize("model,count,batches", [(BGE, 250, [100, 100, 50]), (BGE, 100, [100]),
                                                 (QWEN, 70, [32, 32, 6]), (QWEN, 64, [32, 32])])
def test_large_inputs_are_batched_in_order(deps, model, count, batches):
    first = 0
    for size in batches:
        answer(deps, model, first, size)
        first += size
    texts = [f"text number {i}" for i in range(count)]
    response = create(deps, model=model, input=texts)
    assert [len(inputs["text"]) for _, inputs, _ in deps.ai.calls] == batches
    assert [text for _, inputs, _ in deps.ai.calls for text in inputs["text"]] == texts
    assert [(d["index"], d["embedding"][0]) for d in response.body["data"]] == [(i, i + 0.5) for i in range(count)]


def test_base64_is_little_endian_float32(deps):
    answer(deps, BGE, 0, 2)
    response = create(deps, input=["a", "b"], encoding_format="base64")
    for i, item in enumerate(response.body["data"]):
        raw = base64.b64decode(item["embedding"])
        assert len(raw) == 768 * 4
        assert list(struct.unpack("<768f", raw)) == vector(i, 768)


@pytest.mark.parametrize("model", [BGE, "@cf/baai/bge-m3"])
def test_dimensions_on_models_without_matryoshka(deps, model):
    answer(deps, model, 0, 1)
    native = BY_ID[model].dims
    assert create(deps, model=model, input="a", dimensions=native).body["data"][0]["embedding"] == vector(0, native)
    response = create(deps, model=model, input="a", dimensions=256)
    assert (response.status, response.body) == (400, error(
        f"'dimensions' is not supported by {model}, whose vectors have {native} dimensions.", "dimensions",
        "unsupported_parameter"))


@pytest.mark.parametrize("model,dims", [(QWEN, 256), (QWEN, 1), ("@cf/google/embeddinggemma-300m", 128)])
def test_dimensions_truncate_and_renormalise(deps, model, dims):
    answer(deps, model, 0, 2)
    response = create(deps, model=model, input=["a", "b"], dimensions=dims)
    for i, item in enumerate(response.body["data"]):
        values = item["embedding"]
        head = vector(i, BY_ID[model].dims)[:dims]
        norm = math.sqrt(sum(x * x for x in head))
        assert len(values) == dims
        assert math.isclose(sum(x * x for x in values), 1.0, rel_tol=1e-12)
        assert values == pytest.approx([x / norm for x in head], rel=1e-12)


def test_dimensions_with_base64(deps):
    answer(deps, QWEN, 0, 1)
    raw = base64.b64decode(create(deps, model=QWEN, input="a", dimensions=64,
                                  encoding_format="base64").body["data"][0]["embedding"])
    values = struct.unpack("<64f", raw)
    assert math.isclose(sum(x * x for x in values), 1.0, rel_tol=1e-6)


def test_dimensions_above_native_are_400(deps):
    response = create(deps, model=QWEN, input="a", dimensions=1025)
    assert (response.status, response.body) == (400, error(
        f"'dimensions' must be at most 1024 for {QWEN}.", "dimensions", "invalid_value"))
    assert deps.ai.calls == []


@pytest.mark.parametrize("value,param", [("", "input"), (["a", ""], "input[1]"), ([], "input"),
                                         (["x"] * 2049, "input")])
def test_empty_or_too_many_inputs_are_400(deps, value, param):
    response = create(deps, input=value)
    assert (response.status, response.body["error"]["param"], response.body["error"]["type"]) == (
        400, param, "invalid_request_error")
    assert deps.ai.calls == []


def test_empty_string_message(deps):
    assert create(deps, input=["a", ""]).body == error("'input' must not contain empty strings.", "input[1]")


@pytest.mark.parametrize("body,param", [({"input": [1.5, 2]}, "input[0]"), ({"input": [True]}, "input[0]"),
                                        ({"input": ["a", 1]}, "input[1]"), ({"input": None}, "input"),
                                        ({}, "input"), ({"input": "a", "encoding_format": "hex"}, "encoding_format"),
                                        ({"input": "a", "dimensions": 0}, "dimensions")])
def test_invalid_parameters_are_400(deps, body, param):
    response = create(deps, **body)
    assert (response.status, response.body["error"]["param"]) == (400, param)


def test_chat_model_is_400(deps):
    response = create(deps, model="gpt-4o", input="a")
    assert (response.status, response.body) == (400, error(
        "The model `gpt-4o` is not an embeddings model.", "model", "model_not_supported"))


def test_wrong_vector_count_from_the_model_is_502(deps):
    answer(deps, BGE, 0, 1)
    response = create(deps, input=["a", "b"])
    assert (response.status, response.body) == (502, error(
        "Workers AI returned 1 embeddings for 2 inputs.", type="server_error", code="upstream_error"))
    run(drain(deps))
    assert deps.jobs.sent == []
