"""POST /v1/moderations through the official SDK and raw HTTP.

The AI stand-in's llama-guard-3-8b flags hazard codes from trigger words ("kill" S1, "steal" S2,
"hate" S10, "suicide" S11, "nsfw" S12) and from "[[unsafe:S5]]"-style markers."""
import time

import openai
import pytest
from openai.types import Moderation, ModerationCreateResponse


GUARD = "@cf/meta/llama-guard-3-8b"
# The category fields of the SDK's typed objects, by their JSON names.
CATEGORIES = sorted(field.alias or name for name, field in Moderation.model_fields["categories"]
                    .annotation.model_fields.items())


def flagged_categories(result: Moderation) -> set:
    return {name for name, value in result.categories.model_dump(by_alias=True).items() if value}


def test_single_string(client):
    reply = client.moderations.create(input="I am going to kill him")
    assert isinstance(reply, ModerationCreateResponse)
    assert reply.id.startswith("modr-") and reply.model == GUARD
    [result] = reply.results
    assert result.flagged is True
    assert result.categories.violence is True and result.categories.illicit_violent is True
    assert result.categories.hate is False
    assert result.category_scores.violence == 1.0 and result.category_scores.hate == 0.0
    assert flagged_categories(result) == {"violence", "illicit", "illicit/violent"}


def test_safe_text(client):
    [result] = client.moderations.create(input="What a lovely morning", model="text-moderation-stable").results
    assert result.flagged is False and flagged_categories(result) == set()
    assert set(result.category_scores.model_dump(by_alias=True).values()) == {0.0}


def test_every_category_field_is_present_and_typed(client, http):
    body = http.post("/v1/moderations", json={"input": "hate and nsfw"}).json()
    result = body["results"][0]
    for field in ("categories", "category_scores", "category_applied_input_types"):
        assert sorted(result[field]) == CATEGORIES, field
    assert result["category_applied_input_types"] == {name: ["text"] for name in CATEGORIES}
    typed = Moderation.model_validate(result)  # the SDK's own model of a result
    assert typed.categories.hate and typed.categories.harassment and typed.categories.sexual
    assert not typed.categories.sexual_minors and typed.category_scores.sexual == 1.0


def test_list_keeps_order(client):
    texts = ["hello", "how to steal a bike", "thinking about suicide", "nsfw pictures", "[[unsafe:S7]] an address"]
    reply = client.moderations.create(input=texts, model="omni-moderation-latest")
    assert [r.flagged for r in reply.results] == [False, True, True, True, True]
    assert [flagged_categories(r) for r in reply.results] == [
        set(), {"illicit"}, {"self-harm"}, {"sexual"}, set()]  # S7 (privacy) has no OpenAI category


def test_multi_modal_text_parts(client):
    reply = client.moderations.create(input=[{"type": "text", "text": "I hate them"}])
    assert [flagged_categories(r) for r in reply.results] == [{"hate", "harassment"}]


def test_responses_of_each_shape(http):  # checked against OpenAI's schema by spec_check
    for body in ({"input": "kill"}, {"input": ["a", "steal", "[[unsafe:S4,S13]] x"]},
                 {"input": [{"type": "text", "text": "fine"}], "model": "omni-moderation-2024-09-26"}):
        response = http.post("/v1/moderations", json=body)
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("value,param", [
    ([], "input"),
    (["ok"] * 33, "input"),
    (["ok", "x" * 131_073], "input[1]"),
    ([{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}], "input[0]"),
])
def test_invalid_input_is_400(client, value, param):
    with pytest.raises(openai.BadRequestError) as raised:
        client.moderations.create(input=value)
    assert raised.value.status_code == 400 and raised.value.body["param"] == param


def test_chat_model_is_400(client):
    with pytest.raises(openai.BadRequestError) as raised:
        client.moderations.create(input="hi", model="gpt-4o")
    assert raised.value.body["code"] == "model_not_supported"


def test_upstream_failure(client):
    with pytest.raises(openai.RateLimitError):
        client.moderations.create(input="[[fail:3040]] hi")


def test_usage_is_recorded(client, d1):
    raw = client.moderations.with_raw_response.create(input=["one two", "three"])
    request_id = raw.headers["x-request-id"]
    deadline = time.monotonic() + 20
    while not (rows := d1(f"SELECT model, endpoint, prompt_tokens, completion_tokens FROM usage_events "
                          f"WHERE id = '{request_id}'")) and time.monotonic() < deadline:
        time.sleep(0.5)
    # The stand-in counts prompt words and answers "safe" in one token.
    assert rows == [{"model": GUARD, "endpoint": "/v1/moderations", "prompt_tokens": 3, "completion_tokens": 2}]
