"""A run's generation framed for the Assistants API: the events of the Responses machinery's
ResponseRun (output items and their deltas) become assistant messages and run steps, and the
Assistants stream events that build them (thread.run.step.*, thread.message.*) in OpenAI's order:
a step is created before its message, a message completed before its step."""
import json
from typing import Callable, Dict, List, Optional, Tuple

from api.assistants import objects
from api.assistants.messages import text
from api.usage import Usage

Events = List[Tuple[str, dict]]
INCOMPLETE = {"cancelled": "run_cancelled", "failed": "run_failed", "expired": "run_expired"}


def _copy(value: dict) -> dict:
    return json.loads(json.dumps(value))


def delta(step_or_message: dict, kind: str, body: dict) -> Tuple[str, dict]:
    return f"{kind}.delta", {"id": step_or_message["id"], "object": f"{kind}.delta", "delta": body}


class Framer:
    def __init__(self, run: dict, new_id: Callable[[str], str], now: Callable[[], float],
                 used: Callable[[], Usage], ranking: Optional[dict] = None):
        self.run, self.new_id, self.clock, self.used = run, new_id, now, used
        self.ranking = ranking or {"ranker": "auto", "score_threshold": 0.0}  # shown on file_search calls
        self.steps: Dict[str, dict] = {}  # this segment's run steps, in order
        self.messages: Dict[str, dict] = {}  # this segment's messages by id (the output item's id)
        self.message_steps: Dict[str, dict] = {}  # message id → its message_creation step
        self.tool_step: Optional[dict] = None  # the tool_calls step being written
        self.calls: Dict[str, Tuple[int, dict]] = {}  # output item id → (index, its call in the tool step)
        self.counted = Usage()  # the usage given to completed steps so far

    def now(self) -> int:
        return int(self.clock())

    def feed(self, event: dict) -> Events:
        """The Assistants events for one ResponseRun event (reasoning has no Assistants form)."""
        kind = event["type"]
        item = event.get("item") or {}
        if kind == "response.output_item.added" and item["type"] == "message":
            return self._message(item)
        if kind == "response.output_item.added" and item["type"] in ("function_call", "file_search_call"):
            return self._call(item)
        if kind == "response.output_text.delta":
            return self._text(event["item_id"], event["delta"])
        if kind == "response.output_text.annotation.added":
            return self._citation(event["item_id"], event["annotation"])
        if kind == "response.function_call_arguments.delta":
            index, call = self.calls[event["item_id"]]
            call["function"]["arguments"] += event["delta"]
            return [delta(self.tool_step, "thread.run.step", {"step_details": {"type": "tool_calls", "tool_calls": [
                {"index": index, "type": "function", "function": {"arguments": event["delta"]}}]}})]
        if kind == "response.output_item.done" and item["type"] == "message":
            return self._message_done(item)
        if kind == "response.output_item.done" and item["type"] == "file_search_call":
            self._searched(item)
        return []

    # --- steps ------------------------------------------------------------------------------------

    def _open_step(self, details: dict) -> Tuple[dict, Events]:
        step = objects.step(self.new_id("step_"), self.run, self.now(), details)
        self.steps[step["id"]] = step
        return step, [("thread.run.step.created", _copy(step)), ("thread.run.step.in_progress", _copy(step))]

    def unassigned(self) -> Usage:
        """The usage of model calls not yet given to a completed step."""
        used = self.used()
        return Usage(used.prompt_tokens - self.counted.prompt_tokens,
                     used.completion_tokens - self.counted.completion_tokens)

    def _complete(self, step: dict) -> Events:
        # A step's usage is that of the model calls since the last step completed: a model call's
        # usage is known once its output ends, which is before the step it made completes.
        step.update(objects.step_ended(step, "completed", self.now(), self.unassigned()))
        self.counted = self.used()
        return [("thread.run.step.completed", _copy(step))]

    def _close_tools(self) -> Events:
        step, self.tool_step = self.tool_step, None
        return self._complete(step) if step is not None else []

    # --- messages ---------------------------------------------------------------------------------

    def _message(self, item: dict) -> Events:
        events = self._close_tools()
        message = objects.message(item["id"], self.run["thread_id"], self.now(), "assistant", [],
                                  run_id=self.run["id"], assistant_id=self.run["assistant_id"], status="in_progress")
        self.messages[message["id"]] = message
        step, opened = self._open_step({"type": "message_creation", "message_creation": {"message_id": message["id"]}})
        self.message_steps[message["id"]] = step
        return events + opened + [("thread.message.created", _copy(message)),
                                  ("thread.message.in_progress", _copy(message))]

    def _text(self, message_id: str, value: str, annotation: Optional[dict] = None) -> Events:
        message = self.messages[message_id]
        if not message["content"]:
            message["content"].append(text(""))
        part = message["content"][0]["text"]
        part["value"] += value
        wire = {"value": value}
        if annotation is not None:
            wire["annotations"] = [{"index": len(part["annotations"]), **annotation}]
            part["annotations"].append(annotation)
        return [delta(message, "thread.message", {"content": [{"index": 0, "type": "text", "text": wire}]})]

    def _citation(self, message_id: str, citation: dict) -> Events:
        """A file the answer drew on: a marker at the end of the text, as OpenAI writes them, which
        the annotation points at (clients replace `annotation.text` with their footnotes)."""
        content = self.messages[message_id]["content"]
        start = len(content[0]["text"]["value"]) if content else 0
        marker = f"【{len(content[0]['text']['annotations']) if content else 0}†{citation['filename']}】"
        return self._text(message_id, marker, {"type": "file_citation", "text": marker,
                                               "file_citation": {"file_id": citation["file_id"]},
                                               "start_index": start, "end_index": start + len(marker)})

    def _message_done(self, item: dict) -> Events:
        message, now = self.messages[item["id"]], self.now()
        if not message["content"]:
            message["content"].append(text(""))
        if item["status"] == "incomplete":  # the model ran out of tokens
            message.update(status="incomplete", incomplete_at=now, incomplete_details={"reason": "max_tokens"})
        else:
            message.update(status="completed", completed_at=now)
        return [(f"thread.message.{message['status']}", _copy(message))] + self._complete(self.message_steps[item["id"]])

    # --- tool calls -------------------------------------------------------------------------------

    def _call(self, item: dict) -> Events:
        events: Events = []
        if self.tool_step is None:
            self.tool_step, events = self._open_step({"type": "tool_calls", "tool_calls": []})
        calls = self.tool_step["step_details"]["tool_calls"]
        if item["type"] == "function_call":
            call = {"id": item["call_id"], "type": "function",
                    "function": {"name": item["name"], "arguments": "", "output": None}}
            shown = _copy(call)
        else:
            call = {"id": item["id"], "type": "file_search",
                    "file_search": {"ranking_options": dict(self.ranking), "results": []}}
            shown = {"id": item["id"], "type": "file_search", "file_search": {}}
        self.calls[item["id"]] = (len(calls), call)
        calls.append(call)
        return events + [delta(self.tool_step, "thread.run.step", {"step_details": {
            "type": "tool_calls", "tool_calls": [{"index": len(calls) - 1, **shown}]}})]

    def _searched(self, item: dict) -> None:
        _, call = self.calls[item["id"]]
        # Scores are cosine similarities; the Assistants API shows them in 0..1.
        call["file_search"]["results"] = [
            {"file_id": r["file_id"], "file_name": r["filename"], "score": min(1.0, max(0.0, r["score"])),
             "content": [{"type": "text", "text": r["text"]}]} for r in item["results"] or []]

    def function_calls(self) -> List[dict]:
        """The function calls the client must run (RunToolCallObject), in the step that waits."""
        calls = self.tool_step["step_details"]["tool_calls"] if self.tool_step else []
        return [{"id": c["id"], "type": "function", "function": {"name": c["function"]["name"],
                                                                 "arguments": c["function"]["arguments"]}}
                for c in calls if c["type"] == "function"]

    def written(self) -> List[tuple]:
        """This segment's messages and steps, to store (all new): ("message" | "step", object, None)."""
        return [("message", m, None) for m in self.messages.values()] + [("step", s, None) for s in self.steps.values()]

    # --- the end of a segment -----------------------------------------------------------------------

    def end(self, status: str, last_error: Optional[dict] = None) -> Events:
        """What is still open when the segment ends with the run's `status`: completed (or
        incomplete, or waiting for tool outputs: the tool step stays open) or cut short
        (cancelled, failed, expired: open messages end incomplete, open steps so)."""
        events: Events = []
        if status not in INCOMPLETE:
            waiting = self.tool_step if status == "requires_action" else None
            events += [] if waiting else self._close_tools()
            for step in self.steps.values():
                if step["status"] == "in_progress" and step is not waiting:
                    events += self._complete(step)
            return events
        now = self.now()
        for message in self.messages.values():
            if message["status"] == "in_progress":
                message.update(status="incomplete", incomplete_at=now,
                               incomplete_details={"reason": INCOMPLETE[status]})
                events.append(("thread.message.incomplete", _copy(message)))
        error = None if last_error is None else {
            "code": "rate_limit_exceeded" if last_error["code"] == "rate_limit_exceeded" else "server_error",
            "message": last_error["message"]}
        for step in self.steps.values():
            if step["status"] == "in_progress":
                step.update(objects.step_ended(step, status, now, last_error=error))
                events.append((f"thread.run.step.{status}", _copy(step)))
        return events
