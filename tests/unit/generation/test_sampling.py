"""api.generation.sampling: model inputs from OpenAI parameters; whole and streamed results of every shape."""
import pytest

from api.generation import sampling
from api.catalog import BY_ID
from api.errors import InvalidRequest
from api.types.chat import ChatCompletionCreateParams

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
    assert sampling.max_tokens(params(**fields), spec) == limit


def test_inputs_forward_sampling_parameters_and_drop_unset_ones():
    chosen = params(temperature=0, top_p=0.9, frequency_penalty=-1.5, presence_penalty=2)
    assert sampling.inputs(chosen, NATIVE, 64, messages=["m"]) == {
        "messages": ["m"], "max_tokens": 64, "temperature": 0, "top_p": 0.9,
        "frequency_penalty": -1.5, "presence_penalty": 2}
    assert sampling.inputs(params(), OPENAI, None, prompt="p") == {"prompt": "p"}


@pytest.mark.parametrize("seed,mapped", [(0, 1), (1, 2), (42, 43), (9_999_999_998, 9_999_999_999),
                                         (9_999_999_999, 1), (-1, 9_999_999_999), (2**63 - 1, None)])
def test_native_seeds_land_in_range(seed, mapped):
    sent = sampling.inputs(params(seed=seed), NATIVE, 10)["seed"]
    assert 1 <= sent <= sampling.NATIVE_SEED_MAX
    assert sent == sampling.inputs(params(seed=seed), NATIVE, 10)["seed"]
    if mapped is not None:
        assert sent == mapped


def test_openai_shaped_models_get_the_seed_as_is():
    assert sampling.inputs(params(seed=0), OPENAI, None)["seed"] == 0


@pytest.mark.parametrize("name", ["frequency_penalty", "presence_penalty"])
def test_negative_penalty_on_a_zero_to_two_model(name):
    with pytest.raises(InvalidRequest) as raised:
        sampling.inputs(params(**{name: -0.1}), ZERO_PENALTY, 10)
    assert (raised.value.param, raised.value.code, raised.value.message) == (
        name, "invalid_value", f"Invalid value for '{name}': {ZERO_PENALTY.id} accepts 0 to 2.")
    assert sampling.inputs(params(**{name: 0}), ZERO_PENALTY, 10)[name] == 0
