"""What storing and backgrounding a response costs: a stored response vs the same chat completion
(latency, interleaved, one `wrangler dev` with the stand-in), background create → completed time,
and the D1 statements each kind of response takes (counted on the core with the unit tests'
SQLite adapter, the same code the worker runs). Run: .venv/bin/python bench/responses.py
[--requests 100]. Figures only: missed targets do not fail it."""
import argparse
import asyncio
import pathlib
import statistics
import sys
import tempfile
import time

import httpx

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]
from integration.devserver import DevServer, apply_migrations  # noqa: E402

KEY = {"authorization": "Bearer sk-local-dev"}
CHAT = ("/v1/chat/completions", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello there"}]})
RESPONSE = ("/v1/responses", {"model": "gpt-4o-mini", "input": "hello there"})
UNSTORED = ("/v1/responses", {"model": "gpt-4o-mini", "input": "hello there", "store": False})


def latency(client: httpx.Client, requests: int) -> dict:
    samples = {"chat": [], "response": [], "response, store false": []}
    for round_ in range(requests + 10):
        for name, (path, body) in zip(samples, (CHAT, RESPONSE, UNSTORED)):
            start = time.perf_counter()
            client.post(path, json=body).raise_for_status()
            if round_ >= 10:  # warm-up rounds are not kept
                samples[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def background(client: httpx.Client, runs: int) -> list:
    """Seconds from create (background) to seeing it completed, polling every 50 ms."""
    took = []
    for _ in range(runs):
        start = time.perf_counter()
        created = client.post("/v1/responses", json={**RESPONSE[1], "background": True}).json()
        while client.get(f"/v1/responses/{created['id']}").json()["status"] != "completed":
            time.sleep(0.05)
        took.append(time.perf_counter() - start)
    return took


class Counting:
    """The SQLite D1 stand-in, counting statements as D1 bills them (each one in a batch too)."""

    def __init__(self, db):
        self.db, self.statements = db, 0

    async def query(self, sql, params=()):
        self.statements += 1
        return await self.db.query(sql, params)

    async def execute(self, sql, params=()):
        self.statements += 1
        return await self.db.execute(sql, params)

    async def batch(self, statements):
        self.statements += len(statements)
        return await self.db.batch(statements)


def d1_statements() -> dict:
    from api import app, jobs  # noqa: PLC0415
    from api.ports import Config, Deps, QueueMessage  # noqa: PLC0415
    from fakes import (Clock, DictBlobs, DictWeb, ListQueue, MemoryVectors, ScriptedAI, SqliteDB,  # noqa: PLC0415
                       WindowLimiter)
    from unit.support import native, native_stream, request  # noqa: PLC0415

    counter = iter(range(1, 10 ** 6))
    db = Counting(SqliteDB())
    clock = Clock()
    deps = Deps(ai=ScriptedAI(), db=db, jobs=ListQueue(), runs=ListQueue(), web=DictWeb(), blobs=DictBlobs(),
                vectors=MemoryVectors(), limiter=WindowLimiter(clock),
                config=Config(local_dev_key="sk-test", usage_flush_seconds=0), defer=lambda c: c.close(), now=clock,
                new_id=lambda p: f"{p}{next(counter):06d}", log=lambda line: None, dispatch=app.dispatch)

    async def count(body, answer, consume=False) -> int:
        before = db.statements
        deps.ai.answer(answer)
        response = await app.handle(request("POST", "/v1/responses", body), deps)
        if hasattr(response, "events") and not body.get("background"):  # (a background stream follows the log)
            async for _ in response.events:
                pass
        if consume:
            for message in deps.runs.sent:
                await jobs.consume([QueueMessage("m", message)], deps)
            deps.runs.sent.clear()
        return db.statements - before

    async def all_counts() -> dict:
        words = [f"w{i} " for i in range(200)]
        return {
            "stored response": await count(RESPONSE[1], native("Hello!", 5, 2)),
            "store: false": await count(UNSTORED[1], native("Hello!", 5, 2)),
            "streamed stored response (200 chunks)": await count({**RESPONSE[1], "stream": True},
                                                                 native_stream(words, 5, 200)),
            "background run": await count({**RESPONSE[1], "background": True}, native_stream(words, 5, 200), True),
            "background streamed run (200 chunks, event log)": await count(
                {**RESPONSE[1], "background": True, "stream": True}, native_stream(words, 5, 200), True),
        }
    return asyncio.run(all_counts())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--background", type=int, default=20)
    args = parser.parse_args()
    counts = d1_statements()
    with tempfile.TemporaryDirectory() as tmp:
        state = pathlib.Path(tmp)
        apply_migrations(state)
        with DevServer(state, state / "wrangler.log") as server, \
                httpx.Client(base_url=server.url, headers=KEY, timeout=60) as client:
            medians = latency(client, args.requests)
            took = background(client, args.background)
    print(f"\nresponses bench: {args.requests} interleaved requests per path (median ms)")
    for name, ms in medians.items():
        print(f"  {name:28} {ms:8.2f}  {ms / medians['chat']:5.2f}x chat")
    print(f"  target: stored response <= 1.15x the chat completion: "
          f"{'met' if medians['response'] <= 1.15 * medians['chat'] else 'missed'}")
    print(f"\nbackground create -> completed (polled every 50 ms), {args.background} runs: median "
          f"{statistics.median(took):.3f} s, max {max(took):.3f} s")
    print("\nD1 statements per response (each statement of a batch counted):")
    for name, n in counts.items():
        print(f"  {name:50} {n:4d}")


if __name__ == "__main__":
    main()
