"""Stored chat completions (`store: true`): the completion as it was returned — a stream's assembled
from its chunks when it completes — with its request messages, in one transaction; read, listed,
updated (metadata) and deleted by their owner only. Without `store` nothing here runs."""
import json
from typing import Dict, List, Optional, Tuple

from api import pages, stored
from api.ports import Deps, Row, Statement
from api.types.chat import ChatCompletionCreateParams

COLUMNS = "id, owner, created_at, model, metadata, body"
# The request parameters a stored completion shows, as OpenAI's stored completions do.
ECHOED = ("seed", "temperature", "top_p", "presence_penalty", "frequency_penalty", "tools", "tool_choice",
          "response_format")


async def save(deps: Deps, owner: str, completion: dict, params: ChatCompletionCreateParams,
               request_id: str) -> None:
    echoed = params.dict(include=set(ECHOED), by_alias=True)
    body = {**completion, "request_id": request_id, **echoed, "input_user": params.user}
    statements: List[Statement] = [(
        f"INSERT INTO chat_completions ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
        (completion["id"], owner, completion["created"], completion["model"], stored.dumps(params.metadata or {}),
         await stored.column(deps, f"chat_completions/{completion['id']}", body)))]
    for position, message in enumerate(params.messages):
        wired = _message(f"{completion['id']}-{position}", message.dict(exclude_none=True))
        value = await stored.column(deps, f"chat_completions/{completion['id']}/{position}", wired)
        statements.append(("INSERT INTO chat_completion_messages (completion_id, position, id, body) "
                           "VALUES (?, ?, ?, ?)", (completion["id"], position, wired["id"], value)))
    await deps.db.batch(statements)


def _message(message_id: str, message: dict) -> dict:
    """A request message as the messages list shows it: text content, and the parts it came in."""
    content, parts = message.get("content"), None
    if isinstance(content, list):
        parts = content
        texts = [part["text"] for part in parts if part.get("type") == "text" and "text" in part]
        content = "\n".join(texts) if texts else None
    wired = {"id": message_id, "role": message["role"], "content": content, "refusal": None,
             "name": message.get("name"), "content_parts": parts}
    for name in ("tool_calls", "tool_call_id"):
        if name in message:
            wired[name] = message[name]
    return wired


async def find(deps: Deps, owner: str, completion_id: str) -> Row:
    return await stored.owned(deps, "chat_completions", COLUMNS, completion_id, owner, "chat completion",
                              "completion_id")


async def load(deps: Deps, row: Row) -> dict:
    return {**await stored.load(deps, row["body"]), "metadata": json.loads(row["metadata"])}


async def page(deps: Deps, owner: str, params, model: Optional[str], metadata: Dict[str, str]) -> dict:
    filters: List[Tuple[str, list]] = [("model = ?", [model])] if model else []
    filters += [("EXISTS (SELECT 1 FROM json_each(chat_completions.metadata) WHERE key = ? AND value = ?)",
                 [key, value]) for key, value in metadata.items()]
    listing = pages.Listing("chat_completions", COLUMNS, [("owner = ?", owner)], "chat completion", filters)
    body = await pages.page(deps, listing, params, lambda row: row)
    body["data"] = [await load(deps, row) for row in body["data"]]
    return body


async def message_page(deps: Deps, completion_id: str, params) -> dict:
    listing = pages.Listing("chat_completion_messages", "id, position, body",
                            [("completion_id = ?", completion_id)], "message", order_column="position")
    body = await pages.page(deps, listing, params, lambda row: row)
    body["data"] = await stored.load_all(deps, [row["body"] for row in body["data"]])
    return body


async def update(deps: Deps, row: Row, metadata: Optional[dict]) -> dict:
    await deps.db.execute("UPDATE chat_completions SET metadata = ? WHERE id = ?",
                          (stored.dumps(metadata or {}), row["id"]))
    return {**await stored.load(deps, row["body"]), "metadata": metadata or {}}


async def delete(deps: Deps, row: Row) -> None:
    """The rows, then the R2 values behind their pointers."""
    pointers = [row["body"]] + [r["body"] for r in await deps.db.query(
        "SELECT body FROM chat_completion_messages WHERE completion_id = ? AND body LIKE 'r2:%'", (row["id"],))]
    await deps.db.batch([("DELETE FROM chat_completions WHERE id = ?", (row["id"],)),
                         ("DELETE FROM chat_completion_messages WHERE completion_id = ?", (row["id"],))])
    await stored.forget(deps, pointers)


class Assembled:
    """A streamed completion put back together from its chunks' choices, to store when it ends."""

    def __init__(self, base: dict, choices: int):
        self.base = base
        self.choices = [{"content": [], "reasoning": [], "calls": {}, "logprobs": None, "finish_reason": None}
                        for _ in range(choices)]

    def add(self, index: int, delta: dict, finish_reason: Optional[str], logprobs: Optional[dict]) -> None:
        choice = self.choices[index]
        choice["content"].append(delta.get("content") or "")
        choice["reasoning"].append(delta.get("reasoning_content") or "")
        for call in delta.get("tool_calls") or []:
            kept = choice["calls"].setdefault(call["index"], {"id": None, "type": "function",
                                                              "function": {"name": None, "arguments": ""}})
            kept["id"] = call.get("id") or kept["id"]
            function = call.get("function") or {}
            kept["function"]["name"] = function.get("name") or kept["function"]["name"]
            kept["function"]["arguments"] += function.get("arguments") or ""
        if logprobs and logprobs.get("content"):
            choice["logprobs"] = {"content": [*((choice["logprobs"] or {}).get("content") or []),
                                              *logprobs["content"]], "refusal": None}
        if finish_reason:
            choice["finish_reason"] = finish_reason

    def completion(self, usage: dict) -> dict:
        choices = []
        for index, choice in enumerate(self.choices):
            text = "".join(choice["content"])
            message = {"role": "assistant", "content": text if text or not choice["calls"] else None, "refusal": None}
            if any(choice["reasoning"]):
                message["reasoning_content"] = "".join(choice["reasoning"])
            if choice["calls"]:
                message["tool_calls"] = [choice["calls"][i] for i in sorted(choice["calls"])]
            choices.append({"index": index, "message": message, "logprobs": choice["logprobs"],
                            "finish_reason": choice["finish_reason"]})
        return {**self.base, "object": "chat.completion", "choices": choices, "usage": usage}
