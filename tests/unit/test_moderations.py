"""POST /v1/moderations through api.app: the Llama Guard → OpenAI category table, both output
forms of the model, list and multi-modal inputs, usage, and validation."""
import pytest

from api.errors import workers_ai_error
from api.resources import moderations
from api.resources.moderations import CATEGORIES, HAZARDS
from unit.support import NOW, drain, error, post, run, usage

GUARD = "@cf/meta/llama-guard-3-8b"
GUARD_INPUTS = {"response_format": {"type": "json_object"}, "temperature": 0}


@pytest.fixture(autouse=True)
def run_deferred_work(deps):
    yield
    run(drain(deps))


def guard(safe: bool, *codes: str, prompt: int = 200, completion: int = 10) -> dict:
    """A JSON-mode llama-guard-3-8b result."""
    return {"response": {"safe": safe, "categories": list(codes)}, "usage": usage(prompt, completion)}


def create(deps, *answers, **body):
    for answer in answers:
        deps.ai.answer(answer)
    return post(deps, "/v1/moderations", body)


def result(*flagged: str, unsafe=None) -> dict:
    """The expected result with exactly `flagged` categories set."""
    return {"flagged": bool(flagged) if unsafe is None else unsafe,
            "categories": {name: name in flagged for name in CATEGORIES},
            "category_scores": {name: 1.0 if name in flagged else 0.0 for name in CATEGORIES},
            "category_applied_input_types": {name: ["text"] for name in CATEGORIES}}


def messages(text: str) -> dict:
    return {"messages": [{"role": "user", "content": text}], **GUARD_INPUTS}


# --- the table ------------------------------------------------------------------------------------

def test_every_openai_category_and_every_hazard_is_listed():
    assert set(CATEGORIES) == {
        "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
        "self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors", "violence",
        "violence/graphic"}
    assert list(HAZARDS) == [f"S{i}" for i in range(1, 15)]
    assert all(set(mapped) <= set(CATEGORIES) for _, mapped in HAZARDS.values())


@pytest.mark.parametrize("code,categories", [
    ("S1", {"violence", "illicit", "illicit/violent"}),
    ("S2", {"illicit"}),
    ("S3", {"sexual", "illicit"}),
    ("S4", {"sexual", "sexual/minors"}),
    ("S5", set()), ("S6", set()), ("S7", set()), ("S8", set()),
    ("S9", {"illicit", "illicit/violent"}),
    ("S10", {"hate", "harassment"}),
    ("S11", {"self-harm"}),
    ("S12", {"sexual"}),
    ("S13", set()), ("S14", set()),
])
def test_each_hazard_maps_to_its_openai_categories(deps, code, categories):
    response = create(deps, guard(False, code), input="some text")
    assert response.status == 200
    # Hazards without an OpenAI counterpart still flag the input: the model said unsafe.
    assert response.body["results"] == [result(*categories, unsafe=True)]


def test_several_hazards_combine(deps):
    response = create(deps, guard(False, "S10", "S11"), input="some text")
    assert response.body["results"] == [result("hate", "harassment", "self-harm")]


def test_whole_response(deps):
    response = create(deps, guard(False, "S1"), input="I will kill them.", model="omni-moderation-latest")
    assert (response.status, response.body) == (200, {
        "id": "modr-0002", "model": GUARD, "results": [result("violence", "illicit", "illicit/violent")]})
    assert deps.ai.calls == [(GUARD, messages("I will kill them."), None)]


def test_safe_input(deps):
    response = create(deps, guard(True), input="Hello there")
    assert response.body["results"] == [result()]


# --- output forms ---------------------------------------------------------------------------------

@pytest.mark.parametrize("answer,expected", [
    ("safe", result()),
    ("  safe\n", result()),
    ("unsafe\nS1,S10", result("violence", "illicit", "illicit/violent", "hate", "harassment")),
    ("unsafe\nS12", result("sexual")),
    ("unsafe\n s2 , S9 ", result("illicit", "illicit/violent")),
    ("unsafe", result(unsafe=True)),
    ('{"safe": false, "categories": ["S11"]}', result("self-harm")),
    ('{"safe": true, "categories": []}', result()),
])
def test_text_form(deps, answer, expected):
    response = create(deps, {"response": answer}, input="some text")
    assert (response.status, response.body["results"]) == (200, [expected])


@pytest.mark.parametrize("answer", [
    {"safe": False, "categories": []},  # unsafe without a category
    {"safe": False, "categories": ["S15"]},  # a code outside the taxonomy
    {"safe": False},
])
def test_unsafe_without_known_categories_is_flagged_only(deps, answer):
    response = create(deps, {"response": answer}, input="some text")
    assert response.body["results"] == [result(unsafe=True)]


def test_safe_verdict_wins_over_listed_categories(deps):
    response = create(deps, guard(True, "S1"), input="some text")
    assert response.body["results"] == [result()]


@pytest.mark.parametrize("answer", [{"response": "I cannot help"}, {"response": ""}, {"response": None},
                                    {"response": {"verdict": "ok"}}, {}, {"response": "{not json"}])
def test_no_verdict_is_502(deps, answer):
    response = create(deps, answer, input="some text")
    assert (response.status, response.body) == (502, error(
        f"{GUARD} returned no safety verdict.", None, "invalid_model_output", "server_error"))


def test_workers_ai_errors_pass_through(deps):
    response = create(deps, workers_ai_error(3040, "Capacity temporarily exceeded, please try again.", GUARD),
                      input="some text")
    assert response.status == 429
    assert response.body["error"]["code"] == "rate_limit_exceeded"


# --- inputs ---------------------------------------------------------------------------------------

def test_list_input_one_call_each_results_in_order(deps):
    answers = [guard(True), guard(False, "S2"), guard(False, "S12")]
    response = create(deps, *answers, input=["hello", "how to steal a car", "nsfw story"])
    assert [inputs for _, inputs, _ in deps.ai.calls] == [
        messages("hello"), messages("how to steal a car"), messages("nsfw story")]
    assert response.body["results"] == [result(), result("illicit"), result("sexual")]


@pytest.mark.parametrize("model", ["omni-moderation-latest", "omni-moderation-2024-09-26",
                                   "text-moderation-latest", "text-moderation-stable", GUARD])
def test_model_names(deps, model):
    response = create(deps, guard(True), input="hi", model=model)
    assert response.body["model"] == GUARD
    assert deps.ai.calls[0][0] == GUARD


def test_model_defaults_to_omni_moderation_latest(deps):
    assert create(deps, guard(True), input="hi").body["model"] == GUARD


def test_multi_modal_text_parts_are_one_input(deps):
    parts = [{"type": "text", "text": "first part"}, {"type": "text", "text": "second part"}]
    response = create(deps, guard(False, "S10"), input=parts)
    assert deps.ai.calls == [(GUARD, messages("first part\nsecond part"), None)]
    assert response.body["results"] == [result("hate", "harassment")]


def test_image_parts_are_refused(deps):
    parts = [{"type": "text", "text": "look"},
             {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]
    response = create(deps, input=parts)
    assert (response.status, response.body) == (400, error(
        f"Unsupported parameter: 'input[1]' is an image, and {GUARD} moderates text only.",
        "input[1]", "unsupported_parameter"))
    assert deps.ai.calls == []


# --- usage ----------------------------------------------------------------------------------------

def test_usage_sums_the_model_usage(deps):
    create(deps, guard(True, prompt=210, completion=2), guard(False, "S1", prompt=230, completion=5),
           input=["a", "b"])
    run(drain(deps))
    assert deps.jobs.sent == [{"kind": "usage", "id": "req_0001", "key_id": "local-dev", "model": GUARD,
                               "endpoint": "/v1/moderations", "prompt_tokens": 440, "completion_tokens": 7,
                               "created_at": NOW, "duration_ms": 0}]


def test_usage_is_estimated_when_the_model_reports_none(deps):
    create(deps, {"response": "safe"}, guard(True, prompt=50, completion=1), input=["one two three", "x"])
    run(drain(deps))
    assert [(e["prompt_tokens"], e["completion_tokens"]) for e in deps.jobs.sent] == [(3 + 50, 1)]


# --- validation -----------------------------------------------------------------------------------

@pytest.mark.parametrize("body,message,param,code", [
    ({}, "Missing required parameter: 'input'.", "input", "missing_required_parameter"),
    ({"input": []}, "'input' must not be empty.", "input", "invalid_value"),
    ({"input": ""}, "'input' must not be empty.", "input", "invalid_value"),
    ({"input": ["a", ""]}, "'input[1]' must not be empty.", "input[1]", "invalid_value"),
    ({"input": ["x"] * 33}, "'input' may hold at most 32 strings.", "input", "invalid_value"),
    ({"input": "x" * 131_073}, "'input' is 131073 characters long; the limit is 131072.", "input",
     "invalid_value"),
    ({"input": ["ok", "x" * 131_073]}, "'input[1]' is 131073 characters long; the limit is 131072.",
     "input[1]", "invalid_value"),
    ({"input": ["a", {"type": "text", "text": "b"}]},
     "'input' must be a list of strings or a list of content parts, not both.", "input", "invalid_value"),
    ({"input": [{"type": "text"}]}, "Missing required parameter: 'input[0].text'.", "input[0].text",
     "missing_required_parameter"),
    ({"input": [{"type": "text", "text": ""}]}, "'input' must not be empty.", "input", "invalid_value"),
])
def test_invalid_inputs_are_400(deps, body, message, param, code):
    response = create(deps, **body)
    assert (response.status, response.body) == (400, error(message, param, code))
    assert deps.ai.calls == []


@pytest.mark.parametrize("value, param", [(42, "input"), ([1, 2], "input[0]"), ([None], "input[0]"),
                                          ({"text": "a"}, "input"), ([{"type": "audio", "text": "a"}], "input[0].type")])
def test_input_of_another_type_is_400(deps, value, param):
    response = create(deps, input=value)
    assert (response.status, response.body["error"]["param"]) == (400, param)


def test_a_wrong_item_is_named(deps):
    response = create(deps, input=["a", 7])
    assert (response.status, response.body) == (400, error(
        "Invalid type for 'input[1]': expected a string or an object, but got an integer instead.", "input[1]",
        "invalid_type"))


def test_thirty_two_inputs_and_the_longest_text_are_accepted(deps):
    for _ in range(32):
        deps.ai.answer(guard(True))
    assert create(deps, input=["x"] * 31 + ["x" * 131_072]).status == 200
    assert len(deps.ai.calls) == 32


def test_model_of_another_task_is_400(deps):
    response = create(deps, input="hi", model="gpt-4o")
    assert (response.status, response.body) == (400, error(
        "The model `gpt-4o` is not a moderation model.", "model", "model_not_supported"))


def test_unknown_model_is_404(deps):
    response = create(deps, input="hi", model="moderation-9000")
    assert response.status == 404 and response.body["error"]["code"] == "model_not_found"


def test_verdict_reads_the_documented_shapes():
    assert moderations.verdict(GUARD, guard(False, "S1", "S10")) == (True, ["S1", "S10"])
    assert moderations.verdict(GUARD, {"response": "unsafe\nS1,S10"}) == (True, ["S1", "S10"])
    assert moderations.verdict(GUARD, {"response": "safe"}) == (False, [])
