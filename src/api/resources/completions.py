"""POST /v1/completions (legacy): n choices per prompt, whole or streamed, with stop and echo."""
import asyncio
from typing import AsyncIterator, List

from api import catalog, sse, tokens, usage
from api.generation import sampling
from api.catalog import ModelSpec
from api.generation.choices import ChoiceStream, tool_ids
from api.errors import InvalidRequest, UnsupportedParameter
from api.generation.outputs import Generation, StreamedGeneration, Usage, generation
from api.ports import Deps
from api.generation.stops import cut, stop_sequences
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


def _finish(result: Generation, stops: List[str], echo: str) -> Generation:
    text, stopped = cut(result.text or "", stops) if stops else (result.text or "", False)
    result.text = echo + text
    if stopped:
        result.finish_reason = "stop"
    return result


async def create_completion(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(CompletionCreateParams, req)
    refuse_unsupported(params, NEVER)
    include_usage = sampling.include_usage(params)
    prompts, stops, n = _prompts(params), stop_sequences(params.stop), params.n or 1
    if params.best_of is not None and params.best_of < n:
        raise InvalidRequest("'best_of' must be at least 'n'.", param="best_of")
    if params.best_of not in (None, 1, n):
        raise UnsupportedParameter("best_of", "can only equal 'n': choices cannot be ranked without logprobs")
    spec = catalog.resolve(params.model, catalog.CHAT, deps.config.model_aliases)
    limit = sampling.max_tokens(params, spec)
    # OpenAI orders choices prompt by prompt, n per prompt.
    calls = [sampling.inputs(params, spec, limit, prompt=p) for p in prompts for _ in range(n)]
    echoes = [p if params.echo else "" for p in prompts for _ in range(n)]
    base = {"id": deps.new_id("cmpl-"), "object": "text_completion", "created": int(deps.now()),
            "model": spec.id}
    if params.stream:
        chunks = await asyncio.gather(*(deps.ai.stream(spec.id, {**c, "stream": True}) for c in calls))
        choices = [StreamedGeneration(c, spec, limit, tokens.estimate(call["prompt"]), tool_ids(deps))
                   for c, call in zip(chunks, calls)]
        frames = _frames(req, deps, spec, ChoiceStream(choices, stops), echoes, base, include_usage)
        return StreamResponse(sse.guarded(frames, deps.log, req.id))
    results = await asyncio.gather(*(deps.ai.run(spec.id, c) for c in calls))
    generations = [_finish(generation(r, spec, limit, tokens.estimate(c["prompt"]), tool_ids(deps)), stops, e)
                   for r, c, e in zip(results, calls, echoes)]
    total = sum((g.usage for g in generations), Usage())
    usage.record(req, deps, spec.id, total)
    return ApiResponse({**base, "choices": [
        {"text": g.text, "index": i, "logprobs": None, "finish_reason": g.finish_reason}
        for i, g in enumerate(generations)], "usage": total.wire()})


async def _frames(req: ApiRequest, deps: Deps, spec: ModelSpec, stream: ChoiceStream, echoes: List[str],
                  base: dict, include_usage: bool) -> AsyncIterator[str]:
    if include_usage:
        base = {**base, "usage": None}
    framer = sse.ChunkFramer(base)

    def chunk(index: int, text: str, finish_reason=None) -> str:
        return framer.choice({"text": text, "index": index, "logprobs": None, "finish_reason": finish_reason})

    for index, echo in enumerate(echoes):
        if echo:
            yield chunk(index, echo)
    async for index, delta, reason in stream.events():
        if delta is None:
            yield chunk(index, "", reason)
        elif delta.text:
            yield chunk(index, delta.text)
    if include_usage:
        yield sse.frame({**base, "choices": [], "usage": stream.usage.wire()})
    yield sse.DONE
    usage.record(req, deps, spec.id, stream.usage)
