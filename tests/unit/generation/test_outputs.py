"""api.generation.outputs: whole and streamed results of every upstream shape — text, tool calls, reasoning,
logprobs, usage — normalised."""
import pytest

from api.catalog import BY_ID
from api.errors import UpstreamError
from api.generation.outputs import (Delta, Generation, StreamedGeneration, ThinkSplitter, ToolCall, Usage, deltas_of, generation,
                         proxy_tool_id, tool_call)
from fakes import ScriptedFeed
from unit.support import (choices_result, flat_call, llama4_call, native, native_stream, native_tools, oai_call,
                          oai_chunks, oai_stream, oai_tool_deltas, resplit, run, sse, usage)

SPEC = BY_ID["@cf/meta/llama-3.1-8b-instruct-fast"]


def new_id():
    return "call_000000001"


# --- whole results --------------------------------------------------------------------------------

@pytest.mark.parametrize("result,limit,expected", [
    (native("Hello there", 12, 2), 4096, Generation("Hello there", "stop", Usage(12, 2))),
    (native(42, 12, 1), 4096, Generation("42", "stop", Usage(12, 1))),
    (native("Hello there", 12, 100), 100, Generation("Hello there", "length", Usage(12, 100))),
    (native("Hello there", 12, 101), 100, Generation("Hello there", "length", Usage(12, 101))),
    (native("Hello there", 12, 99), 100, Generation("Hello there", "stop", Usage(12, 99))),
    (native("Hello there", 12, 5000), None, Generation("Hello there", "stop", Usage(12, 5000))),
    ({"response": "Hello, world!"}, 4096, Generation("Hello, world!", "stop", Usage(7, 4))),
    ({"response": "a b c"}, 3, Generation("a b c", "length", Usage(7, 3))),
    ({"response": None, "usage": None}, 10, Generation("", "stop", Usage(7, 0))),
    (choices_result("Hi!", "stop", 9, 2), None, Generation("Hi!", "stop", Usage(9, 2, 0))),
    (choices_result("Hi", "length", 9, 2), None, Generation("Hi", "length", Usage(9, 2, 0))),
    (choices_result(None, "length", 9, 64), 64, Generation("", "length", Usage(9, 64, 0))),
    (choices_result("Hi", None, 9, 64), 64, Generation("Hi", "length", Usage(9, 64, 0))),
    (choices_result("Hi", "stop", 9, 2, cached=8), None, Generation("Hi", "stop", Usage(9, 2, 8))),
], ids=["native", "number", "at-limit", "over-limit", "under-limit", "no-limit", "no-usage",
        "no-usage-at-limit", "null-response", "choices", "choices-length", "choices-null-content",
        "choices-no-reason", "choices-cached"])
def test_generation(result, limit, expected):
    assert generation(result, SPEC, limit, 7, new_id) == expected


@pytest.mark.parametrize("result", [None, "text", [], {}, {"choices": []}, {"usage": {"prompt_tokens": 1}}])
def test_unusable_results_are_upstream_errors(result):
    with pytest.raises(UpstreamError) as raised:
        generation(result, SPEC, 10, 0, new_id)
    assert raised.value.status == 502


# --- streamed results -----------------------------------------------------------------------------

def stream(chunks, limit=4096, prompt_estimate=7):
    upstream = StreamedGeneration(ScriptedFeed(chunks), SPEC, limit, prompt_estimate, new_id)

    async def collect():
        return [delta.text async for delta in upstream.deltas()]
    return run(collect()), upstream.ending()


def test_native_stream():
    texts, ending = stream(native_stream(["Hel", "lo", " world"], prompt=169, completion=48))
    assert texts == ["Hel", "lo", " world"]
    assert ending == ("stop", Usage(169, 48))


def test_native_stream_split_anywhere():
    whole = "".join(native_stream(["Hel", "lo"], prompt=5, completion=2))
    for cut in range(len(whole) + 1):
        assert stream([whole[:cut], whole[cut:]]) == (["Hel", "lo"], ("stop", Usage(5, 2)))


def test_native_stream_numbers_and_empty_pieces():
    chunks = [sse({"response": 4}), sse({"response": ""}), sse({"response": 2, "p": "x"}), sse("[DONE]")]
    assert stream(chunks)[0] == ["4", "2"]


def test_native_stream_at_the_limit_is_length():
    assert stream(native_stream(["a", " b"], prompt=3, completion=2), limit=2)[1] == ("length", Usage(3, 2))


def test_native_stream_without_usage_is_estimated():
    texts, ending = stream(native_stream(["Hello", ", world", "!"]))
    assert ending == ("stop", Usage(7, 4))


def test_openai_shaped_stream_cumulative_trailer_wins():
    texts, ending = stream(oai_stream(["The", " answer", " is", " 42."], "stop", prompt=9, completion=5),
                           limit=None)
    assert texts == ["The", " answer", " is", " 42."]
    assert ending == ("stop", Usage(9, 5))  # not the last chunk's 1, nor a sum of increments and total


def test_per_chunk_usage_never_replaces_the_cumulative_total():
    events = oai_stream(["a", "b"], "stop", prompt=9, completion=2)
    late_chunk = events[1]  # a content chunk carrying incremental usage, after the total this time
    texts, ending = stream(events[:-1] + [late_chunk, events[-1]], limit=None)
    assert texts == ["a", "b", "a"]
    assert ending == ("stop", Usage(9, 2))


def test_openai_shaped_stream_without_totals_is_estimated_not_summed_from_increments():
    texts, ending = stream(oai_stream(["The", " answer", " is", " 42."], "stop"), limit=None, prompt_estimate=6)
    assert ending == ("stop", Usage(6, 5))  # estimated: 4 words and a full stop


def test_openai_shaped_stream_finish_reason_passes_through():
    assert stream(oai_stream(["a"], "length", prompt=9, completion=1), limit=None)[1] == ("length", Usage(9, 1))


def test_openai_shaped_stream_split_anywhere():
    whole = "".join(oai_stream(["x", "y"], "stop", prompt=4, completion=2))
    for cut in range(0, len(whole) + 1, 7):
        assert stream([whole[:cut], whole[cut:]], limit=None) == (["x", "y"], ("stop", Usage(4, 2)))


def test_error_event_in_the_stream_raises():
    chunks = native_stream(["a"])[:1] + [sse({"error": "InferenceUpstreamError: 3040"})]
    upstream = StreamedGeneration(ScriptedFeed(chunks), SPEC, 10, 0, new_id)

    async def collect(seen):
        async for delta in upstream.deltas():
            seen.append(delta.text)
    seen = []
    with pytest.raises(UpstreamError):
        run(collect(seen))
    assert seen == ["a"]


# --- usage ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw,expected", [
    ({"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}, Usage(5, 2)),
    ({"prompt_tokens": 5, "completion_tokens": 2, "prompt_tokens_details": {"cached_tokens": 4}}, Usage(5, 2, 4)),
    ({"prompt_tokens": 5, "completion_tokens": 2, "prompt_tokens_details": None}, Usage(5, 2)),
    ({"prompt_tokens": None}, Usage(0, 0)),
    (None, None),
    ("12", None),
])
def test_usage_parse(raw, expected):
    assert Usage.parse(raw) == expected


@pytest.mark.parametrize("a,b,total", [
    (Usage(1, 2), Usage(3, 4), Usage(4, 6)),
    (Usage(1, 2, 1), Usage(3, 4), Usage(4, 6, 1)),
    (Usage(1, 2, 1), Usage(3, 4, 0), Usage(4, 6, 1)),
    (Usage(), Usage(3, 4, 2), Usage(3, 4, 2)),
])
def test_usage_sums(a, b, total):
    assert a + b == total


def test_usage_wire():
    assert Usage(5, 2).wire() == {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    assert Usage(5, 2, 0).wire() == {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7,
                                      "prompt_tokens_details": {"cached_tokens": 0}}


# --- tool calls -----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw,expected", [
    (flat_call("get_weather", {"city": "Paris"}), ToolCall("call_000000001", "get_weather", '{"city":"Paris"}')),
    (flat_call("ping", None), ToolCall("call_000000001", "ping", "{}")),
    (flat_call("ping", {}), ToolCall("call_000000001", "ping", "{}")),
    (llama4_call("Ab3dE6gH9", "get_weather", {"city": "Paris"}),
     ToolCall("call_Ab3dE6gH9", "get_weather", '{"city":"Paris"}')),
    (oai_call("call_9f8e7d6c5b4a", "get_weather", '{"city": "Paris"}'),
     ToolCall("call_9f8e7d6c5b4a", "get_weather", '{"city": "Paris"}')),
    (oai_call("chatcmpl-tool-1f2e", "f", ""), ToolCall("chatcmpl-tool-1f2e", "f", "")),
    ({"id": None, "type": "function", "function": {"name": "f", "arguments": {"a": [1, "é"]}}},
     ToolCall("call_000000001", "f", '{"a":[1,"\\u00e9"]}')),
], ids=["flat", "flat-null-arguments", "flat-empty-arguments", "llama-4", "openai-shaped", "openai-empty-arguments",
        "null-id"])
def test_tool_call_shapes(raw, expected):
    call = tool_call(raw, new_id)
    assert call == expected
    assert call.wire() == {"id": expected.id, "type": "function",
                           "function": {"name": expected.name, "arguments": expected.arguments}}


@pytest.mark.parametrize("raw", [{"arguments": {}}, {"function": {"name": ""}}, {"name": None}])
def test_a_tool_call_needs_a_name(raw):
    with pytest.raises(UpstreamError):
        tool_call(raw, new_id)


@pytest.mark.parametrize("model_id,proxy", [
    (None, "call_000000001"), ("", "call_000000001"), ("Ab3dE6gH9", "call_Ab3dE6gH9"),
    ("Ab3dE6gH", "Ab3dE6gH"), ("call_Ab3dE6gH9", "call_Ab3dE6gH9"), ("ab-de_gh9", "ab-de_gh9"),
])
def test_proxy_tool_ids(model_id, proxy):
    assert proxy_tool_id(model_id, new_id) == proxy


@pytest.mark.parametrize("result,expected", [
    (native_tools([flat_call("f", {"x": 1})]),
     Generation(None, "tool_calls", Usage(10, 8), tool_calls=[ToolCall("call_000000001", "f", '{"x":1}')])),
    (native_tools([flat_call("f", {"x": 1})], response="Calling f."),
     Generation("Calling f.", "tool_calls", Usage(10, 8),
                tool_calls=[ToolCall("call_000000001", "f", '{"x":1}')])),
    (choices_result(None, "tool_calls", 9, 4,
                    tool_calls=[oai_call("call_a", "f", "{}"), oai_call("call_b", "g", "{}")]),
     Generation(None, "tool_calls", Usage(9, 4, 0),
                tool_calls=[ToolCall("call_a", "f", "{}"), ToolCall("call_b", "g", "{}")])),
    # gpt-oss and others may report "stop" with a call: the call decides.
    (choices_result(None, "stop", 9, 4, tool_calls=[oai_call("call_a", "f", "{}")]),
     Generation(None, "tool_calls", Usage(9, 4, 0), tool_calls=[ToolCall("call_a", "f", "{}")])),
], ids=["native", "native-with-text", "openai-shaped-two", "openai-shaped-says-stop"])
def test_generation_with_tool_calls(result, expected):
    assert generation(result, SPEC, 4096, 7, new_id) == expected


# --- reasoning, JSON mode, logprobs ----------------------------------------------------------------

R1 = BY_ID["@cf/deepseek-ai/deepseek-r1-distill-qwen-32b"]
LOGPROBS = {"content": [{"token": "Hi", "logprob": -0.5, "bytes": [72, 105], "top_logprobs": []}], "refusal": None}


@pytest.mark.parametrize("result,spec,expected", [
    (choices_result("Paris.", reasoning_content="Capital..."), SPEC,
     Generation("Paris.", "stop", Usage(10, 3, 0), reasoning="Capital...")),
    (choices_result("Paris.", reasoning_content=None, reasoning="Capital..."), SPEC,
     Generation("Paris.", "stop", Usage(10, 3, 0), reasoning="Capital...")),
    ({"response": "Paris.", "reasoning_content": "Capital...", "usage": usage(10, 3)}, SPEC,
     Generation("Paris.", "stop", Usage(10, 3), reasoning="Capital...")),
    (native("<think>Capital...</think>Paris."), R1, Generation("Paris.", "stop", Usage(10, 3), reasoning="Capital...")),
    (native("  <think>\nCapital...\n</think>\n\nParis."), R1,
     Generation("Paris.", "stop", Usage(10, 3), reasoning="\nCapital...\n")),
    (native("<think>Capital... and then cut"), R1,
     Generation("", "stop", Usage(10, 3), reasoning="Capital... and then cut")),
    (native("Paris. <think>not at the start</think>"), R1,
     Generation("Paris. <think>not at the start</think>", "stop", Usage(10, 3))),
    (native("<think>tags only for R1</think>Paris."), SPEC,
     Generation("<think>tags only for R1</think>Paris.", "stop", Usage(10, 3))),
    (native({"name": "Ada", "tags": ["x"]}), SPEC, Generation('{"name":"Ada","tags":["x"]}', "stop", Usage(10, 3))),
    (choices_result("Hi", logprobs=LOGPROBS), SPEC, Generation("Hi", "stop", Usage(10, 3, 0), logprobs=LOGPROBS)),
], ids=["reasoning_content", "reasoning", "native-reasoning_content", "think-tags", "think-tags-whitespace",
        "think-unclosed", "think-not-at-start", "think-tags-on-other-models", "json-mode-object", "logprobs"])
def test_generation_parts(result, spec, expected):
    assert generation(result, spec, 4096, 7, new_id) == expected


def test_deltas_of_a_whole_result():
    whole = Generation("Paris.", "tool_calls", Usage(1, 1), reasoning="Think.", logprobs=LOGPROBS,
                       tool_calls=[ToolCall("call_a", "f", "{}"), ToolCall("call_b", "g", '{"x":1}')])
    # Calls as OpenAI streams them: id and name with empty arguments, then the arguments.
    assert deltas_of(whole) == [
        Delta(reasoning="Think."), Delta(text="Paris.", logprobs=LOGPROBS),
        Delta(tool_calls=[{"index": 0, **oai_call("call_a", "f", "")}]),
        Delta(tool_calls=[{"index": 0, "function": {"arguments": "{}"}}]),
        Delta(tool_calls=[{"index": 1, **oai_call("call_b", "g", "")}]),
        Delta(tool_calls=[{"index": 1, "function": {"arguments": '{"x":1}'}}])]
    assert deltas_of(Generation("", "stop", Usage())) == []
    assert deltas_of(Generation(None, "tool_calls", Usage(), tool_calls=[ToolCall("c", "f", "")])) == [
        Delta(tool_calls=[{"index": 0, **oai_call("c", "f", "")}])]


# --- ThinkSplitter --------------------------------------------------------------------------------

def split(pieces):
    splitter, reasoning, answer = ThinkSplitter(), "", ""
    for piece in pieces:
        r, a = splitter.feed(piece)
        reasoning, answer = reasoning + r, answer + a
    r, a = splitter.flush()
    return reasoning + r, answer + a


@pytest.mark.parametrize("text,expected", [
    ("<think>Plan.</think>Answer.", ("Plan.", "Answer.")),
    ("\n <think>Plan.</think>Answer.", ("Plan.", "Answer.")),
    ("<think>\nPlan.\n</think>\n\nAnswer.", ("\nPlan.\n", "Answer.")),
    ("<think></think>Answer.", ("", "Answer.")),
    ("<think>Plan with < and </thin and </ in it.</think>Answer.", ("Plan with < and </thin and </ in it.", "Answer.")),
    ("<think>Never closed", ("Never closed", "")),
    ("<thin", ("", "<thin")),
    ("<thinking>x", ("", "<thinking>x")),
    ("Answer with <think>late tags</think>.", ("", "Answer with <think>late tags</think>.")),
    ("", ("", "")),
], ids=["tags", "leading-space", "r1-whitespace", "empty-thought", "tag-lookalikes", "unclosed", "tag-prefix-only",
        "other-tag", "late-tags", "empty"])
def test_think_splitter_at_every_split_point(text, expected):
    assert split([text]) == expected
    for i in range(len(text) + 1):
        assert split([text[:i], text[i:]]) == expected, i
    for i in range(len(text) + 1):
        for j in range(i, len(text) + 1, 3):
            assert split([text[:i], text[i:j], text[j:]]) == expected, (i, j)
    assert split(list(text)) == expected


def test_think_splitter_lets_the_answer_through_as_it_comes():
    splitter = ThinkSplitter()
    assert [splitter.feed(p) for p in ("<think>", "Pl", "an</thi", "nk>An", "swer")] == [
        ("", ""), ("Pl", ""), ("an", ""), ("", "An"), ("", "swer")]
    assert splitter.feed("Hello") == ("", "Hello") and ThinkSplitter().feed("Hello") == ("", "Hello")


# --- streamed tool calls, reasoning, logprobs, whole results as one event ---------------------------

def deltas(chunks, spec=SPEC, limit=4096):
    upstream = StreamedGeneration(ScriptedFeed(chunks), spec, limit, 7, new_id)

    async def collect():
        return [delta async for delta in upstream.deltas()]
    return run(collect()), upstream


def test_openai_shaped_tool_call_deltas():
    chunks = oai_chunks(oai_tool_deltas(0, "call_a", "f", ['{"x"', ":1}"]) + oai_tool_deltas(1, "call_b", "g", []),
                        "tool_calls", completion=6)
    got, upstream = deltas(chunks)
    assert [d.tool_calls for d in got] == [
        [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "f", "arguments": ""}}],
        [{"index": 0, "function": {"arguments": '{"x"'}}], [{"index": 0, "function": {"arguments": ":1}"}}],
        [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "g", "arguments": ""}}]]
    assert upstream.tool_calls == [ToolCall("call_a", "f", '{"x":1}'), ToolCall("call_b", "g", "")]
    assert upstream.ending() == ("tool_calls", Usage(10, 6))


def test_tool_call_deltas_without_an_index_take_their_position():
    delta = {"tool_calls": [{"id": "call_a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                            {"id": "call_b", "type": "function", "function": {"name": "g", "arguments": "{}"}}]}
    got, upstream = deltas(oai_chunks([delta], "tool_calls"))
    assert [c["index"] for c in got[0].tool_calls] == [0, 1]
    assert [c.name for c in upstream.tool_calls] == ["f", "g"]


def test_fragments_with_object_arguments_are_serialised():
    delta = {"tool_calls": [{"index": 0, **llama4_call("call_a", "f", {"x": 1})}]}
    got, upstream = deltas(oai_chunks([delta], "tool_calls"))
    assert got[0].tool_calls[0]["function"]["arguments"] == '{"x":1}'


@pytest.mark.parametrize("call,call_id", [(flat_call("f", {"x": 1}), "call_000000001"),
                                          (llama4_call("Ab3dE6gH9", "f", {"x": 1}), "call_Ab3dE6gH9")])
def test_native_tool_call_events(call, call_id):
    chunks = [sse({"response": "", "tool_calls": []}), sse({"response": "", "tool_calls": [call, flat_call("g", {})]}),
              sse({"response": "", "usage": usage(5, 4)}), sse("[DONE]")]
    got, upstream = deltas(chunks)
    assert [d.tool_calls for d in got] == [[
        {"index": 0, "id": call_id, "type": "function", "function": {"name": "f", "arguments": '{"x":1}'}},
        {"index": 1, "id": "call_000000001", "type": "function", "function": {"name": "g", "arguments": "{}"}}]]
    assert upstream.ending() == ("tool_calls", Usage(5, 4))


def test_reasoning_deltas():
    chunks = oai_chunks([{"reasoning_content": "Hm", "content": None}, {"reasoning": "m.", "content": None},
                         {"content": "Yes", "reasoning_content": None}], "stop")
    got, _ = deltas(chunks)
    assert [(d.reasoning, d.text) for d in got] == [("Hm", ""), ("m.", ""), ("", "Yes")]


def test_logprobs_deltas():
    got, _ = deltas(oai_chunks([{"content": "Hi"}], "stop", logprobs=[LOGPROBS]))
    assert got == [Delta(text="Hi", logprobs=LOGPROBS)]


def test_streamed_think_tags():
    got, _ = deltas(native_stream(["<thi", "nk>Pl", "an.</think>An", "swer."]), spec=R1)
    assert ("".join(d.reasoning for d in got), "".join(d.text for d in got)) == ("Plan.", "Answer.")


def test_streamed_unclosed_think_is_flushed_as_reasoning():
    got, _ = deltas(native_stream(["<think>Pla", "n</thi"]), spec=R1)
    assert ("".join(d.reasoning for d in got), "".join(d.text for d in got)) == ("Plan</thi", "")


@pytest.mark.parametrize("whole,expected,ending", [
    (choices_result("Hi", "length", 9, 2, reasoning_content="Hm."), [Delta(text="Hi", reasoning="Hm.")],
     ("length", Usage(9, 2, 0))),
    (choices_result(None, "tool_calls", 9, 2, tool_calls=[oai_call("call_a", "f", '{"x":1}')]),
     [Delta(tool_calls=[{"index": 0, **oai_call("call_a", "f", '{"x":1}')}])],
     ("tool_calls", Usage(9, 2, 0))),
    (native("Hi", 9, 2), [Delta(text="Hi")], ("stop", Usage(9, 2))),
], ids=["openai-shaped", "openai-shaped-tool-call", "native"])
def test_a_whole_result_as_one_event(whole, expected, ending):
    got, upstream = deltas([sse(whole), sse("[DONE]")])
    assert (got, upstream.ending()) == (expected, ending)


@pytest.mark.parametrize("seed", range(4))
def test_tool_call_streams_split_anywhere(seed):
    chunks = oai_chunks(oai_tool_deltas(0, "call_a", "f", ['{"x"', ":1}"]), "tool_calls", completion=6)
    whole = "".join(chunks)
    got, upstream = deltas(resplit(chunks, range(seed + 1, len(whole), 13 + seed)))
    assert upstream.tool_calls == [ToolCall("call_a", "f", '{"x":1}')]
    assert len(got) == 3
