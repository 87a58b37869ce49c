"""The Assistants API's objects as OpenAI's spec has them (Assistant, Thread, Message, Run,
RunStep), with their defaults shown, and the changes of a run's status with their timestamps."""
from typing import List, Optional

from api.usage import Usage

EXPIRY_SECONDS = 600  # a run waiting for tool outputs expires after 10 minutes, as on OpenAI
TERMINAL = ("completed", "incomplete", "failed", "cancelled", "expired")


def usage_wire(used: Usage) -> dict:
    return {"prompt_tokens": used.prompt_tokens, "completion_tokens": used.completion_tokens,
            "total_tokens": used.prompt_tokens + used.completion_tokens}


def usage_of(wire: Optional[dict]) -> Usage:
    return Usage(wire["prompt_tokens"], wire["completion_tokens"]) if wire else Usage()


def assistant(assistant_id: str, created_at: int, settings: dict) -> dict:
    """settings: model, name, description, instructions, tools, tool_resources, metadata,
    temperature, top_p, response_format, reasoning_effort (checked, in the object's shape)."""
    return {"id": assistant_id, "object": "assistant", "created_at": created_at, **settings}


def thread(thread_id: str, created_at: int, tool_resources: dict, metadata: Optional[dict]) -> dict:
    return {"id": thread_id, "object": "thread", "created_at": created_at, "tool_resources": tool_resources,
            "metadata": metadata or {}}


def message(message_id: str, thread_id: str, created_at: int, role: str, content: List[dict],
            attachments: Optional[List[dict]] = None, metadata: Optional[dict] = None,
            run_id: Optional[str] = None, assistant_id: Optional[str] = None, status: str = "completed") -> dict:
    return {"id": message_id, "object": "thread.message", "created_at": created_at, "thread_id": thread_id,
            "status": status, "incomplete_details": None, "completed_at": None, "incomplete_at": None,
            "role": role, "content": content, "assistant_id": assistant_id, "run_id": run_id,
            "attachments": attachments or [], "metadata": metadata or {}}


def run(run_id: str, thread_id: str, assistant_id: str, created_at: int, settings: dict) -> dict:
    """A new run, queued. settings: model, instructions, tools, metadata, temperature, top_p,
    max_prompt_tokens, max_completion_tokens, truncation_strategy, tool_choice,
    parallel_tool_calls, response_format, reasoning_effort (with their defaults)."""
    return {"id": run_id, "object": "thread.run", "created_at": created_at, "thread_id": thread_id,
            "assistant_id": assistant_id, "status": "queued", "required_action": None, "last_error": None,
            "expires_at": created_at + EXPIRY_SECONDS, "started_at": None, "cancelled_at": None, "failed_at": None,
            "completed_at": None, "incomplete_details": None, "usage": None, **settings}


def moved(body: dict, status: str, now: int, used: Optional[Usage] = None, **details) -> dict:
    """The run in a new status, with the timestamp that status sets; a finished run shows its
    usage and expires no more. details: required_action, last_error, incomplete_details."""
    body = {**body, "status": status, "required_action": None, **details}
    if status == "in_progress":
        body["started_at"] = body["started_at"] or now
    elif status == "requires_action":
        body["expires_at"] = now + EXPIRY_SECONDS
    stamp = {"completed": "completed_at", "failed": "failed_at", "cancelled": "cancelled_at"}.get(status)
    if stamp:
        body[stamp] = now
    if status in TERMINAL:
        body["usage"] = usage_wire(used or Usage())
        if status != "expired":
            body["expires_at"] = None
    return body


def step(step_id: str, run: dict, created_at: int, details: dict) -> dict:
    return {"id": step_id, "object": "thread.run.step", "created_at": created_at, "assistant_id": run["assistant_id"],
            "thread_id": run["thread_id"], "run_id": run["id"], "type": details["type"], "status": "in_progress",
            "step_details": details, "last_error": None, "expired_at": None, "cancelled_at": None,
            "failed_at": None, "completed_at": None, "metadata": {}, "usage": None}


def step_ended(body: dict, status: str, now: int, used: Optional[Usage] = None,
               last_error: Optional[dict] = None) -> dict:
    stamp = {"completed": "completed_at", "failed": "failed_at", "cancelled": "cancelled_at",
             "expired": "expired_at"}[status]
    return {**body, "status": status, stamp: now, "last_error": last_error,
            "usage": usage_wire(used) if used is not None else body["usage"]}


def shown(value: dict, include_content: bool = False) -> dict:
    """An object as clients see it: sampling defaults filled in (what is stored is what was
    given, so a model's own default applies when nothing was), file search result content only
    when asked for with `include`."""
    if value.get("object") in ("assistant", "thread.run"):
        return {**value, **{name: 1.0 for name in ("temperature", "top_p") if value.get(name) is None}}
    if value.get("object") != "thread.run.step" or include_content or value["type"] != "tool_calls":
        return value
    calls = [{**call, "file_search": {**call["file_search"], "results": [
        {k: v for k, v in result.items() if k != "content"} for result in call["file_search"]["results"]]}}
        if call["type"] == "file_search" and "results" in call["file_search"] else call
        for call in value["step_details"]["tool_calls"]]
    return {**value, "step_details": {**value["step_details"], "tool_calls": calls}}
