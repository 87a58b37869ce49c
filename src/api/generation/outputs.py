"""Workers AI text-generation outputs of every shape — native {response, tool_calls}, OpenAI-style
{choices}; whole or streamed — normalised in one place into Generation (whole) and Delta (streamed)."""
import json
import re
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import AsyncIterator, Callable, Dict, List, Optional, Tuple

from api import safejson, sse, tokens
from api.catalog import THINK_TAGS, ModelSpec
from api.errors import UpstreamError
from api.feed import Feed
from api.generation.stops import StopScanner
from api.usage import Usage

NewId = Callable[[], str]
_SHORT_ID = re.compile(r"^[a-zA-Z0-9]{9}$")


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text, as OpenAI sends it

    def wire(self) -> dict:
        return {"id": self.id, "type": "function",
                "function": {"name": self.name, "arguments": self.arguments}}


def proxy_tool_id(model_id: Optional[str], new_id: NewId) -> str:
    """Our id for a model's tool call. Llama-4/Mistral ids (9 alphanumerics) become call_<id>, so
    messages.model_tool_id can turn them back without keeping any state."""
    if not model_id:
        return new_id()
    return f"call_{model_id}" if _SHORT_ID.match(model_id) else model_id


def arguments_text(arguments) -> str:
    """Native models give arguments as an object; OpenAI clients expect JSON text."""
    if isinstance(arguments, str):
        return arguments
    return json.dumps({} if arguments is None else arguments, separators=(",", ":"))


def tool_call(raw: dict, new_id: NewId) -> ToolCall:
    """Any of the three upstream shapes: flat {name, arguments: obj}, {id, function: {name,
    arguments: obj}}, or OpenAI's with string arguments."""
    function = raw.get("function") if isinstance(raw.get("function"), dict) else raw
    if not function.get("name"):
        raise UpstreamError("Workers AI returned a tool call without a function name.")
    return ToolCall(proxy_tool_id(raw.get("id"), new_id), function["name"],
                    arguments_text(function.get("arguments")))


@dataclass
class Generation:
    text: Optional[str]
    finish_reason: str
    usage: Usage
    reasoning: Optional[str] = None
    tool_calls: List[ToolCall] = field(default_factory=list)
    logprobs: Optional[dict] = None


def finish_reason(completion_tokens: int, limit: Optional[int]) -> str:
    """Native models report no finish reason: reaching the limit means the output was cut."""
    return "length" if limit and completion_tokens >= limit else "stop"


def text_of(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):  # native JSON mode answers with the parsed object
        return json.dumps(value, separators=(",", ":"))
    return value if isinstance(value, str) else str(value)  # some models stream numbers


def reasoning_of(part: dict) -> str:
    # The field's name varies by model: reasoning_content (most) or reasoning (gemma-4).
    return text_of(part.get("reasoning_content") or part.get("reasoning"))


def split_thinking(text: str) -> Tuple[str, str]:
    """(reasoning, answer) of a text that may open with <think>…</think>."""
    splitter = ThinkSplitter()
    reasoning, answer = splitter.feed(text)
    rest_reasoning, rest_answer = splitter.flush()
    return reasoning + rest_reasoning, answer + rest_answer


def generation(result, spec: ModelSpec, limit: Optional[int], prompt_estimate: int,
               new_id: NewId) -> Generation:
    """Normalise a whole (non-streamed) result of either shape."""
    if not isinstance(result, dict):
        raise UpstreamError("Workers AI returned an unexpected result.")
    if result.get("choices"):
        choice = result["choices"][0]
        message = choice.get("message") or {}
        text, reasoning = text_of(message.get("content")), reasoning_of(message)
        calls, reason, logprobs = message.get("tool_calls") or [], choice.get("finish_reason"), logprobs_of(choice)
    elif "response" in result:
        text, reasoning = text_of(result["response"]), reasoning_of(result)
        calls, reason, logprobs = result.get("tool_calls") or [], None, None
    else:
        raise UpstreamError("Workers AI returned a result without text.")
    if spec.has(THINK_TAGS):
        reasoning, text = split_thinking(text)
    tool_calls = [tool_call(c, new_id) for c in calls]
    usage = Usage.parse(result.get("usage")) or Usage(prompt_estimate, tokens.estimate(reasoning + text))
    if tool_calls or reason == "tool_calls":  # never a "tool_calls" finish without calls
        reason = "tool_calls" if tool_calls else None
    return Generation(text if text or not tool_calls else None,
                      reason or finish_reason(usage.completion_tokens, limit), usage,
                      reasoning or None, tool_calls, logprobs)


def logprobs_of(choice: dict) -> Optional[dict]:
    """OpenAI's ChoiceLogprobs, which has both keys; models send only `content`."""
    raw = choice.get("logprobs")
    return {"content": raw.get("content"), "refusal": raw.get("refusal")} if isinstance(raw, dict) else None


def recover_leaked_call(result: Generation, wanted: str, new_id: NewId) -> Generation:
    """Some models (gpt-oss) answer a forced tool call as JSON text, {"name", "arguments"}, with
    finish_reason "stop": that is the call, and becomes one."""
    try:
        value = safejson.loads(result.text or "")
    except ValueError:
        return result
    if isinstance(value, dict) and isinstance(value.get("name"), str) and value["name"] == (wanted or value["name"]):
        arguments = value.get("arguments", value.get("parameters"))
        result.tool_calls = [ToolCall(new_id(), value["name"], arguments_text(arguments))]
        result.text, result.finish_reason = None, "tool_calls"
    return result


class Delta:
    """One streamed piece of a choice. A plain slotted class: one is made per upstream event."""
    __slots__ = ("text", "reasoning", "tool_calls", "logprobs")

    def __init__(self, text: str = "", reasoning: str = "", tool_calls: Optional[List[dict]] = None,
                 logprobs: Optional[dict] = None):
        self.text, self.reasoning, self.logprobs = text, reasoning, logprobs
        self.tool_calls = [] if tool_calls is None else tool_calls  # OpenAI delta.tool_calls entries

    def __bool__(self) -> bool:
        return bool(self.text or self.reasoning or self.tool_calls or self.logprobs)

    def __eq__(self, other) -> bool:
        return isinstance(other, Delta) and all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __repr__(self) -> str:
        return "Delta(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__) + ")"


def deltas_of(whole: Generation) -> List[Delta]:
    """A whole result as stream deltas, for models (or modes) that cannot stream. Tool calls go as
    OpenAI streams them: id and name with empty arguments first, then the arguments."""
    calls = []
    for i, call in enumerate(whole.tool_calls):
        head = call.wire()
        calls.append(Delta(tool_calls=[{"index": i, **head, "function": {**head["function"], "arguments": ""}}]))
        if call.arguments:
            calls.append(Delta(tool_calls=[{"index": i, "function": {"arguments": call.arguments}}]))
    return [d for d in (Delta(reasoning=whole.reasoning or ""),
                        Delta(text=whole.text or "", logprobs=whole.logprobs), *calls) if d]


class ThinkSplitter:
    """Streamed text that may open with <think>…</think>: the inside is reasoning, the rest answer."""

    def __init__(self):
        self.state, self.head = "start", ""
        self.closing = StopScanner(["</think>"])

    def feed(self, text: str) -> Tuple[str, str]:
        reasoning = ""
        if self.state == "start":
            self.head += text
            opening = self.head.lstrip()
            if "<think>".startswith(opening):
                return "", ""  # too early to tell
            if not opening.startswith("<think>"):
                self.state = "answer"
                return "", self.head
            self.state, text = "thinking", opening[len("<think>"):]
        if self.state == "thinking":
            reasoning = self.closing.feed(text)
            if not self.closing.stopped:
                return reasoning, ""
            self.state, text = "answer-start", self.closing.after
        if self.state == "answer-start":  # the blank lines after </think> may come as tokens of their own
            text = text.lstrip()
            if text:
                self.state = "answer"
        return reasoning, text

    def flush(self) -> Tuple[str, str]:
        if self.state == "start":
            return "", self.head
        return (self.closing.flush(), "") if self.state == "thinking" else ("", "")


class StreamedGeneration:
    """A streamed result of either shape as Deltas; finish reason and usage once drained."""

    def __init__(self, chunks: Feed, spec: ModelSpec, limit: Optional[int],
                 prompt_estimate: int, new_id: NewId):
        self.chunks, self.spec, self.limit = chunks, spec, limit
        self.prompt_estimate, self.new_id = prompt_estimate, new_id
        self.usage: Optional[Usage] = None
        self.reason: Optional[str] = None
        self.emitted: List[str] = []  # for a usage estimate, should the model report none
        self.calls: Dict[int, ToolCall] = {}  # assembled from the deltas, by index
        self.thinking = ThinkSplitter() if spec.has(THINK_TAGS) else None

    async def deltas(self) -> AsyncIterator[Delta]:
        parser = sse.EventParser()
        async with aclosing(self.chunks):  # closing these deltas early closes the upstream stream
            async for chunk in self.chunks:
                for event in parser.feed(chunk):
                    if "error" in event and not event.get("choices"):
                        raise UpstreamError("Workers AI reported an error mid-stream.")
                    delta = self._delta(event)
                    if self.thinking and delta.text:
                        delta.reasoning, delta.text = self.thinking.feed(delta.text)
                    if delta:
                        self.emitted.append(delta.text + delta.reasoning)
                        yield delta
                if parser.done:
                    self.chunks.finish()  # the upstream ends by itself: closing it early would stop it
                    break
        parser.end()
        if self.thinking:
            reasoning, text = self.thinking.flush()
            if reasoning or text:
                yield Delta(text=text, reasoning=reasoning)

    def _delta(self, event: dict) -> Delta:
        if "response" in event:  # native chunk, or the cumulative trailer of OpenAI-shaped models
            if "usage" in event:
                self.usage = Usage.parse(event["usage"]) or self.usage
            delta = Delta(text_of(event["response"]), reasoning_of(event))
            for raw in event.get("tool_calls") or ():
                delta.tool_calls.append(self._add_call(len(self.calls), tool_call(raw, self.new_id)))
            return delta
        if not event.get("choices"):  # a choice-less chunk carries totals, like OpenAI's usage chunk
            self.usage = Usage.parse(event.get("usage")) or self.usage
            return Delta()
        # Per-chunk usage of OpenAI-shaped models is incremental: never taken as the total. A
        # model that could not stream arrives as one event holding the whole `message`.
        choice = event["choices"][0]
        self.reason = choice.get("finish_reason") or self.reason
        part = choice.get("delta") or choice.get("message") or {}
        if "message" in choice and "delta" not in choice:
            self.usage = Usage.parse(event.get("usage")) or self.usage
        calls = [self._call_delta(raw, position) for position, raw in enumerate(part.get("tool_calls") or [])]
        return Delta(text_of(part.get("content")), reasoning_of(part), [c for c in calls if c],
                     logprobs_of(choice))

    def _add_call(self, index: int, call: ToolCall) -> dict:
        self.calls[index] = call
        return {"index": index, **call.wire()}

    def _call_delta(self, raw: dict, position: int) -> Optional[dict]:
        """One OpenAI tool-call delta: id and name first, then argument fragments. All-null
        sentinels some models send to close a call carry nothing and are dropped."""
        index = raw.get("index", position)
        function = raw.get("function") or {}
        if index not in self.calls:
            if not function.get("name"):
                return None
            arguments = function.get("arguments")
            self.calls[index] = call = ToolCall(proxy_tool_id(raw.get("id"), self.new_id), function["name"],
                                                "" if arguments is None else arguments_text(arguments))
            return {"index": index, "id": call.id, "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments}}
        fragment = function.get("arguments")
        if fragment is None:
            return None
        fragment = arguments_text(fragment)
        self.calls[index].arguments += fragment
        return {"index": index, "function": {"arguments": fragment}}

    def ending(self) -> Tuple[str, Usage]:
        """(finish reason, usage), once the deltas are drained."""
        usage = self.usage or Usage(self.prompt_estimate, tokens.estimate("".join(self.emitted)))
        if self.calls:
            return "tool_calls", usage
        reason = None if self.reason == "tool_calls" else self.reason  # never "tool_calls" without calls
        return reason or finish_reason(usage.completion_tokens, self.limit), usage

    @property
    def tool_calls(self) -> List[ToolCall]:
        return [self.calls[i] for i in sorted(self.calls)]
