"""POST /v1/embeddings through the official SDK and raw HTTP.

The AI stand-in feature-hashes words into L2-normalised vectors: a text always gets the same
vector, and texts sharing words are closer than unrelated ones. The SDK asks for base64 unless
told otherwise and decodes it to float32 values; "float" answers carry the full JSON doubles."""
import base64
import math
import struct

import openai
import pytest


def as_float32(vector) -> list:
    return list(struct.unpack(f"<{len(vector)}f", struct.pack(f"<{len(vector)}f", *vector)))


def norm(vector) -> float:
    return math.sqrt(sum(x * x for x in vector))


def cosine(a, b) -> float:
    return sum(x * y for x, y in zip(a, b)) / (norm(a) * norm(b))


@pytest.mark.parametrize("model, dims, served_by", [
    ("text-embedding-3-small", 768, "@cf/baai/bge-base-en-v1.5"),
    ("@cf/baai/bge-large-en-v1.5", 1024, "@cf/baai/bge-large-en-v1.5"),
    ("@cf/baai/bge-small-en-v1.5", 384, "@cf/baai/bge-small-en-v1.5"),
    ("@cf/qwen/qwen3-embedding-0.6b", 1024, "@cf/qwen/qwen3-embedding-0.6b"),
])
def test_single_string(client, model, dims, served_by):
    reply = client.embeddings.create(model=model, input="the quick brown fox", encoding_format="float")
    assert (reply.object, reply.model) == ("list", served_by)
    assert [(e.object, e.index) for e in reply.data] == [("embedding", 0)]
    assert len(reply.data[0].embedding) == dims
    assert norm(reply.data[0].embedding) == pytest.approx(1.0, abs=1e-9)
    assert (reply.usage.prompt_tokens, reply.usage.total_tokens) == (4, 4)


def test_list_keeps_order_and_index(client):
    texts = ["red apples", "green pears and plums", "blue sky"]
    reply = client.embeddings.create(model="text-embedding-3-small", input=texts, encoding_format="float")
    assert [e.index for e in reply.data] == [0, 1, 2]
    assert all(len(e.embedding) == 768 for e in reply.data)
    for text, item in zip(texts, reply.data):
        single = client.embeddings.create(model="text-embedding-3-small", input=text, encoding_format="float")
        assert item.embedding == single.data[0].embedding
    assert reply.usage.prompt_tokens == 2 + 4 + 2


@pytest.mark.parametrize("model", ["text-embedding-3-small", "@cf/qwen/qwen3-embedding-0.6b"])
def test_more_inputs_than_one_upstream_call_takes_come_back_in_order(client, model):
    # 150 inputs: two upstream calls for bge (100 per call), five for qwen3-embedding (32 per call).
    texts = [f"sentence {i} about topic{i % 7} and word{i}" for i in range(150)]
    reply = client.embeddings.create(model=model, input=texts)
    assert [e.index for e in reply.data] == list(range(150))
    for i in (0, 31, 32, 99, 100, 149):
        single = client.embeddings.create(model=model, input=texts[i])
        assert reply.data[i].embedding == single.data[0].embedding, i
    assert reply.data[0].embedding != reply.data[100].embedding


def test_sdk_default_base64_equals_float_answer(client):
    texts = ["decode me", "and me too"]
    floats = client.embeddings.create(model="text-embedding-3-small", input=texts, encoding_format="float")
    decoded = client.embeddings.create(model="text-embedding-3-small", input=texts)  # base64 on the wire
    for f, d in zip(floats.data, decoded.data):
        assert d.embedding == as_float32(f.embedding)


def test_explicit_base64_through_the_sdk_is_the_raw_string(client):
    floats = client.embeddings.create(model="@cf/baai/bge-small-en-v1.5", input="packed", encoding_format="float")
    packed = client.embeddings.create(model="@cf/baai/bge-small-en-v1.5", input="packed", encoding_format="base64")
    raw = base64.b64decode(packed.data[0].embedding)
    assert list(struct.unpack(f"<{len(raw) // 4}f", raw)) == as_float32(floats.data[0].embedding)


def test_raw_base64_is_little_endian_float32(http):
    body = {"model": "text-embedding-3-small", "input": ["raw bytes please"]}
    floats = http.post("/v1/embeddings", json={**body, "encoding_format": "float"}).json()
    packed = http.post("/v1/embeddings", json={**body, "encoding_format": "base64"}).json()
    encoded = packed["data"][0]["embedding"]
    assert isinstance(encoded, str)
    raw = base64.b64decode(encoded)
    assert len(raw) == 768 * 4
    assert list(struct.unpack("<768f", raw)) == as_float32(floats["data"][0]["embedding"])


def test_dimensions_shortens_and_renormalises_matryoshka_models(client):
    full = client.embeddings.create(model="@cf/qwen/qwen3-embedding-0.6b", input="shorten me",
                                    encoding_format="float")
    short = client.embeddings.create(model="@cf/qwen/qwen3-embedding-0.6b", input="shorten me",
                                     dimensions=256, encoding_format="float")
    vector = short.data[0].embedding
    assert len(vector) == 256
    assert norm(vector) == pytest.approx(1.0, abs=1e-9)
    head = full.data[0].embedding[:256]
    assert vector == pytest.approx([x / norm(head) for x in head], abs=1e-12)


def test_dimensions_on_a_fixed_size_model_is_refused(client):
    with pytest.raises(openai.BadRequestError) as refused:
        client.embeddings.create(model="@cf/baai/bge-large-en-v1.5", input="x", dimensions=256)
    assert (refused.value.body["param"], refused.value.body["code"]) == ("dimensions", "unsupported_parameter")


def test_dimensions_above_the_model_size_is_refused(client):
    with pytest.raises(openai.BadRequestError) as refused:
        client.embeddings.create(model="@cf/qwen/qwen3-embedding-0.6b", input="x", dimensions=2048)
    assert (refused.value.body["param"], refused.value.body["code"]) == ("dimensions", "invalid_value")


def test_similar_texts_are_closer_than_unrelated_ones(client):
    reply = client.embeddings.create(model="text-embedding-3-small", input=[
        "the cat sat on the mat", "a cat sat on the mat today", "quarterly revenue grew in europe"])
    cat, similar, unrelated = (e.embedding for e in reply.data)
    assert cosine(cat, similar) > cosine(cat, unrelated) + 0.3


@pytest.mark.parametrize("bad_input, param", [("", "input"), (["ok", ""], "input[1]"), ([], "input")])
def test_empty_inputs_are_refused(client, bad_input, param):
    with pytest.raises(openai.BadRequestError) as refused:
        client.embeddings.create(model="text-embedding-3-small", input=bad_input)
    assert refused.value.body["param"] == param


def test_chat_model_is_refused(client):
    with pytest.raises(openai.BadRequestError) as refused:
        client.embeddings.create(model="gpt-4o-mini", input="x")
    assert (refused.value.body["param"], refused.value.body["code"]) == ("model", "model_not_supported")
