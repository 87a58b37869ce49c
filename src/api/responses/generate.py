"""One response generated: model calls through the engine, built-in file_search calls run between
them (the model sees the results and answers), output items and their typed events, the status
and the usage summed over the calls. Used alike by direct, streamed and background responses."""
from contextlib import aclosing
from typing import AsyncIterator, List, Optional

from api import stored, tokens
from api.errors import InvalidRequest
from api.generation import engine
from api.generation.choices import ChoiceStream
from api.generation.messages import IMAGE_TOKENS
from api.generation.outputs import deltas_of
from api.ports import Deps
from api.responses import inputs, request
from api.responses.output import Output
from api.responses.request import FILE_SEARCH, Prepared
from api.usage import Meter, Usage
from api.vector_stores import search, stores

MAX_STEPS = 8  # model calls per response: file_search rounds end well before this
DEFAULT_RESULTS = 10  # file_search max_num_results, as OpenAI's default


def estimate(message: dict) -> int:
    """The prompt tokens of one chat message, estimated (images at a flat rate)."""
    content = message.get("content")
    parts = [{"type": "text", "text": content or ""}] if not isinstance(content, list) else content
    total = sum(tokens.estimate(p.get("text", "")) if p.get("type") == "text" else IMAGE_TOKENS for p in parts)
    return total + sum(tokens.estimate(c["function"]["arguments"]) for c in message.get("tool_calls") or [])


def fit(messages: List[dict], context: Optional[int], reserve: int) -> List[dict]:
    """truncation "auto": the oldest items dropped (never the system/developer messages that open
    the context, never a tool result without its call) until the estimate fits the window."""
    if not context:
        return messages
    head = 0
    while head < len(messages) and messages[head]["role"] in ("system", "developer"):
        head += 1
    kept, rest = messages[:head], messages[head:]
    total = sum(map(estimate, messages))
    while rest and total + reserve > context and len(rest) > 1:
        total -= estimate(rest.pop(0))
        while rest and rest[0]["role"] == "tool":
            total -= estimate(rest.pop(0))
    return kept + rest


class ResponseRun:
    """Call start() (what fails there fails before any event), then read events()."""

    def __init__(self, prepared: Prepared, messages: List[dict], deps: Deps, meter: Meter, owner: str,
                 streamed: bool, truncation: Optional[str]):
        self.prepared, self.messages, self.deps, self.meter = prepared, messages, deps, meter
        self.owner, self.streamed, self.truncation = owner, streamed, truncation or "disabled"
        internal = {FILE_SEARCH} if prepared.file_search else set()
        self.output = Output(deps.new_id, prepared.summary, "message.output_text.logprobs" in prepared.include,
                             internal)
        self.usage = Usage()
        self.status, self.incomplete_details, self.error = "in_progress", None, None
        self.searches, self.steps = 0, 0
        self.source = None

    async def start(self) -> None:
        if self.prepared.file_search:
            for store_id in self.prepared.file_search.vector_store_ids:
                await stores.find_store(self.deps, self.owner, store_id)  # 404 for another owner's store
        self.source = await self._open()

    async def _open(self, **overrides):
        spec = self.prepared.spec
        if self.truncation == "auto":
            reserve = self.prepared.chat.get("max_completion_tokens") or 1
            self.messages = fit(self.messages, spec.context, reserve)
        if not self.messages:
            raise InvalidRequest("Missing required parameter: 'input'.", param="input",
                                 code="missing_required_parameter")
        plan = await request.plan(self.prepared, self.messages, self.deps, **overrides)
        meter = self.meter if not self.steps else Meter(f"{self.meter.id}.{self.steps}", self.meter.key_id,
                                                          self.meter.endpoint, self.meter.started)
        if self.streamed and not plan.whole:
            return await engine.stream(plan, self.deps, meter)
        return (await engine.whole(plan, self.deps, meter))[0]

    async def events(self) -> AsyncIterator[dict]:
        while True:
            reason = None
            async for event in self._step():
                if isinstance(event, str):
                    reason = event
                else:
                    yield event
            calls = self.output.take_hidden()
            limit = self.prepared.max_tool_calls
            if not calls or self.output.calls or self.steps + 1 >= MAX_STEPS:
                break  # done, or the client has function calls to run first
            if limit is not None:  # calls past max_tool_calls are ignored, as OpenAI does
                calls = calls[:max(0, limit - self.searches)]
            if calls:
                for event in self.output.close():
                    yield event
                async for event in self._search(calls):
                    yield event
            self.steps += 1
            exhausted = limit is not None and self.searches >= limit
            self.source = await self._open(**({"tool_choice": "none"} if exhausted else {}))
        incomplete = reason == "length"
        for event in self.output.close("incomplete" if incomplete else "completed"):
            yield event
        self.status = "incomplete" if incomplete else "completed"
        self.incomplete_details = {"reason": "max_output_tokens"} if incomplete else None

    async def _step(self) -> AsyncIterator:
        """The events of one model call, then its finish reason (a str)."""
        source, self.source = self.source, None
        if isinstance(source, ChoiceStream):
            reason = None
            async with aclosing(source.events()) as events:
                async for _, delta, finish in events:
                    if delta:
                        for event in self.output.delta(delta):
                            yield event
                    reason = finish or reason
            self.usage += source.usage
            yield reason
            return
        for delta in deltas_of(source):
            for event in self.output.delta(delta):
                yield event
        self.usage += source.usage
        yield source.finish_reason

    async def _search(self, calls: List[dict]) -> AsyncIterator[dict]:
        """Runs the model's file_search calls and gives it the results as tool messages."""
        tool = self.prepared.file_search
        assistant = {"role": "assistant", "content": None, "tool_calls": []}
        answers = []
        for call in calls:
            queries = call["arguments"].get("queries") if isinstance(call["arguments"], dict) else None
            queries = [q for q in queries if isinstance(q, str) and q.strip()] if isinstance(queries, list) else []
            queries = queries[:search.MAX_QUERIES] or [self._last_user_text()]
            item, events = self.output.file_search(queries)
            for event in events:
                yield event
            results = await self._results(tool, queries)
            self.searches += 1
            for event in self.output.searched(item, results):
                yield event
            call_id = "call_" + item["id"][-9:]
            assistant["tool_calls"].append({"id": call_id, "type": "function", "function": {
                "name": FILE_SEARCH, "arguments": stored.dumps({"queries": queries})}})
            answers.append({"role": "tool", "tool_call_id": call_id, "content": inputs.search_results_text(results)})
        self.messages = self.messages + [assistant] + answers

    async def _results(self, tool, queries: List[str]) -> List[dict]:
        limit = tool.max_num_results or DEFAULT_RESULTS
        threshold = tool.ranking_options.score_threshold if tool.ranking_options else None
        found = []
        for store_id in tool.vector_store_ids:
            found += await search.search(self.deps, store_id, queries, limit, tool.filters, threshold)
        found.sort(key=lambda r: -r["score"])
        return [{"file_id": r["file_id"], "filename": r["filename"], "score": r["score"],
                 "attributes": r["attributes"], "text": r["content"][0]["text"]} for r in found[:limit]]

    def _last_user_text(self) -> str:
        for message in reversed(self.messages):
            if message["role"] == "user":
                content = message["content"]
                return content if isinstance(content, str) else " ".join(
                    p.get("text", "") for p in content if p.get("type") == "text")
        return ""
