"""A response's output items built from the engine's neutral deltas, with the typed stream events
that build them in OpenAI's order: an item is added before its parts, a part before its deltas,
and everything open is done before the next item starts. Events carry no sequence_number yet."""
import json
from typing import Callable, Dict, List, Optional

from api import safejson
from api.generation.outputs import Delta

NewId = Callable[[str], str]
Events = List[dict]


class Output:
    def __init__(self, new_id: NewId, summary: bool = False, logprobs: bool = False,
                 internal: Optional[set] = None):
        self.new_id, self.summary, self.logprobs = new_id, summary, logprobs
        self.internal = internal or set()  # tool names we run ourselves (file_search)
        self.items: List[dict] = []
        self.positions: Dict[str, int] = {}  # item id → output index
        self.open: Optional[dict] = None  # the reasoning or message item being written
        self.calls: Dict[int, dict] = {}  # this step's tool calls by the model's index → item
        self.hidden: Dict[int, dict] = {}  # this step's calls of internal tools: {name, arguments}
        self.citations: List[dict] = []  # file_citation annotations for the next message

    # --- items -----------------------------------------------------------------------------------

    def _add(self, item: dict) -> Events:
        self.positions[item["id"]] = len(self.items)
        self.items.append(item)
        return [{"type": "response.output_item.added", "output_index": len(self.items) - 1, "item": _copy(item)}]

    def _where(self, item: dict) -> dict:
        return {"item_id": item["id"], "output_index": self.positions[item["id"]]}

    def _done(self, item: dict, status: str = "completed") -> Events:
        item["status"] = status
        return [{"type": "response.output_item.done", "output_index": self.positions[item["id"]],
                 "item": _copy(item)}]

    def close(self, status: str = "completed") -> Events:
        """Finishes the open reasoning or message item and this step's calls."""
        events = []
        item, self.open = self.open, None
        if item is not None and item["type"] == "reasoning":
            events += self._close_reasoning(item)
        elif item is not None:
            events += self._close_message(item, status)
        for call in self.calls.values():
            events.append({"type": "response.function_call_arguments.done", **self._where(call),
                           "name": call["name"], "arguments": call["arguments"]})
            events += self._done(call)
        self.calls = {}
        return events

    # --- deltas ----------------------------------------------------------------------------------

    def delta(self, delta: Delta) -> Events:
        events = []
        if delta.reasoning:
            events += self._reasoning(delta.reasoning)
        if delta.text:
            events += self._text(delta.text, delta.logprobs)
        for call in delta.tool_calls:
            events += self._call(call)
        return events

    def _reasoning(self, text: str) -> Events:
        events = []
        if self.open is None or self.open["type"] != "reasoning":
            events += self.close()
            self.open = {"id": self.new_id("rs_"), "type": "reasoning", "status": "in_progress", "summary": []}
            if not self.summary:
                self.open["content"] = []
            events += self._add(self.open)
            part = {"type": "summary_text" if self.summary else "reasoning_text", "text": ""}
            (self.open["summary"] if self.summary else self.open["content"]).append(part)
            events.append({"type": "response.reasoning_summary_part.added", **self._where(self.open),
                           "summary_index": 0, "part": dict(part)} if self.summary else
                          {"type": "response.content_part.added", **self._where(self.open), "content_index": 0,
                           "part": dict(part)})
        part = (self.open["summary"] if self.summary else self.open["content"])[0]
        part["text"] += text
        index = "summary_index" if self.summary else "content_index"
        events.append({"type": f"response.reasoning_{'summary_' if self.summary else ''}text.delta",
                       **self._where(self.open), index: 0, "delta": text})
        return events

    def _close_reasoning(self, item: dict) -> Events:
        where = self._where(item)
        if self.summary:
            part = item["summary"][0]
            events = [{"type": "response.reasoning_summary_text.done", **where, "summary_index": 0,
                       "text": part["text"]},
                      {"type": "response.reasoning_summary_part.done", **where, "summary_index": 0, "part": dict(part)}]
        else:
            part = item["content"][0]
            events = [{"type": "response.reasoning_text.done", **where, "content_index": 0, "text": part["text"]},
                      {"type": "response.content_part.done", **where, "content_index": 0, "part": dict(part)}]
        return events + self._done(item)

    def _text(self, text: str, logprobs: Optional[dict]) -> Events:
        events = []
        if self.open is None or self.open["type"] != "message":
            events += self.close()
            self.open = {"id": self.new_id("msg_"), "type": "message", "status": "in_progress", "role": "assistant",
                         "content": []}
            events += self._add(self.open)
            part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            self.open["content"].append(part)
            events.append({"type": "response.content_part.added", **self._where(self.open), "content_index": 0,
                           "part": _copy(part)})
        part = self.open["content"][0]
        entries = _logprobs(logprobs) if self.logprobs else []
        part["text"] += text
        part["logprobs"] += entries
        events.append({"type": "response.output_text.delta", **self._where(self.open), "content_index": 0,
                       "delta": text, "logprobs": entries})
        return events

    def _close_message(self, item: dict, status: str) -> Events:
        where, part, events = self._where(item), item["content"][0], []
        for citation in self.citations:
            part["annotations"].append({**citation, "index": len(part["text"])})
            events.append({"type": "response.output_text.annotation.added", **where, "content_index": 0,
                           "annotation_index": len(part["annotations"]) - 1, "annotation": part["annotations"][-1]})
        self.citations = []
        events += [{"type": "response.output_text.done", **where, "content_index": 0, "text": part["text"],
                    "logprobs": part["logprobs"]},
                   {"type": "response.content_part.done", **where, "content_index": 0, "part": _copy(part)}]
        return events + self._done(item, status)

    def _call(self, call: dict) -> Events:
        index, function = call["index"], call.get("function") or {}
        fragment = function.get("arguments") or ""
        if index in self.hidden:
            self.hidden[index]["arguments"] += fragment
            return []
        if index not in self.calls:
            if function.get("name") in self.internal:
                self.hidden[index] = {"name": function["name"], "arguments": fragment}
                return []
            events = self.close() if self.open is not None else []
            item = {"id": self.new_id("fc_"), "type": "function_call", "status": "in_progress",
                    "call_id": call["id"], "name": function["name"], "arguments": ""}
            self.calls[index] = item
            events += self._add(item)
        else:
            events = []
        item = self.calls[index]
        if fragment:
            item["arguments"] += fragment
            events.append({"type": "response.function_call_arguments.delta", **self._where(item), "delta": fragment})
        return events

    # --- built-in tools --------------------------------------------------------------------------

    def take_hidden(self) -> List[dict]:
        """The internal tool calls of the step just ended: [{name, arguments (parsed, or {})}]."""
        calls, self.hidden = list(self.hidden.values()), {}
        for call in calls:
            try:
                call["arguments"] = safejson.loads(call["arguments"] or "{}")
            except ValueError:
                call["arguments"] = {}
        return calls

    def file_search(self, queries: List[str]) -> tuple:
        """(the file_search_call item, its opening events); `searched` finishes it."""
        item = {"id": self.new_id("fs_"), "type": "file_search_call", "status": "in_progress",
                "queries": queries, "results": None}
        events = self._add(item)
        where = self._where(item)
        events += [{"type": "response.file_search_call.in_progress", **where},
                   {"type": "response.file_search_call.searching", **where}]
        return item, events

    def searched(self, item: dict, results: List[dict]) -> Events:
        item["results"] = results
        for result in results:
            citation = {"type": "file_citation", "file_id": result["file_id"], "filename": result["filename"]}
            if citation not in self.citations:
                self.citations.append(citation)
        return [{"type": "response.file_search_call.completed", **self._where(item)}] + self._done(item)


def _copy(item: dict) -> dict:
    return json.loads(json.dumps(item))


def _logprobs(logprobs: Optional[dict]) -> List[dict]:
    """Chat logprob entries as the Responses API shows them."""
    return [{"token": e.get("token", ""), "logprob": e.get("logprob", 0.0), "bytes": e.get("bytes") or [],
             "top_logprobs": [{"token": t.get("token", ""), "logprob": t.get("logprob", 0.0),
                               "bytes": t.get("bytes") or []} for t in e.get("top_logprobs") or []]}
            for e in (logprobs or {}).get("content") or []]
