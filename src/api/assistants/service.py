"""The changes of a run that its client's requests make — created (queued on the run engine),
resumed with tool outputs, cancelled, expired when its wait for tool outputs is over — and the
Assistants event stream a client follows (api.assistants.execute makes the other changes)."""
import functools
import json
from contextlib import aclosing
from dataclasses import dataclass
from typing import AsyncIterator, Callable, List, Mapping, Optional, Sequence

from api import stored
from api.assistants import execute, messages, objects, request, store
from api.assistants.execute import Segment
from api.assistants.frame import Events
from api.assistants.store import ACTIVE, Batch
from api.errors import ApiError, InvalidRequest
from api.ports import Deps, Row
from api.runs import lease as runs
from api.runs.log import EventLog, follow
from api.sse import INTERNAL
from api.types.assistants import RunSettings, ToolResources
from api.web import ApiKey, StreamResponse

CONTENT = "step_details.tool_calls[*].file_search.results[*].content"  # the one `include` value
DONE = "event: done\ndata: [DONE]\n\n"
SWEEP_BATCH = 100
ACTIVE_RUN = "Thread {thread} already has an active run {run}."
BUSY_THREAD = "Can't add messages to {thread} while a run {run} is active."
BETA = "assistants=v2"
Permitted = Callable[[str], object]  # raises unless the caller's key may run the model (api.limits)


def include_content(query: Mapping[str, str]) -> bool:
    """Whether the query's `include[]` asks for file search result content (the only value)."""
    include = [name for name in (query.get("include[]") or query.get("include") or "").split(",") if name]
    for index, name in enumerate(include):
        if name != CONTENT:
            raise InvalidRequest(f"Invalid value for 'include[{index}]': the only value is '{CONTENT}'.",
                                 param=f"include[{index}]", code="invalid_value")
    return bool(include)


def beta(handler):
    """For the handlers of the Assistants API: OpenAI serves it only to clients that ask for v2."""
    @functools.wraps(handler)
    async def checked(req, deps):
        if BETA not in [value.strip() for value in req.headers.get("openai-beta", "").split(",")]:
            raise InvalidRequest("You must provide the 'OpenAI-Beta' header to access the Assistants API. Please "
                                 "try again by setting the header 'OpenAI-Beta: assistants=v2'.", code="invalid_beta")
        return await handler(req, deps)
    return checked


# --- the one active run of a thread --------------------------------------------------------------

async def expire(deps: Deps, row: Row) -> Row:
    """The run's row, expired first if it waited for tool outputs past its expires_at."""
    now = int(deps.now())
    if row["status"] != "requires_action" or row["expires_at"] > now:
        return row
    segment = Segment(deps, row, *await execute.load(deps, row), None)
    await segment.at_tail()
    step = await store.step(deps, row["id"], segment.state["tool_step"])
    waited = objects.step_ended(await stored.load(deps, step["body"]), "expired", now)
    segment.body = objects.moved(segment.body, "expired", now, objects.usage_of(segment.state["usage"]))
    segment.emit([("thread.run.step.expired", waited), ("thread.run.expired", segment.body)])
    try:
        await segment.write(("requires_action",), [], [("step", waited, step["body"])])
    except Exception:  # noqa: BLE001 - submitted, cancelled or expired meanwhile: the row says which
        pass
    return await store.run(deps, row["thread_id"], row["id"])


async def current(deps: Deps, thread_id: str, run_id: str) -> Row:
    return await expire(deps, await store.run(deps, thread_id, run_id))


async def idle(deps: Deps, thread_id: str, refusal: str) -> None:
    """400 while the thread has an active run (OpenAI's rule), `refusal` formatted with its id."""
    row = await store.active_run(deps, thread_id)
    if row is not None and (await expire(deps, row))["status"] in ACTIVE:
        raise InvalidRequest(refusal.format(thread=thread_id, run=row["id"]), code="thread_locked")


async def sweep(deps: Deps) -> int:
    """The cron's part: runs whose wait for tool outputs is over expire (reads expire them too)."""
    rows = await deps.db.query(f"SELECT {store.RUN_COLUMNS} FROM thread_runs WHERE status = 'requires_action' AND "
                               "expires_at <= ? LIMIT ?", (int(deps.now()), SWEEP_BATCH))
    for row in rows:
        await expire(deps, row)
    return len(rows)


# --- creating a run --------------------------------------------------------------------------------

def _settings(assistant: dict, params: RunSettings, extra_instructions: Optional[str]) -> dict:
    """The run's settings: the assistant's, with what the run sets instead (sampling values stay
    None when neither sets them, so the model's own defaults apply)."""
    instructions = params.instructions if params.instructions is not None else assistant["instructions"] or ""
    if extra_instructions:
        instructions = f"{instructions}\n\n{extra_instructions}" if instructions else extra_instructions
    truncation = params.truncation_strategy
    return {"model": params.model or assistant["model"], "instructions": instructions,
            "tools": request.tools(params.tools) if params.tools is not None else assistant["tools"],
            "metadata": params.metadata or {},
            "temperature": assistant["temperature"] if params.temperature is None else params.temperature,
            "top_p": assistant["top_p"] if params.top_p is None else params.top_p,
            "max_prompt_tokens": params.max_prompt_tokens, "max_completion_tokens": params.max_completion_tokens,
            "truncation_strategy": {"type": truncation.type, "last_messages": truncation.last_messages}
            if truncation else {"type": "auto", "last_messages": None},
            "tool_choice": "auto", "parallel_tool_calls": params.parallel_tool_calls is not False,
            "response_format": request.shown(params.response_format, assistant["response_format"]),
            "reasoning_effort": params.reasoning_effort or assistant.get("reasoning_effort")}


@dataclass
class Planned:
    """A run checked before anything is written: its assistant, settings and own vector stores."""
    assistant: dict
    settings: dict
    store_ids: List[str]
    stream: bool


async def plan(deps: Deps, owner: str, params: RunSettings, permitted: Permitted, thread_searchable: bool,
               extra_instructions: Optional[str] = None, resources: Optional[ToolResources] = None) -> Planned:
    """The run's settings, refused with a 400 where the model cannot serve them (and as the key's
    limits say, by `permitted`). `thread_searchable`: the thread has (or is getting) a vector store."""
    assistant = await stored.load(deps, (await store.assistant(deps, owner, params.assistant_id, "assistant_id"))["body"])
    settings = _settings(assistant, params, extra_instructions)
    permitted(settings["model"])
    own = request.store_ids(await request.tool_resources(deps, owner, resources) if resources else
                            assistant["tool_resources"])
    searchable = any(t["type"] == "file_search" for t in settings["tools"]) and bool(own or thread_searchable)
    settings["tool_choice"] = request.tool_choice(params.tool_choice, settings["tools"], searchable)
    await request.check(settings, searchable, deps)
    return Planned(assistant, settings, own, bool(params.stream))


async def start(deps: Deps, key: ApiKey, thread: dict, planned: Planned, include: bool, batch: Batch,
                opening: Events = (), additional: Sequence[dict] = (), thread_row: Optional[Row] = None) -> dict:
    """The run of the thread, queued, written with what `batch` holds (the thread's writes) and
    its `additional` messages; `opening` events (thread.created) go first in its log when it is
    streamed. Returns the Run object."""
    owner = key.owner
    if await messages.add_messages(deps, owner, thread, list(additional), "additional_messages", batch):
        await store.put_thread(batch, owner, thread, thread_row)  # the thread got its vector store
    now = int(deps.now())
    run = objects.run(deps.new_id("run_"), thread["id"], planned.assistant["id"], now, planned.settings)
    ids = list(dict.fromkeys(planned.store_ids + request.store_ids(thread["tool_resources"])))
    state = {"vector_store_ids": ids, "include": include, "transcript": [], "usage": None, "segment": 0,
             "stream": planned.stream, "events": 0, "opened": 0, "tool_step": None, "step_usage": None}
    segment = Segment(deps, {"owner": owner}, run, state, None)
    segment.emit([*opening, ("thread.run.created", run), ("thread.run.queued", run)])
    state["opened"] = state["events"]
    await store.put_run(batch, owner, run, state)
    batch.add(runs.created(run["id"], execute.KIND, owner, key.id, now), *(segment.log.statements() if segment.log else []))
    try:
        await batch.commit()
    except Exception:
        await idle(deps, thread["id"], ACTIVE_RUN)  # a run created meanwhile won the race
        raise
    try:
        await runs.enqueue(deps, run["id"], execute.EXECUTORS)
    except Exception:
        await execute.EXECUTORS[execute.KIND].fail(run["id"], owner, deps, "The run could not be queued.")
        raise
    return run


# --- tool outputs, cancel ------------------------------------------------------------------------

async def _commit(deps: Deps, segment: Segment, was: Sequence[str], written=(), extra=()) -> None:
    """The change a request makes, unless the run changed meanwhile (then the client's 400)."""
    try:
        await segment.write(was, extra, written)
    except Exception:
        row = await store.run_by_id(deps, segment.body["id"])
        if row is not None and row["status"] not in was:
            raise InvalidRequest(f"The run's status changed to '{row['status']}' meanwhile.", param="run_id",
                                 code="run_changed") from None
        raise


async def submit_tool_outputs(deps: Deps, row: Row, outputs: List[dict], stream: bool,
                              permitted: Permitted) -> tuple:
    """(the run, queued again; the sequence number its new events follow)."""
    if row["status"] != "requires_action":
        raise InvalidRequest(f"Runs in status \"{row['status']}\" do not accept tool outputs.", param="run_id",
                             code="invalid_state")
    segment = Segment(deps, row, *await execute.load(deps, row), None)
    body, state = segment.body, segment.state
    permitted(body["model"])  # the run goes on with its model: the key must still have tokens for it
    expected = [call["id"] for call in body["required_action"]["submit_tool_outputs"]["tool_calls"]]
    given = [output["tool_call_id"] for output in outputs]
    if sorted(given) != sorted(expected):
        raise InvalidRequest(f"Expected tool outputs for call_ids {json.dumps(expected)}, got {json.dumps(given)}.",
                             param="tool_outputs", code="invalid_value")
    answers = {output["tool_call_id"]: output["output"] for output in outputs}
    step_row = await store.step(deps, row["id"], state["tool_step"])
    step = await stored.load(deps, step_row["body"])
    for call in step["step_details"]["tool_calls"]:
        if call["type"] == "function":
            call["function"]["output"] = answers[call["id"]]
    step = objects.step_ended(step, "completed", int(deps.now()), objects.usage_of(state["step_usage"]))
    state["transcript"] += [{"type": "function_call_output", "call_id": call_id, "output": answers[call_id]}
                            for call_id in expected]
    state.update(segment=state["segment"] + 1, stream=stream, tool_step=None, step_usage=None)
    segment.log = EventLog(deps, row["id"]) if stream else None
    await segment.at_tail()
    after = state["events"] - 1
    segment.body = objects.moved(body, "queued", int(deps.now()))
    segment.emit([("thread.run.step.completed", step), ("thread.run.queued", segment.body)])
    state["opened"] = state["events"]
    await _commit(deps, segment, ("requires_action",), [("step", step, step_row["body"])],
                  [runs.requeued(row["id"], int(deps.now()))])
    await runs.enqueue(deps, row["id"], execute.EXECUTORS)
    return segment.body, after


async def cancel(deps: Deps, row: Row, again: bool = True) -> dict:
    """A queued run or one waiting for tool outputs is cancelled at once; a running one is
    `cancelling` until its consumer stops at its next lease renewal."""
    if row["status"] not in ACTIVE:
        raise InvalidRequest(f"Cannot cancel run with status '{row['status']}'.", param="run_id",
                             code="invalid_state")
    segment = Segment(deps, row, *await execute.load(deps, row), None)
    if row["status"] == "cancelling":
        return segment.body
    await segment.at_tail()
    now, written, running = int(deps.now()), [], await runs.held(deps, row["id"])
    if running:
        segment.body = objects.moved(segment.body, "cancelling", now)
    else:  # queued (it will never start now) or waiting for tool outputs
        if segment.state["tool_step"]:
            step = await store.step(deps, row["id"], segment.state["tool_step"])
            written.append(("step", objects.step_ended(await stored.load(deps, step["body"]), "cancelled", now),
                            step["body"]))
            segment.emit([("thread.run.step.cancelled", written[-1][1])])
        segment.body = objects.moved(segment.body, "cancelled", now, objects.usage_of(segment.state["usage"]))
    segment.emit([(f"thread.run.{segment.body['status']}", segment.body)])
    try:
        await _commit(deps, segment, (row["status"],), written, [runs.still(row["id"], running), runs.cancel(row["id"])])
    except InvalidRequest:
        raise
    except Exception:
        if not again:
            raise
        return await cancel(deps, await current(deps, row["thread_id"], row["id"]), again=False)  # claimed meanwhile
    return segment.body


# --- the event stream ------------------------------------------------------------------------------

def frame(name: str, data) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def stream(deps: Deps, run_id: str, after: int, request_id: str) -> StreamResponse:
    """The run's events after sequence number `after`, as its consumer writes them, until it
    waits for tool outputs or ends; then `done`. A failure is an `error` event."""
    async def finished() -> bool:
        rows = await deps.db.query("SELECT status FROM thread_runs WHERE id = ?", (run_id,))
        return not rows or rows[0]["status"] not in store.RUNNING

    async def frames() -> AsyncIterator[str]:
        try:
            async with aclosing(follow(deps, run_id, after, finished)) as events:
                async for event in events:
                    yield frame(event["event"], event["data"])
        except ApiError as exc:
            yield frame("error", exc.body()["error"])
            return
        except Exception as exc:  # noqa: BLE001 - the client must get an error event, not a cut stream
            deps.log(f"{request_id} run stream failed: {type(exc).__name__}: {exc}")
            yield frame("error", INTERNAL.body()["error"])
            return
        yield DONE
    return StreamResponse(frames())
