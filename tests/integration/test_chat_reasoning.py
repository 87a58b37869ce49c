"""Reasoning models through the official SDK: thinking exposed as `reasoning_content` (whatever the
model calls it upstream), separate from the answer, streamed before it; reasoning_effort; thinking
that uses up the output limit.

The AI stand-in's reasoning models think "Thinking about: <user text>" (reasoning_effort "low":
"Thinking."), then answer "Echo: <user text>", one token per word."""
import openai
import pytest

GLM = "@cf/zai-org/glm-4.7-flash"  # OpenAI-shaped, thinking in reasoning_content
GEMMA4 = "@cf/google/gemma-4-26b-a4b-it"  # OpenAI-shaped, thinking in a field named `reasoning`
QWQ = "@cf/qwen/qwq-32b"  # native, thinking in reasoning_content, no effort setting
DEEPSEEK_R1 = "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b"  # native, <think>…</think> inside the text
QUESTION = "why is the sky blue"
THOUGHT = "Thinking about: why is the sky blue"
ANSWER = "Echo: why is the sky blue"


def user(text: str) -> list:
    return [{"role": "user", "content": text}]


def reasoning_of(message_or_delta):
    """The SDK keeps fields it has no attribute for in model_extra."""
    return (message_or_delta.model_extra or {}).get("reasoning_content")


def streamed(client, **params) -> list:
    """(kind, text) of every non-empty reasoning or content delta, in order, and the finish reason."""
    parts, finish = [], None
    for chunk in client.chat.completions.create(stream=True, **params):
        delta = chunk.choices[0].delta
        if reasoning_of(delta):
            parts.append(("reasoning", reasoning_of(delta)))
        if delta.content:
            parts.append(("content", delta.content))
        finish = chunk.choices[0].finish_reason or finish
    return parts, finish


def joined(parts, kind: str) -> str:
    return "".join(text for k, text in parts if k == kind)


@pytest.mark.parametrize("model", [GLM, GEMMA4, QWQ])
def test_reasoning_is_separate_from_the_answer(client, model):
    reply = client.chat.completions.create(model=model, messages=user(QUESTION))
    message = reply.choices[0].message
    assert message.content == ANSWER
    assert reasoning_of(message) == getattr(message, "reasoning_content") == THOUGHT
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.completion_tokens == len(THOUGHT.split()) + len(ANSWER.split())


@pytest.mark.parametrize("model", [GLM, GEMMA4, QWQ])
def test_streamed_reasoning_comes_before_the_content(client, model):
    parts, finish = streamed(client, model=model, messages=user(QUESTION))
    kinds = [kind for kind, _ in parts]
    assert kinds == sorted(kinds, key=["reasoning", "content"].index)  # all reasoning, then all content
    assert (joined(parts, "reasoning"), joined(parts, "content"), finish) == (THOUGHT, ANSWER, "stop")
    assert len([k for k in kinds if k == "reasoning"]) == len(THOUGHT.split())  # incrementally, word by word


def test_raw_reasoning_deltas_use_reasoning_content(http):
    # gemma-4 names the field `reasoning` upstream; clients only ever see reasoning_content.
    with http.stream("POST", "/v1/chat/completions", json={
            "model": GEMMA4, "messages": user("hi"), "stream": True}) as response:
        text = response.read().decode()
    assert '"reasoning_content":"Thinking"' in text
    assert '"reasoning":' not in text


@pytest.mark.parametrize("model", [GLM, GEMMA4])
def test_reasoning_effort_none_turns_thinking_off(client, model):
    reply = client.chat.completions.create(model=model, messages=user(QUESTION), reasoning_effort="none")
    assert reply.choices[0].message.content == ANSWER
    assert reasoning_of(reply.choices[0].message) is None
    assert reply.usage.completion_tokens == len(ANSWER.split())
    parts, finish = streamed(client, model=model, messages=user(QUESTION), reasoning_effort="none")
    assert [kind for kind, _ in parts] == ["content"] * len(ANSWER.split())
    assert (joined(parts, "content"), finish) == (ANSWER, "stop")


@pytest.mark.parametrize("effort", ["low", "minimal"])
def test_low_reasoning_effort_thinks_briefly(client, effort):
    reply = client.chat.completions.create(model=GLM, messages=user(QUESTION), reasoning_effort=effort)
    assert reasoning_of(reply.choices[0].message) == "Thinking."
    assert reply.choices[0].message.content == ANSWER
    assert reply.usage.completion_tokens == 1 + len(ANSWER.split())


def test_high_reasoning_effort_is_accepted(client):
    reply = client.chat.completions.create(model=GLM, messages=user(QUESTION), reasoning_effort="high")
    assert (reasoning_of(reply.choices[0].message), reply.choices[0].message.content) == (THOUGHT, ANSWER)


def test_think_tags_are_split_off(client):
    reply = client.chat.completions.create(model=DEEPSEEK_R1, messages=user(QUESTION))
    message = reply.choices[0].message
    assert message.content == ANSWER
    # The text between the tags, with the newlines the model writes inside them.
    assert reasoning_of(message) == f"\n{THOUGHT}\n"
    assert reply.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("chars", [0, 1, 3, 7])
def test_streamed_think_tags_are_split_off_wherever_the_pieces_break(client, chars):
    text = f"[[chars:{chars}]] {QUESTION}" if chars else QUESTION
    whole = client.chat.completions.create(model=DEEPSEEK_R1, messages=user(text)).choices[0].message
    parts, finish = streamed(client, model=DEEPSEEK_R1, messages=user(text))
    assert (joined(parts, "reasoning"), joined(parts, "content"), finish) == (reasoning_of(whole), ANSWER, "stop")
    assert reasoning_of(whole).strip() == THOUGHT
    assert not any("<" in piece or ">" in piece for _, piece in parts)
    kinds = [kind for kind, _ in parts]
    assert kinds == sorted(kinds, key=["reasoning", "content"].index)


def test_thinking_can_use_up_max_completion_tokens(client):
    # As on OpenAI's reasoning models: the limit counts thinking, and the answer may get nothing.
    reply = client.chat.completions.create(model=GLM, messages=user(QUESTION), max_completion_tokens=2)
    choice = reply.choices[0]
    assert choice.finish_reason == "length"
    assert not choice.message.content
    assert reasoning_of(choice.message) == "Thinking about:"
    assert reply.usage.completion_tokens == 2
    parts, finish = streamed(client, model=GLM, messages=user(QUESTION), max_completion_tokens=2)
    assert parts == [("reasoning", "Thinking"), ("reasoning", " about:")]
    assert finish == "length"


def test_think_tags_can_use_up_max_tokens(client):
    reply = client.chat.completions.create(model=DEEPSEEK_R1, messages=user(QUESTION), max_tokens=3)
    assert reply.choices[0].finish_reason == "length"
    assert not reply.choices[0].message.content
    assert reasoning_of(reply.choices[0].message) == "\nThinking about:"


def test_legacy_max_tokens_caps_the_answer_not_the_thinking(client):
    # max_tokens (not max_completion_tokens) on a model that could stop thinking: it does.
    reply = client.chat.completions.create(model=GLM, messages=user(QUESTION), max_tokens=2)
    assert reply.choices[0].message.content == "Echo: why"
    assert reasoning_of(reply.choices[0].message) is None
    assert reply.choices[0].finish_reason == "length"


@pytest.mark.parametrize("model", ["gpt-4.1", "@cf/qwen/qwen3-30b-a3b-fp8", QWQ, DEEPSEEK_R1])
def test_reasoning_effort_on_a_model_without_the_setting_is_refused(client, model):
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=model, messages=user(QUESTION), reasoning_effort="low")
    assert (refused.value.body["param"], refused.value.body["code"]) == ("reasoning_effort", "unsupported_parameter")


def test_reasoning_comes_with_tool_calls(client):
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "properties": {"q": {"type": "string"}}}}}]
    reply = client.chat.completions.create(model=GLM, messages=user("[[call]] look it up"), tools=tools)
    message = reply.choices[0].message
    assert reasoning_of(message) == "Thinking about: look it up"
    assert (message.content, message.tool_calls[0].function.name) == (None, "lookup")
