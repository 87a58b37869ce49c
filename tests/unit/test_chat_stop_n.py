"""Chat completions with stop sequences (enforced by us, also across streamed chunks) and n choices
(parallel calls, usage summed, streamed choices interleaved)."""
import pytest

from unit.support import (DONE, LLAMA, USER, by_choice, choices_result, content_of, create_chat, drain, error,
                          model_inputs, native, native_stream, oai_stream, resplit, run, stream_chat)

GLM = "@cf/zai-org/glm-4.7-flash"
TEXT_PIECES = ["Roses are red,", "\nViolets", " are blue.", "\nEND", "\nThat was", " the poem."]
BEFORE_END = "Roses are red,\nViolets are blue.\n"


@pytest.fixture(autouse=True)
def run_deferred_work(deps):
    yield
    run(drain(deps))


# --- stop -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("stop,content", [
    ("END", BEFORE_END),
    (["END"], BEFORE_END),
    (["\n"], "Roses are red,"),
    (["blue", "red"], "Roses are "),  # the earliest in the text, whatever the list's order
    (["nowhere", "x", "y", "poem"], "Roses are red,\nViolets are blue.\nEND\nThat was the "),
    (["not there"], "".join(TEXT_PIECES)),
])
def test_stop_cuts_whole_answers(deps, stop, content):
    response = create_chat(deps, native("".join(TEXT_PIECES), 10, 100), stop=stop, max_tokens=100)
    choice = response.body["choices"][0]
    found = content != "".join(TEXT_PIECES)
    assert (choice["message"]["content"], choice["finish_reason"]) == (content, "stop" if found else "length")


def test_stop_on_an_openai_shaped_model_is_also_sent_upstream(deps):
    response = create_chat(deps, choices_result("a\nb", "stop"), model=GLM, stop="\n")
    assert (model_inputs(deps)["stop"], response.body["choices"][0]["message"]["content"]) == (["\n"], "a")


def test_native_models_get_no_stop(deps):
    create_chat(deps, stop=["\n"])
    assert model_inputs(deps) == {"messages": [USER], "max_tokens": 4096}


@pytest.mark.parametrize("stop", [["a", "b", "c", "d", "e"], "", [""], ["x", ""]])
def test_stop_takes_up_to_four_non_empty_strings(deps, stop):
    response = create_chat(deps, stop=stop)
    assert (response.status, response.body) == (400, error("'stop' takes up to 4 non-empty strings.", "stop"))
    assert deps.ai.calls == []


def test_stop_does_not_touch_reasoning(deps):
    answer = choices_result("Answer.\nMore", reasoning_content="Think.\nThink more.")
    message = create_chat(deps, answer, model=GLM, stop="\n").body["choices"][0]["message"]
    assert (message["content"], message["reasoning_content"]) == ("Answer.", "Think.\nThink more.")


def test_a_stop_before_tool_calls_leaves_a_consistent_answer(deps):
    # Clients run tools when finish_reason says "tool_calls"; a cut answer must not carry calls
    # under "stop" (streamed, the calls after the stop are dropped and the finish is "stop").
    call = {"id": "call_a", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    answer = choices_result("Let me look.\nCalling f.", "tool_calls", tool_calls=[call])
    choice = create_chat(deps, answer, model=GLM, stop="\n",
                         tools=[{"type": "function", "function": {"name": "f"}}]).body["choices"][0]
    assert choice["message"]["content"] == "Let me look."
    assert ("tool_calls" in choice["message"]) == (choice["finish_reason"] == "tool_calls"), choice


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("shape", ["native", "openai"])
def test_streamed_stop_split_across_chunks_is_never_emitted(deps, seed, shape):
    chunks = native_stream(TEXT_PIECES, 10, 30) if shape == "native" else oai_stream(TEXT_PIECES, "stop", 10, 30)
    whole = "".join(chunks)
    points = range(1 + seed, len(whole), 3 + seed)  # different cuts per seed, through every event
    parsed = stream_chat(deps, resplit(chunks, points), model=LLAMA if shape == "native" else GLM, stop=["\nEND"])
    [choices] = by_choice(parsed).values()
    assert content_of(choices) == BEFORE_END[:-1]  # no piece of "\nEND" ever went out
    assert (choices[-1], parsed[-1]) == ({"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}, DONE)
    assert all(c["finish_reason"] is None for c in choices[:-1])


def test_streamed_held_back_text_that_was_no_stop_is_sent(deps):
    parsed = stream_chat(deps, native_stream(["Roses are red\nE", "N"], 3, 4), stop=["\nEND"])
    [choices] = by_choice(parsed).values()
    assert (content_of(choices), choices[-1]["finish_reason"]) == ("Roses are red\nEN", "stop")


def test_a_stopped_stream_is_not_read_further_and_its_usage_is_estimated(deps):
    chunks = native_stream(["a", "b\nc"], 3, 4)[:2] + [RuntimeError("never read")]
    parsed = stream_chat(deps, chunks, stop="\n", stream_options={"include_usage": True})
    assert content_of(by_choice(parsed)[0]) == "ab"
    # Workers AI's totals come after the stop and are not awaited: "Say hello" and "ab\nc" (what was
    # generated, as far as it was read) are estimated.
    assert parsed[-2]["usage"] == {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}
    assert parsed[-1] == DONE


def test_streamed_n_with_stop_each_choice_stops_on_its_own(deps):
    answers = [native_stream(["one\ntwo", " three"], 3, 3), native_stream(["uno", " dos", "\ntres"], 3, 3),
               native_stream(["eins zwei drei"], 3, 3)]
    parsed = stream_chat(deps, *answers, n=3, stop="\n")
    choices = by_choice(parsed)
    assert {i: (content_of(c), c[-1]["finish_reason"]) for i, c in choices.items()} == {
        0: ("one", "stop"), 1: ("uno dos", "stop"), 2: ("eins zwei drei", "stop")}


# --- n --------------------------------------------------------------------------------------------

def test_n_makes_n_calls_with_the_same_inputs(deps):
    response = create_chat(deps, native("one", 10, 1), native("two", 10, 2), native("three", 10, 3), n=3)
    assert [(c["index"], c["message"]["content"], c["finish_reason"]) for c in response.body["choices"]] == [
        (0, "one", "stop"), (1, "two", "stop"), (2, "three", "stop")]
    assert response.body["usage"] == {"prompt_tokens": 30, "completion_tokens": 6, "total_tokens": 36}
    assert [call for call in deps.ai.calls] == [(LLAMA, {"messages": [USER], "max_tokens": 4096}, None)] * 3


def test_n_sums_cached_tokens(deps):
    response = create_chat(deps, choices_result("a", cached=4), choices_result("b", cached=6), model=GLM, n=2)
    assert response.body["usage"] == {"prompt_tokens": 20, "completion_tokens": 6, "total_tokens": 26,
                                      "prompt_tokens_details": {"cached_tokens": 10}}


def test_n_records_the_summed_usage(deps):
    create_chat(deps, native("a", 10, 1), native("b", 10, 2), n=2)
    run(drain(deps))
    assert [(e["prompt_tokens"], e["completion_tokens"]) for e in deps.jobs.sent] == [(20, 3)]


def test_n_fails_if_any_call_fails(deps):
    response = create_chat(deps, native("a"), RuntimeError("boom"), n=2)
    assert response.status == 500


def test_streamed_n_interleaves_choices(deps):
    parsed = stream_chat(deps, native_stream(["A1", "A2", "A3"], 5, 3), native_stream(["B1", "B2", "B3"], 5, 3), n=2,
                         stream_options={"include_usage": True})
    order = [p["choices"][0]["index"] for p in parsed[:-2]]
    assert order != sorted(order)  # choices are sent as they arrive, not one after the other
    choices = by_choice(parsed)
    for index, pieces in ((0, "A1A2A3"), (1, "B1B2B3")):
        entries = choices[index]
        assert all(e["index"] == index for e in entries)
        assert entries[0]["delta"] == {"role": "assistant", "content": ""}
        assert (content_of(entries), entries[-1]["finish_reason"]) == (pieces, "stop")
        assert [e["finish_reason"] for e in entries[:-1]] == [None] * (len(entries) - 1)
    assert parsed[-2] == {**{k: parsed[0][k] for k in ("id", "object", "created", "model")}, "choices": [],
                          "usage": {"prompt_tokens": 10, "completion_tokens": 6, "total_tokens": 16}}
    assert parsed[-1] == DONE


def test_streamed_n_role_chunks_come_first(deps):
    parsed = stream_chat(deps, native_stream(["a"], 1, 1), native_stream(["b"], 1, 1), n=2)
    assert [(p["choices"][0]["index"], p["choices"][0]["delta"]) for p in parsed[:2]] == [
        (0, {"role": "assistant", "content": ""}), (1, {"role": "assistant", "content": ""})]


def test_streamed_n_makes_n_streaming_calls(deps):
    stream_chat(deps, native_stream(["a"], 1, 1), native_stream(["b"], 1, 1), n=2)
    assert [inputs for _, inputs, _ in deps.ai.calls] == [{"messages": [USER], "max_tokens": 4096, "stream": True}] * 2
