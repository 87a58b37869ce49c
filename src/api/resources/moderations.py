"""POST /v1/moderations: each input classified by Llama Guard 3 (one call per input, in parallel),
its verdict mapped onto OpenAI's moderation categories."""
import asyncio
from typing import Dict, FrozenSet, List, Tuple

from api import catalog, limits, safejson, tokens, usage
from api.errors import InvalidRequest, UnsupportedParameter, UpstreamError
from api.ports import Deps
from api.types.moderations import MAX_INPUT_CHARS, MAX_INPUTS, ModerationCreateParams
from api.validate import parse_request
from api.web import ApiRequest, ApiResponse

# OpenAI's categories, in the order of its API reference (every result carries all of them).
CATEGORIES = (
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
    "self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors",
    "violence", "violence/graphic",
)

# Llama Guard 3's hazard categories (the MLCommons taxonomy, meta-llama/PurpleLlama
# Llama-Guard3/8B/MODEL_CARD.md) → the OpenAI categories they cover. Where a Llama Guard category
# covers an OpenAI subcategory (sexual/minors, illicit/violent), the parent is set too, as OpenAI's
# own classifier reports them. Llama Guard says nothing finer: hate/threatening,
# harassment/threatening, self-harm/intent, self-harm/instructions and violence/graphic are never
# set. Categories with no OpenAI counterpart map to nothing, yet the result is still `flagged`:
# the model judged the text unsafe, and a client that checks only `flagged` must see that.
#   S1  Violent Crimes               violence, illicit, illicit/violent
#   S2  Non-Violent Crimes           illicit
#   S3  Sex-Related Crimes           sexual, illicit
#   S4  Child Sexual Exploitation    sexual, sexual/minors
#   S5  Defamation                   —
#   S6  Specialized Advice           —
#   S7  Privacy                      —
#   S8  Intellectual Property        —
#   S9  Indiscriminate Weapons       illicit, illicit/violent
#   S10 Hate                         hate, harassment (OpenAI counts hate speech as harassment of
#                                    its target too; Llama Guard has no harassment category)
#   S11 Suicide & Self-Harm          self-harm
#   S12 Sexual Content               sexual
#   S13 Elections                    —
#   S14 Code Interpreter Abuse       —
HAZARDS: Dict[str, Tuple[str, FrozenSet[str]]] = {
    "S1": ("Violent Crimes", frozenset({"violence", "illicit", "illicit/violent"})),
    "S2": ("Non-Violent Crimes", frozenset({"illicit"})),
    "S3": ("Sex-Related Crimes", frozenset({"sexual", "illicit"})),
    "S4": ("Child Sexual Exploitation", frozenset({"sexual", "sexual/minors"})),
    "S5": ("Defamation", frozenset()),
    "S6": ("Specialized Advice", frozenset()),
    "S7": ("Privacy", frozenset()),
    "S8": ("Intellectual Property", frozenset()),
    "S9": ("Indiscriminate Weapons", frozenset({"illicit", "illicit/violent"})),
    "S10": ("Hate", frozenset({"hate", "harassment"})),
    "S11": ("Suicide & Self-Harm", frozenset({"self-harm"})),
    "S12": ("Sexual Content", frozenset({"sexual"})),
    "S13": ("Elections", frozenset()),
    "S14": ("Code Interpreter Abuse", frozenset()),
}

# Llama Guard answers a verdict, not probabilities: a flagged category scores 1.0, others 0.0.
FLAGGED_SCORE, CLEAR_SCORE = 1.0, 0.0
# A verdict should not depend on sampling (the model's default temperature is 0.6).
GUARD_INPUTS = {"response_format": {"type": "json_object"}, "temperature": 0}


def _texts(params: ModerationCreateParams) -> List[Tuple[str, str]]:
    """(param path, text) per result: one per string, one for a whole list of parts."""
    value = params.input
    if isinstance(value, str):
        texts = [("input", value)]
    elif not value:
        raise InvalidRequest("'input' must not be empty.", param="input", code="invalid_value")
    elif all(isinstance(item, str) for item in value):
        texts = [(f"input[{i}]", text) for i, text in enumerate(value)]
    elif any(isinstance(item, str) for item in value):
        raise InvalidRequest("'input' must be a list of strings or a list of content parts, not both.",
                             param="input", code="invalid_value")
    else:
        texts = [("input", _parts_text(value))]
    if len(texts) > MAX_INPUTS:
        raise InvalidRequest(f"'input' may hold at most {MAX_INPUTS} strings.", param="input",
                             code="invalid_value")
    for param, text in texts:
        if not text:
            raise InvalidRequest(f"'{param}' must not be empty.", param=param, code="invalid_value")
        if len(text) > MAX_INPUT_CHARS:
            raise InvalidRequest(f"'{param}' is {len(text)} characters long; the limit is "
                                 f"{MAX_INPUT_CHARS}.", param=param, code="invalid_value")
    return texts


def _parts_text(parts) -> str:
    """The text of OpenAI's multi-modal form. Workers AI's only guard model reads text, so an
    image part is refused rather than passed over unmoderated."""
    texts = []
    for i, part in enumerate(parts):
        if part.type == "image_url":
            raise UnsupportedParameter(f"input[{i}]", "is an image, and @cf/meta/llama-guard-3-8b "
                                                      "moderates text only")
        if part.text is None:
            raise InvalidRequest(f"Missing required parameter: 'input[{i}].text'.",
                                 param=f"input[{i}].text", code="missing_required_parameter")
        texts.append(part.text)
    return "\n".join(texts)


def verdict(model: str, result) -> Tuple[bool, List[str]]:
    """(unsafe, hazard codes) from Llama Guard's output: {safe, categories} in JSON mode, or the
    text form "safe" / "unsafe\\nS1,S10" (also when JSON mode came back as a JSON string)."""
    answer = result.get("response") if isinstance(result, dict) else None
    if isinstance(answer, str) and answer.strip().startswith("{"):
        try:
            answer = safejson.loads(answer)
        except ValueError:
            pass
    if isinstance(answer, dict) and isinstance(answer.get("safe"), bool):
        codes = answer.get("categories") or []
        if not isinstance(codes, list):
            codes = []
        return not answer["safe"], [str(c).strip().upper() for c in codes]
    if isinstance(answer, str):
        lines = answer.strip().splitlines()
        head = lines[0].strip().lower() if lines else ""
        if head in ("safe", "unsafe"):
            codes = ",".join(lines[1:]).split(",")
            return head == "unsafe", [c.strip().upper() for c in codes if c.strip()]
    raise UpstreamError(f"{model} returned no safety verdict.", code="invalid_model_output")


def result_object(unsafe: bool, codes: List[str]) -> dict:
    """One OpenAI moderation result; every category is present and applies to text input."""
    hit = set().union(*(HAZARDS[c][1] for c in codes if c in HAZARDS)) if unsafe else set()
    return {
        "flagged": unsafe,
        "categories": {name: name in hit for name in CATEGORIES},
        "category_scores": {name: FLAGGED_SCORE if name in hit else CLEAR_SCORE for name in CATEGORIES},
        "category_applied_input_types": {name: ["text"] for name in CATEGORIES},
    }


async def create_moderation(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(ModerationCreateParams, req)
    texts = _texts(params)
    spec = limits.resolve_model(req, deps, params.model, catalog.MODERATION)
    outputs = await asyncio.gather(*(
        deps.ai.run(spec.id, {"messages": [{"role": "user", "content": text}], **GUARD_INPUTS})
        for _, text in texts))
    used = usage.Usage()
    for (_, text), output in zip(texts, outputs):
        reported = usage.Usage.parse(output.get("usage") if isinstance(output, dict) else None)
        used += reported or usage.Usage(prompt_tokens=tokens.estimate(text))
    results = [result_object(*verdict(spec.id, output)) for output in outputs]
    usage.record(usage.Meter.of(req), deps, spec.id, used)
    return ApiResponse({"id": deps.new_id("modr-"), "model": spec.id, "results": results})
