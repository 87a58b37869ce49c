"""POST /v1/completions (legacy): n choices per prompt, whole or streamed, with stop and echo."""
from contextlib import aclosing
from typing import AsyncIterator, List

from api import catalog, limits, sse, usage
from api.errors import InvalidRequest, UnsupportedParameter
from api.generation import engine, plan as planning, sampling
from api.generation.choices import ChoiceStream
from api.ports import Deps
from api.types.completions import CompletionCreateParams
from api.validate import parse_request, refuse_unsupported
from api.web import ApiRequest, ApiResponse, StreamResponse

NEVER = {
    "suffix": bool,  # no Workers AI model fills in the middle
    "logprobs": lambda v: v not in (None, 0, False),
    "logit_bias": bool,
}


def _prompts(params: CompletionCreateParams) -> List[str]:
    prompts = [params.prompt] if isinstance(params.prompt, str) else params.prompt
    if not prompts or not all(prompts):
        raise InvalidRequest("'prompt' must be a non-empty string or list of non-empty strings.",
                             param="prompt")
    return prompts


async def create_completion(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(CompletionCreateParams, req)
    refuse_unsupported(params, NEVER)
    include_usage = sampling.include_usage(params)
    prompts, n = _prompts(params), params.n or 1
    if params.best_of is not None and params.best_of < n:
        raise InvalidRequest("'best_of' must be at least 'n'.", param="best_of")
    if params.best_of not in (None, 1, n):
        raise UnsupportedParameter("best_of", "can only equal 'n': choices cannot be ranked without logprobs")
    spec = limits.resolve_model(req, deps, params.model, catalog.CHAT)
    plan = planning.completion(params, spec, prompts)
    echoes = [p if params.echo else "" for p in prompts for _ in range(n)]
    base = {"id": deps.new_id("cmpl-"), "object": "text_completion", "created": int(deps.now()),
            "model": spec.id}
    meter = usage.Meter.of(req)
    if params.stream:
        stream = await engine.stream(plan, deps, meter)
        return StreamResponse(sse.guarded(_frames(stream, echoes, base, include_usage), deps.log, req.id))
    results = await engine.whole(plan, deps, meter)
    return ApiResponse({**base, "choices": [
        {"text": echo + (r.text or ""), "index": i, "logprobs": None, "finish_reason": r.finish_reason}
        for i, (r, echo) in enumerate(zip(results, echoes))],
        "usage": sum((r.usage for r in results), usage.Usage()).wire()})


async def _frames(stream: ChoiceStream, echoes: List[str], base: dict, include_usage: bool) -> AsyncIterator[str]:
    if include_usage:
        base = {**base, "usage": None}
    framer = sse.ChunkFramer(base)

    def chunk(index: int, text: str, finish_reason=None) -> str:
        return framer.choice({"text": text, "index": index, "logprobs": None, "finish_reason": finish_reason})

    for index, echo in enumerate(echoes):
        if echo:
            yield chunk(index, echo)
    async with aclosing(stream.events()) as events:
        async for index, delta, reason in events:
            if delta is None:
                yield chunk(index, "", reason)
            elif delta.text:
                yield chunk(index, delta.text)
    if include_usage:
        yield sse.frame({**base, "choices": [], "usage": stream.usage.wire()})
    yield sse.DONE
