"""POST /v1/completions (legacy): one choice per prompt, whole or streamed."""
import asyncio
from typing import AsyncIterator, List

from api import catalog, sse, textgen, tokens, usage
from api.catalog import ModelSpec
from api.errors import InvalidRequest
from api.ports import Deps
from api.textgen import StreamedGeneration, Usage
from api.types.completions import CompletionCreateParams
from api.validate import parse_request, refuse_unsupported
from api.web import ApiRequest, ApiResponse, StreamResponse

NOT_YET = {
    "stop": bool,
    "n": lambda v: v not in (None, 1),
    "best_of": lambda v: v not in (None, 1),
    "echo": bool,
    "suffix": bool,
    "logprobs": lambda v: v not in (None, 0, False),
    "logit_bias": bool,
}


async def create_completion(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(CompletionCreateParams, req)
    refuse_unsupported(params, NOT_YET)
    include_usage = textgen.include_usage(params)
    prompts = [params.prompt] if isinstance(params.prompt, str) else params.prompt
    if not prompts or not all(prompts):
        raise InvalidRequest("'prompt' must be a non-empty string or list of non-empty strings.",
                             param="prompt")
    spec = catalog.resolve(params.model, catalog.CHAT, deps.config.model_aliases)
    limit = textgen.max_tokens(params, spec)
    calls = [textgen.inputs(params, spec, limit, prompt=p) for p in prompts]
    completion_id, created = deps.new_id("cmpl-"), int(deps.now())
    base = {"id": completion_id, "object": "text_completion", "created": created, "model": spec.id}
    if params.stream:
        frames = _frames(req, deps, spec, calls, limit, base, include_usage)
        first = await deps.ai.stream(spec.id, {**calls[0], "stream": True})  # fail before the first byte
        return StreamResponse(sse.guarded(frames(first), deps.log, req.id))
    results = await asyncio.gather(*(deps.ai.run(spec.id, c) for c in calls))
    generations = [textgen.generation(r, limit, tokens.estimate(c["prompt"])) for r, c in zip(results, calls)]
    total = sum((g.usage for g in generations), Usage())
    usage.record(req, deps, spec.id, total)
    return ApiResponse({**base, "choices": [
        {"text": g.text, "index": i, "logprobs": None, "finish_reason": g.finish_reason}
        for i, g in enumerate(generations)], "usage": total.wire()})


def _frames(req: ApiRequest, deps: Deps, spec: ModelSpec, calls: List[dict], limit, base: dict,
            include_usage: bool):
    """Prompts stream one after another, each chunk carrying its prompt's choice index."""
    if include_usage:
        base = {**base, "usage": None}

    def chunk(index: int, text: str, finish_reason=None) -> str:
        return sse.frame({**base, "choices": [{"text": text, "index": index, "logprobs": None,
                                               "finish_reason": finish_reason}]})

    async def frames(first_chunks) -> AsyncIterator[str]:
        total = Usage()
        for index, call in enumerate(calls):
            chunks = first_chunks if index == 0 else await deps.ai.stream(spec.id, {**call, "stream": True})
            upstream = StreamedGeneration(chunks, limit, tokens.estimate(call["prompt"]))
            async for text in upstream.texts():
                yield chunk(index, text)
            reason, used = upstream.ending()
            total += used
            yield chunk(index, "", reason)
        if include_usage:
            yield sse.frame({**base, "choices": [], "usage": total.wire()})
        yield sse.DONE
        usage.record(req, deps, spec.id, total)

    return frames
