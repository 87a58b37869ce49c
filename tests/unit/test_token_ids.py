"""Token-id embedding input: ids decoded with cl100k_base for OpenAI model names, refused elsewhere."""
import gzip
import hashlib

import pytest

from api import token_ids
from unit.support import drain, error, post, run

BGE = "@cf/baai/bge-base-en-v1.5"
HELLO_WORLD, GOODBYE_WORLD = [15339, 1917], [19045, 29474, 1917]  # tiktoken's cl100k_base ids


@pytest.fixture(autouse=True)
def run_deferred_work(deps):
    yield
    run(drain(deps))


def embed(deps, count, **body):
    deps.ai.answer({"shape": [count, 768], "data": [[float(i)] * 768 for i in range(count)], "pooling": "mean"})
    return post(deps, "/v1/embeddings", {"model": "text-embedding-3-small", **body})


def test_the_vendored_file_is_openais_cl100k_base():
    folder = token_ids.importlib.util.find_spec(token_ids.PACKAGE).submodule_search_locations[0]
    with open(f"{folder}/{token_ids.DATA_FILE}", "rb") as handle:
        text = gzip.decompress(handle.read())
    assert hashlib.sha256(text).hexdigest() == "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
    vocabulary = token_ids.cl100k_base()
    assert vocabulary.size == 100256
    assert [vocabulary.token(rank) for rank in (0, 15339, 1917)] == [b"!", b"hello", b" world"]
    assert all(vocabulary.token(rank) for rank in range(vocabulary.size))  # each line holds its own rank


def test_one_token_list_is_one_input_with_exact_usage(deps):
    response = embed(deps, 1, input=HELLO_WORLD)
    assert response.status == 200, response.body
    assert deps.ai.calls == [(BGE, {"text": ["hello world"]}, None)]
    assert response.body["usage"] == {"prompt_tokens": 2, "total_tokens": 2}


def test_lists_of_token_lists_keep_their_order(deps):
    response = embed(deps, 2, model="text-embedding-ada-002", input=[HELLO_WORLD, GOODBYE_WORLD + [100257]])
    assert response.status == 200, response.body
    assert deps.ai.calls[0][1] == {"text": ["hello world", "goodbye world<|endoftext|>"]}
    assert [d["index"] for d in response.body["data"]] == [0, 1]
    assert response.body["usage"]["prompt_tokens"] == 6


def test_split_multibyte_characters_are_replaced_as_tiktoken_does(deps):
    # "é" is one token (978); its first byte alone (127 = b"\xc3") is not valid UTF-8.
    assert (token_ids.decode([978], "input"), token_ids.decode([127], "input")) == ("é", "\ufffd")


@pytest.mark.parametrize("value,param", [([15339, 100256], "input[1]"), ([15339, -1], "input[1]"),
                                         ([HELLO_WORLD, [1, 200000]], "input[1][1]")])
def test_ids_outside_the_vocabulary_are_400(deps, value, param):
    response = post(deps, "/v1/embeddings", {"model": "text-embedding-3-large", "input": value})
    assert (response.status, response.body["error"]["param"], response.body["error"]["code"]) == (
        400, param, "invalid_value")
    assert "is not a token id of cl100k_base" in response.body["error"]["message"]
    assert deps.ai.calls == []


def test_workers_ai_models_need_an_openai_name_for_token_ids(deps):
    response = post(deps, "/v1/embeddings", {"model": BGE, "input": HELLO_WORLD})
    assert (response.status, response.body) == (400, error(
        "Token-id input needs an OpenAI embedding model name (text-embedding-3-small, "
        "text-embedding-3-large, text-embedding-ada-002), whose ids we decode with cl100k_base; "
        f"`{BGE}` takes text.", "input", "unsupported_parameter"))


def test_empty_token_lists_are_400(deps):
    response = post(deps, "/v1/embeddings", {"model": "text-embedding-3-small", "input": [HELLO_WORLD, []]})
    assert (response.status, response.body) == (400, error("'input' must not contain empty token lists.",
                                                            "input[1]"))
