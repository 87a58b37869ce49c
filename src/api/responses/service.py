"""Creating a response: the request checked and its context assembled (instructions, a
previous_response_id chain or a conversation, the new input items), generated directly or
streamed, and stored with its items — the same steps a background run takes on the queue."""
import json
from contextlib import aclosing
from dataclasses import dataclass
from typing import AsyncIterator, Awaitable, Callable, List, Optional

from api import usage
from api.errors import ApiError
from api.ports import Deps, Statement
from api.responses import inputs, objects, request, store
from api.responses.generate import ResponseRun
from api.sse import INTERNAL
from api.types.responses import ResponseCreateParams

TERMINAL = {"completed": "response.completed", "incomplete": "response.incomplete", "failed": "response.failed"}


@dataclass
class Pending:
    """A response about to be generated: the request, its new input items, its starting body."""
    params: ResponseCreateParams
    prepared: request.Prepared
    items: List[dict]
    body: dict
    owner: str

    @property
    def conversation_id(self) -> Optional[str]:
        return (self.body.get("conversation") or {}).get("id")


async def pending(params: ResponseCreateParams, owner: str, deps: Deps) -> Pending:
    prepared = request.prepare(params, deps)
    items = await inputs.resolve(deps, owner, inputs.normalise(params.input, "input", deps.new_id), "input")
    conversation = params.conversation.id if hasattr(params.conversation, "id") else params.conversation
    if conversation is not None:
        await store.conversation(deps, owner, conversation)
    body = objects.create(deps.new_id("resp_"), int(deps.now()), params, prepared.spec.id, conversation)
    return Pending(params, prepared, items, body, owner)


async def context(deps: Deps, job: Pending) -> List[dict]:
    """The chat messages of the response's whole context."""
    params = job.params
    said = [text for text in (params.instructions, job.prepared.hint) if text]
    messages = [{"role": "developer", "content": "\n\n".join(said)}] if said else []
    if params.previous_response_id:
        history = await store.history(deps, job.owner, params.previous_response_id)
        messages += await inputs.to_messages(deps, job.owner, history, "previous_response_id")
    elif job.conversation_id:
        history = await store.conversation_items(deps, job.conversation_id)
        messages += await inputs.to_messages(deps, job.owner, history, "conversation")
    return messages + await inputs.to_messages(deps, job.owner, job.items, "input")


async def started(deps: Deps, job: Pending, meter: usage.Meter, streamed: bool) -> ResponseRun:
    """The generation, begun: what fails here (bad input, the model refusing) fails the request."""
    run = ResponseRun(job.prepared, await context(deps, job), deps, meter, job.owner, streamed,
                      job.params.truncation)
    await run.start()
    return run


def final(deps: Deps, job: Pending, run: Optional[ResponseRun], error: Optional[ApiError] = None) -> dict:
    """The finished response (a run that never started has no output)."""
    if run is None:
        return objects.finished(job.body, "failed", [], usage.Usage(), int(deps.now()), None, objects.error_wire(error))
    status = "failed" if error else run.status
    return objects.finished(job.body, status, run.output.items, run.usage, int(deps.now()),
                            run.incomplete_details, objects.error_wire(error) if error else None)


async def conversation_statements(deps: Deps, job: Pending, body: dict) -> List[Statement]:
    """The new input and output items, appended to the conversation the response belongs to."""
    if not job.conversation_id:
        return []
    return await store.appended(deps, job.conversation_id, job.owner, job.items + body["output"], body["created_at"])


async def save(deps: Deps, job: Pending, body: dict, first: List[Statement] = ()) -> None:
    """Stored when `store` is on; conversation items are appended either way; `first` goes first
    in the same transaction."""
    statements = [*first, *await conversation_statements(deps, job, body)]
    if job.params.store is not False:
        await store.save(deps, job.owner, body, job.items, statements)
    elif statements:
        await deps.db.batch(statements)


async def generate(deps: Deps, job: Pending, meter: usage.Meter) -> dict:
    """A whole response, stored."""
    run = await started(deps, job, meter, streamed=False)
    async with aclosing(run.events()) as events:
        async for _ in events:
            pass
    body = final(deps, job, run)
    await save(deps, job, body)
    return body


class Sequenced:
    """Stream events numbered in order, as OpenAI's typed events carry them."""

    def __init__(self, start: int = 0):
        self.next = start

    def __call__(self, event: dict) -> dict:
        event["sequence_number"] = self.next
        self.next += 1
        return event


def opening(body: dict, number: Sequenced, queued: bool = False) -> List[dict]:
    events = [number({"type": "response.created", "response": body})]
    if queued:
        events.append(number({"type": "response.queued", "response": body}))
    return events


async def stream_events(deps: Deps, job: Pending, number: Sequenced, start: Callable[[], Awaitable[ResponseRun]],
                        on_final: Optional[Callable[[dict], List[Statement]]] = None) -> AsyncIterator[dict]:
    """The typed events of a response being generated: in_progress, the output's events, then one
    of completed / incomplete / failed — written with the stored response (and `on_final(event)`'s
    statements) in one transaction before it goes out, so a client that sees it can go on from it."""
    yield number({"type": "response.in_progress", "response": {**job.body, "status": "in_progress"}})
    run, error = None, None
    try:
        run = await start()
        async with aclosing(run.events()) as events:
            async for event in events:
                yield number(event)
    except ApiError as exc:
        error = exc
    except Exception as exc:  # noqa: BLE001 - the stream must end with response.failed, not be cut
        deps.log(f"{job.body['id']} generation failed: {type(exc).__name__}: {exc}")
        error = INTERNAL
    body = final(deps, job, run, error)
    terminal = number({"type": TERMINAL[body["status"]], "response": body})
    await save(deps, job, body, on_final(terminal) if on_final else [])
    yield terminal


def sse(event: dict) -> str:
    return f"event: {event['type']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n"
