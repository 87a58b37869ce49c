"""Runs of threads on the run engine. A run goes in segments — from its start, or from the tool
outputs its client submitted, to the next wait for tool outputs or its end — each one execution
claimed from the runs queue: the thread's messages and the run's own tool calls so far go to the
Responses machinery's ResponseRun, whose events are framed as messages and run steps (and, for
a streamed segment, written to the run's event log); the outcome is stored in one transaction."""
import asyncio
from contextlib import aclosing
from typing import List, Optional

from api import stored, usage
from api.assistants import messages, objects, request, store
from api.assistants.frame import Events, Framer
from api.assistants.store import Batch
from api.errors import ApiError, RateLimited
from api.ports import Deps, Row
from api.responses import inputs
from api.responses.generate import ResponseRun, estimate, fit
from api.runs import lease as runs
from api.runs.log import EventLog, clear_after
from api.vector_stores import stores

KIND = "thread_run"
ENDPOINT = "/v1/threads/runs"
# A run waits up to a minute for the files of its vector stores to be ingested, as OpenAI's do.
FILES_WAIT_POLLS, FILES_POLL_SECONDS = 120, 0.5
CONTEXT_MESSAGES = 2000  # a run reads at most the thread's newest messages (truncation fits them further)
MAX_ROUNDS = 64  # times a run may wait for tool outputs: its context of tool calls stays bounded


def last_error(exc: ApiError) -> dict:
    """Run.last_error: its codes are server_error, rate_limit_exceeded and invalid_prompt."""
    code = "rate_limit_exceeded" if isinstance(exc, RateLimited) else (
        "invalid_prompt" if 400 <= exc.status < 500 else "server_error")
    return {"code": code, "message": exc.message}


class Segment:
    """One execution of a run, from the row the run engine claimed."""

    def __init__(self, deps: Deps, row: Row, body: dict, state: dict, lease: Optional[runs.Lease]):
        self.deps, self.row, self.body, self.state, self.lease = deps, row, body, state, lease
        self.log = EventLog(deps, body["id"]) if state["stream"] else None

    def emit(self, events: Events) -> None:
        """The events go to the run's log when its client follows the run's stream."""
        if self.log is None:
            return
        for name, data in events:
            data = objects.shown(data, self.state["include"])
            self.log.add(self.state["events"], {"event": name, "data": data})
            self.state["events"] += 1

    async def at_tail(self) -> None:
        """Events written outside a segment's own attempt go after every logged event: a client
        following the stream may have read a dead attempt's events already."""
        if self.log is not None:
            rows = await self.deps.db.query("SELECT COALESCE(MAX(sequence_number), -1) + 1 AS next FROM run_events "
                                            "WHERE run_id = ?", (self.body["id"],))
            self.state["events"] = max(self.state["events"], rows[0]["next"])

    async def write(self, status_was, before=(), written=()) -> None:
        """The run as it is now (and the messages and steps `written`: (kind, object, the column
        text it replaces)), with its logged events, in one transaction that holds only while the
        run is still in a status of `status_was`."""
        batch = Batch(self.deps)
        batch.add(*before, store.expect(self.body["id"], status_was))
        for kind, value, old in written:
            await (store.put_message(batch, value) if kind == "message" else store.put_step(batch, value, old))
        row = await store.put_run(batch, self.row["owner"], self.body, self.state, self.row)
        if self.log is not None:
            batch.add(*self.log.statements())
        if self.lease is not None and self.body["status"] not in store.RUNNING:
            batch.add(self.lease.release())
        await batch.commit()
        self.row = row

    async def end(self, status: str, framer: Optional[Framer] = None, used: Optional[usage.Usage] = None,
                  **details) -> None:
        """The segment's outcome: the run waiting for tool outputs, or finished."""
        error = details.get("last_error")
        events = framer.end(status, error) if framer else []
        self.body = objects.moved(self.body, status, int(self.deps.now()), used, **details)
        self.emit(events + [(f"thread.run.{status}", self.body)])
        await self.write(("in_progress", "cancelling"), [self.lease.held()] if self.lease else [],
                         framer.written() if framer else [])

    async def start(self, attempt: int) -> None:
        before = [self.lease.held()]
        self.state["events"] = self.state["opened"]  # a retried attempt logs over the dead one's events
        if self.log is not None and runs.tries(attempt) > 1:
            before.append(clear_after(self.body["id"], self.state["opened"] - 1))
        self.body = objects.moved(self.body, "in_progress", int(self.deps.now()))
        self.emit([("thread.run.in_progress", self.body)])
        await self.write(store.RUNNING, before)

    async def context(self) -> List[dict]:
        """The chat messages: instructions, the thread's messages (the last few, with
        last_messages truncation), then the run's own messages, tool calls and their outputs."""
        body = self.body
        truncation = body["truncation_strategy"]
        newest = min(CONTEXT_MESSAGES, truncation["last_messages"] or CONTEXT_MESSAGES)
        thread = await store.thread_messages(self.deps, body["thread_id"], body["id"], newest)
        items = [messages.item(m) for m in thread] + self.state["transcript"]
        chat = await inputs.to_messages(self.deps, self.row["owner"], items, "messages")
        return ([{"role": "developer", "content": body["instructions"]}] if body["instructions"] else []) + chat

    async def files_ready(self) -> None:
        """Waits (renewing the lease) while files of the run's vector stores are being ingested."""
        ids = self.state["vector_store_ids"]
        for _ in range(FILES_WAIT_POLLS if ids else 0):
            counts = await stores.counts(self.deps, ids)
            if not any(c["file_counts"]["in_progress"] for c in counts.values()):
                return
            await asyncio.sleep(FILES_POLL_SECONDS)
            if not await self.lease.beat(force=True):
                return

    async def prepare(self, used: usage.Usage) -> tuple:
        """(the prepared request, the context) — or (None, the reason the run ends incomplete):
        max_completion_tokens is what all the run's model calls may write together;
        max_prompt_tokens is the window its context is fitted into (auto truncation drops the
        oldest messages first) and must fit."""
        body = self.body
        prepared = request.prepare(body, self.state["vector_store_ids"], self.deps)
        limit = body["max_completion_tokens"]
        if limit is not None and used.completion_tokens >= limit:
            return None, "max_completion_tokens"
        if limit is not None:
            prepared.chat["max_completion_tokens"] = limit - used.completion_tokens
        chat = await self.context()
        window = body["max_prompt_tokens"]
        if window and body["truncation_strategy"]["type"] == "auto":
            chat = fit(chat, window, 0)
        if window and sum(map(estimate, chat)) > window:
            return None, "max_prompt_tokens"
        await self.files_ready()
        return prepared, chat

    async def run(self, claim: runs.Claim) -> None:
        await self.start(claim.attempt)
        deps, body = self.deps, self.body
        used = objects.usage_of(self.state["usage"])
        try:
            prepared, chat = await self.prepare(used)
        except ApiError as exc:
            return await self.end("failed", used=used, last_error=last_error(exc))
        if prepared is None:
            return await self.end("incomplete", used=used, incomplete_details={"reason": chat})
        meter = usage.Meter(f"{body['id']}:{self.state['segment']}", claim.key_id, ENDPOINT, deps.now())
        truncation = "auto" if body["truncation_strategy"]["type"] == "auto" else "disabled"
        generation = ResponseRun(prepared, chat, deps, meter, self.row["owner"], True, truncation)
        ranking = next((t["file_search"]["ranking_options"] for t in body["tools"] if t["type"] == "file_search"), None)
        framer = Framer(body, deps.new_id, deps.now, lambda: generation.usage, ranking)
        await self.generate(generation, framer, used)

    async def generate(self, generation: ResponseRun, framer: Framer, used: usage.Usage) -> None:
        error = None
        try:
            await generation.start()
            async with aclosing(generation.events()) as events:
                async for event in events:
                    self.emit(framer.feed(event))
                    if self.log is not None and self.log.due():
                        await self.log.flush()
                    if not await self.lease.beat(force=event["type"] == "response.output_item.done"):
                        break
        except ApiError as exc:
            error = exc
        if not self.lease.alive and not self.lease.cancelled:
            return  # taken for dead: the consumer that took the run over writes it
        used = used + generation.usage
        self.state["usage"] = objects.usage_wire(used)
        if self.lease.cancelled:
            return await self.end("cancelled", framer, used)
        if error is not None:
            return await self.end("failed", framer, used, last_error=last_error(error))
        calls = framer.function_calls()
        if calls and self.state["segment"] + 1 >= MAX_ROUNDS:
            return await self.end("failed", framer, used, last_error={
                "code": "invalid_prompt", "message": f"The run asked for tool outputs {MAX_ROUNDS} times, the most "
                                                     "a run may; start a new run to go on."})
        if calls:
            self.state["transcript"] += generation.output.items
            self.state["tool_step"] = framer.tool_step["id"]
            self.state["step_usage"] = objects.usage_wire(framer.unassigned())
            return await self.end("requires_action", framer, required_action={
                "type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": calls}})
        if generation.status == "incomplete":
            return await self.end("incomplete", framer, used, incomplete_details={"reason": "max_completion_tokens"})
        await self.end("completed", framer, used)


async def load(deps: Deps, row: Row) -> tuple:
    return await store.run_body(deps, row), await stored.load(deps, row["state"])


class RunExecutor:
    async def run(self, claim: runs.Claim, lease: runs.Lease, deps: Deps) -> None:
        row = await store.run_by_id(deps, claim.id)
        if row is None or row["status"] not in store.RUNNING:  # deleted, or finished before it started
            await deps.db.execute(*lease.release())
            return
        segment = Segment(deps, row, *await load(deps, row), lease)
        if row["status"] == "cancelling":  # cancelled while its message waited, or its consumer died
            await segment.at_tail()
            return await segment.end("cancelled", used=objects.usage_of(segment.state["usage"]))
        await segment.run(claim)

    async def fail(self, run_id: str, owner: str, deps: Deps, message: str) -> None:
        row = await store.run_by_id(deps, run_id)
        if row is None or row["status"] not in store.RUNNING:
            return
        segment = Segment(deps, row, *await load(deps, row), None)
        await segment.at_tail()
        segment.body = objects.moved(segment.body, "failed", int(deps.now()), objects.usage_of(segment.state["usage"]),
                                     last_error={"code": "server_error", "message": message})
        segment.emit([("thread.run.failed", segment.body)])
        await segment.write(store.RUNNING)


EXECUTORS = {KIND: RunExecutor()}
