"""api.textgen: model inputs from OpenAI parameters; whole and streamed results of every shape."""
import pytest

from api import textgen
from api.catalog import BY_ID
from api.errors import InvalidRequest, UpstreamError
from api.textgen import Generation, StreamedGeneration, Usage
from api.types.chat import ChatCompletionCreateParams
from unit.support import choices_result, native, native_stream, oai_stream, run, sse

NATIVE = BY_ID["@cf/meta/llama-3.3-70b-instruct-fp8-fast"]
ZERO_PENALTY = BY_ID["@cf/meta/llama-3.1-8b-instruct-fast"]
CHOICES = BY_ID["@cf/qwen/qwen3-30b-a3b-fp8"]
OPENAI = BY_ID["@cf/zai-org/glm-4.7-flash"]


def params(**fields):
    return ChatCompletionCreateParams(model="m", messages=[{"role": "user", "content": "hi"}], **fields)


# --- inputs ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("fields,spec,limit", [
    ({}, NATIVE, 4096), ({}, CHOICES, 4096), ({}, OPENAI, None),
    ({"max_tokens": 100}, NATIVE, 100), ({"max_tokens": 100}, OPENAI, 100),
    ({"max_completion_tokens": 50}, NATIVE, 50), ({"max_completion_tokens": 50}, OPENAI, 50),
    ({"max_tokens": 100, "max_completion_tokens": 50}, NATIVE, 50),
])
def test_max_tokens(fields, spec, limit):
    assert textgen.max_tokens(params(**fields), spec) == limit


def test_inputs_forward_sampling_parameters_and_drop_unset_ones():
    chosen = params(temperature=0, top_p=0.9, frequency_penalty=-1.5, presence_penalty=2)
    assert textgen.inputs(chosen, NATIVE, 64, messages=["m"]) == {
        "messages": ["m"], "max_tokens": 64, "temperature": 0, "top_p": 0.9,
        "frequency_penalty": -1.5, "presence_penalty": 2}
    assert textgen.inputs(params(), OPENAI, None, prompt="p") == {"prompt": "p"}


@pytest.mark.parametrize("seed,mapped", [(0, 1), (1, 2), (42, 43), (9_999_999_998, 9_999_999_999),
                                         (9_999_999_999, 1), (-1, 9_999_999_999), (2**63 - 1, None)])
def test_native_seeds_land_in_range(seed, mapped):
    sent = textgen.inputs(params(seed=seed), NATIVE, 10)["seed"]
    assert 1 <= sent <= textgen.NATIVE_SEED_MAX
    assert sent == textgen.inputs(params(seed=seed), NATIVE, 10)["seed"]
    if mapped is not None:
        assert sent == mapped


def test_openai_shaped_models_get_the_seed_as_is():
    assert textgen.inputs(params(seed=0), OPENAI, None)["seed"] == 0


@pytest.mark.parametrize("name", ["frequency_penalty", "presence_penalty"])
def test_negative_penalty_on_a_zero_to_two_model(name):
    with pytest.raises(InvalidRequest) as raised:
        textgen.inputs(params(**{name: -0.1}), ZERO_PENALTY, 10)
    assert (raised.value.param, raised.value.code, raised.value.message) == (
        name, "invalid_value", f"Invalid value for '{name}': {ZERO_PENALTY.id} accepts 0 to 2.")
    assert textgen.inputs(params(**{name: 0}), ZERO_PENALTY, 10)[name] == 0


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
    (choices_result("Hi!", "stop", 9, 2), None, Generation("Hi!", "stop", Usage(9, 2))),
    (choices_result("Hi", "length", 9, 2), None, Generation("Hi", "length", Usage(9, 2))),
    (choices_result(None, "length", 9, 64), 64, Generation("", "length", Usage(9, 64))),
    (choices_result("Hi", None, 9, 64), 64, Generation("Hi", "length", Usage(9, 64))),
], ids=["native", "number", "at-limit", "over-limit", "under-limit", "no-limit", "no-usage",
        "no-usage-at-limit", "null-response", "choices", "choices-length", "choices-null-content",
        "choices-no-reason"])
def test_generation(result, limit, expected):
    assert textgen.generation(result, limit, prompt_estimate=7) == expected


@pytest.mark.parametrize("result", [None, "text", [], {}, {"choices": []}, {"usage": {"prompt_tokens": 1}}])
def test_unusable_results_are_upstream_errors(result):
    with pytest.raises(UpstreamError) as raised:
        textgen.generation(result, 10, 0)
    assert raised.value.status == 502


# --- streamed results -----------------------------------------------------------------------------

async def _aiter(items):
    for item in items:
        yield item


def stream(chunks, limit=4096, prompt_estimate=7):
    upstream = StreamedGeneration(_aiter(chunks), limit, prompt_estimate)

    async def collect():
        return [text async for text in upstream.texts()]
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
    upstream = StreamedGeneration(_aiter(chunks), 10, 0)

    async def collect(seen):
        async for text in upstream.texts():
            seen.append(text)
    seen = []
    with pytest.raises(UpstreamError):
        run(collect(seen))
    assert seen == ["a"]
