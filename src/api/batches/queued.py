"""The model calls of a chunk's lines, made the way Workers AI serves a batch best: calls to the
models its asynchronous batch API takes wait until every line of the chunk is waiting or done, then
go as one queued request (`queueRequest`), polled by its request_id; other calls go directly, a few
at a time. The lines' code is the live endpoints' own: only the transport of their calls differs."""
import asyncio
import json
from typing import Dict, List, Optional, Tuple

from api import catalog
from api.errors import ApiError, UpstreamError, workers_ai_error
from api.ports import Inference

MAX_GROUP_BYTES = 9 * 1024 * 1024  # Workers AI takes a batch payload under 10 MB
MAX_GROUP = 500  # requests per queued batch
DIRECT_AT_ONCE = 8  # direct calls under way at once
POLL_FIRST, POLL_MAX = 0.5, 5.0  # seconds before the first poll, and between later ones at most
POLL_GIVE_UP = 600.0  # seconds of polling after which the calls go directly instead
PENDING = ("queued", "running")

Call = Tuple[dict, "asyncio.Future"]


class Grouped:
    """An Inference for `lines` lines running side by side; each calls finished() when it ends."""

    def __init__(self, ai: Inference, lines: int, log):
        self.ai, self.busy, self.log = ai, lines, log
        self.waiting: Dict[str, List[Call]] = {}
        self.direct = asyncio.Semaphore(DIRECT_AT_ONCE)
        self.tasks = set()

    async def run(self, model: str, inputs: dict, options: Optional[dict] = None):
        spec = catalog.BY_ID.get(model)
        if options or spec is None or not spec.has(catalog.ASYNC_BATCH):
            async with self.direct:
                return await self.ai.run(model, inputs, options)
        future = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(model, []).append((inputs, future))
        self.busy -= 1
        self._send_when_idle()
        return await future

    async def stream(self, model: str, inputs: dict, options: Optional[dict] = None):
        return await self.ai.stream(model, inputs, options)

    def finished(self) -> None:
        self.busy -= 1
        self._send_when_idle()

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()

    def _send_when_idle(self) -> None:
        """Once no line can add a call (each waits on one, or is done), the waiting calls go."""
        if self.busy > 0 or not self.waiting:
            return
        groups, self.waiting = self.waiting, {}
        for model, calls in groups.items():
            for group in _groups(calls):
                task = asyncio.ensure_future(self._send(model, group))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)

    async def _send(self, model: str, calls: List[Call]) -> None:
        try:
            results = await self._queued(model, [inputs for inputs, _ in calls])
        except ApiError as exc:  # refused, or no answer in time: the calls go directly instead
            self.log(f"batches: queued request to {model} failed ({exc.message}); calling directly")
            results = await asyncio.gather(*(self._direct(model, inputs) for inputs, _ in calls),
                                           return_exceptions=True)
        except Exception as exc:  # noqa: BLE001 - every line waiting on the group must hear of it
            results = [exc] * len(calls)
        for (_, future), result in zip(calls, results):
            self.busy += 1  # that line is running again, before any other line can end
            if future.done():  # its line was cancelled
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _direct(self, model: str, inputs: dict):
        async with self.direct:
            return await self.ai.run(model, inputs)

    async def _queued(self, model: str, requests: List[dict]) -> list:
        """Each request's result (or the error it ended with) through Workers AI's batch API."""
        queued = await self.ai.run(model, {"requests": requests}, {"queueRequest": True})
        request_id = queued.get("request_id") if isinstance(queued, dict) else None
        if not isinstance(request_id, str):
            raise UpstreamError(f"Workers AI queued no batch for {model}.")
        delay, waited = POLL_FIRST, 0.0
        while True:
            await asyncio.sleep(delay)
            waited += delay
            answer = await self.ai.run(model, {"request_id": request_id})
            if isinstance(answer, dict) and isinstance(answer.get("responses"), list):
                break
            if not (isinstance(answer, dict) and answer.get("status") in PENDING):
                raise UpstreamError(f"Workers AI answered the poll of batch {request_id} with something unexpected.")
            if waited >= POLL_GIVE_UP:
                raise UpstreamError(f"Workers AI did not finish batch {request_id} in {POLL_GIVE_UP:g} seconds.")
            delay = min(delay * 1.5, POLL_MAX)
        by_id = {entry.get("id"): entry for entry in answer["responses"] if isinstance(entry, dict)}
        return [_result(by_id.get(index), model, index) for index in range(len(requests))]


def _result(entry: Optional[dict], model: str, index: int):
    """One response of a finished batch: its result (the documented examples nest it under one or
    two `result` keys), or the error it failed with."""
    if entry is None:
        return UpstreamError(f"Workers AI's batch for {model} returned no result for request {index}.")
    result = entry.get("result")
    if entry.get("success") is False:
        errors = result.get("errors") if isinstance(result, dict) else None
        first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
        if isinstance(first.get("code"), int):
            return workers_ai_error(first["code"], str(first.get("message") or ""), model)
        return UpstreamError(f"Workers AI's batch for {model} failed request {index}.")
    while isinstance(result, dict) and set(result) == {"result"}:
        result = result["result"]
    return result


def _groups(calls: List[Call]) -> List[List[Call]]:
    """The calls in groups under the batch API's payload and size limits."""
    groups, group, size = [], [], 0
    for call in calls:
        length = len(json.dumps(call[0], separators=(",", ":"))) + 1
        if group and (len(group) == MAX_GROUP or size + length > MAX_GROUP_BYTES):
            groups.append(group)
            group, size = [], 0
        group.append(call)
        size += length
    return groups + [group] if group else groups
