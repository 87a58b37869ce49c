"""Batches of 1,000 chat lines and of 1,000 embedding lines through the worker with the stand-in, each
both ways: with a model Workers AI's async batch API takes (a chunk's lines go as one queued request,
polled) and with one it does not (one call per line). Per batch: seconds from create to `completed`,
runs-queue deliveries (from wrangler's log), the workerd RSS peak above idle while the consumer runs;
and, counted on the core with the unit tests' SQLite adapter (the same code the worker runs), the D1
statements, Queue messages and model calls per line.
Run: .venv/bin/python bench/batches.py [--lines 1000]. Figures only: nothing here fails on a target."""
import argparse
import asyncio
import concurrent.futures
import io
import json
import pathlib
import re
import sys
import tempfile
import threading
import time
import tracemalloc

import openai

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]
from bench import workerd_rss_mib  # noqa: E402 - bench/bench.py
from integration.devserver import DevServer, apply_migrations  # noqa: E402
from responses import Counting  # noqa: E402 - bench/responses.py

RESULTS = ROOT / "bench" / "results"
LIVE = "live chat requests, gpt-4o-mini, 8 at a time"
DELIVERY = re.compile(r"QUEUE workers-openai-runs (\d+)/(\d+) \((\d+)ms\)")
CASES = {  # name → (endpoint, model, how its lines reach Workers AI)
    "chat, gpt-4o (llama-3.3-70b)": ("/v1/chat/completions", "gpt-4o", "queued"),
    "chat, gpt-4o-mini (llama-3.1-8b)": ("/v1/chat/completions", "gpt-4o-mini", "per line"),
    "embeddings, text-embedding-3-small (bge-base)": ("/v1/embeddings", "text-embedding-3-small", "queued"),
    "embeddings, embeddinggemma-300m": ("/v1/embeddings", "@cf/google/embeddinggemma-300m", "per line"),
}


def lines(endpoint: str, model: str, count: int) -> list:
    if endpoint == "/v1/embeddings":
        body = lambda i: {"model": model, "input": f"line number {i} of the bench"}  # noqa: E731
    else:
        body = lambda i: {"model": model, "messages": [{"role": "user", "content": f"hello number {i}"}]}  # noqa: E731
    return [{"custom_id": f"c{i}", "method": "POST", "url": endpoint, "body": body(i)} for i in range(count)]


def jsonl(rows: list) -> bytes:
    return b"".join(json.dumps(row).encode() + b"\n" for row in rows)


class Tally(list):
    """A list the fakes append to that keeps only how many items came: what the fakes record
    (model calls, queue messages) would otherwise count as the consumer's memory."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def append(self, item):
        self.count += 1

    def __iadd__(self, items):
        self.count += len(items)
        return self


def core_counts(count: int) -> dict:
    """Per line: D1 statements, runs-queue and usage messages, Workers AI calls; and the consumer's
    Python heap peak for the whole batch."""
    from api import app, jobs  # noqa: PLC0415
    from api.batches import queued  # noqa: PLC0415
    from api.ports import Config, Deps, QueueMessage  # noqa: PLC0415
    from fakes import (Clock, DictBlobs, DictWeb, ListQueue, MemoryBinary, MemoryVectors, SqliteDB,  # noqa: PLC0415
                       WindowLimiter)
    from unit.batches.support import EchoAI  # noqa: PLC0415
    from unit.support import request  # noqa: PLC0415

    class Bucket(DictBlobs):
        """R2 holds the output files, not the consumer: once the batch runs, they are kept as sizes."""
        running = False

        async def put(self, key, data, content_type, metadata=None):
            if self.running and key.startswith("files/"):
                self.objects[key] = len(data)
            else:
                await super().put(key, data, content_type, metadata)

        async def multipart(self, key, content_type):
            upload = await super().multipart(key, content_type)
            upload.parts = Tally()
            upload.complete = lambda: asyncio.sleep(0)
            return upload

    queued.POLL_FIRST = queued.POLL_MAX = 0
    figures = {}
    for name, (endpoint, model, _) in CASES.items():
        ids = iter(range(1, 10 ** 7))
        db, ai, blobs, usage_queue = Counting(SqliteDB()), EchoAI(), Bucket(), ListQueue()
        ai.calls, usage_queue.sent = Tally(), Tally()
        deferred = []  # run as they come, as ctx.waitUntil runs them: usage is sent during the batch
        clock = Clock()
        deps = Deps(ai=ai, db=db, jobs=usage_queue, runs=ListQueue(), web=DictWeb(), blobs=blobs,
                    vectors=MemoryVectors(), limiter=WindowLimiter(clock), config=Config(local_dev_key="sk-test", usage_flush_seconds=0),
                    defer=lambda c: deferred.append(asyncio.ensure_future(c)), now=clock,
                    new_id=lambda p: f"{p}{next(ids):06d}", log=lambda line: None, dispatch=app.dispatch)

        async def run_batch():
            form = {"file": [MemoryBinary(jsonl(lines(endpoint, model, count)), "application/jsonl", "b.jsonl")],
                    "purpose": ["batch"]}
            upload = await app.handle(request("POST", "/v1/files", headers={"content-type": "multipart/form-data"},
                                              form=form), deps)
            before, runs_sent = db.statements, 0
            await app.handle(request("POST", "/v1/batches", {"input_file_id": upload.body["id"], "endpoint": endpoint,
                                                             "completion_window": "24h"}), deps)
            blobs.running = True
            tracemalloc.start()
            while deps.runs.sent:
                runs_sent += 1
                await jobs.consume([QueueMessage("m", deps.runs.sent.pop(0))], deps)
            heap = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            await asyncio.gather(*deferred)
            return db.statements - before, runs_sent, heap
        statements, runs_sent, heap = asyncio.run(run_batch())
        figures[name] = {"d1_statements": statements / count, "runs_messages": runs_sent / count,
                         "usage_messages": usage_queue.sent.count / count, "ai_calls": ai.calls.count / count,
                         "python_heap_peak_mib": heap / 2 ** 20}
    return figures


class Peak(threading.Thread):
    """The highest summed workerd RSS of a process group while running, sampled every 0.1 s."""

    def __init__(self, pgid: int):
        super().__init__(daemon=True)
        self.pgid, self.peak, self.done = pgid, 0.0, threading.Event()

    def run(self):
        while not self.done.is_set():
            self.peak = max(self.peak, sum(workerd_rss_mib(self.pgid)))
            time.sleep(0.1)


def worker_runs(count: int) -> dict:
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        state = pathlib.Path(tmp)
        apply_migrations(state)
        RESULTS.mkdir(exist_ok=True)
        with DevServer(state, RESULTS / "batches.log") as server:
            client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-local-dev", max_retries=0, timeout=120)
            warm = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
            assert warm.choices
            for name, (endpoint, model, _) in CASES.items():
                uploaded = client.files.create(file=("b.jsonl", io.BytesIO(jsonl(lines(endpoint, model, count))),
                                                     "application/jsonl"), purpose="batch")
                time.sleep(2)
                idle = sum(workerd_rss_mib(server.proc.pid))
                log_at = server.log_path.stat().st_size
                peak = Peak(server.proc.pid)
                peak.start()
                started = time.perf_counter()
                batch = client.batches.create(input_file_id=uploaded.id, endpoint=endpoint, completion_window="24h")
                while batch.status not in ("completed", "failed", "cancelled", "expired"):
                    time.sleep(0.25)
                    batch = client.batches.retrieve(batch.id)
                took = time.perf_counter() - started
                peak.done.set()
                peak.join()
                time.sleep(1.5)  # wrangler logs a delivery once its consumer returns, after the batch shows done
                with open(server.log_path) as log:
                    log.seek(log_at)
                    deliveries = [m for m in DELIVERY.finditer(log.read())]
                assert batch.status == "completed" and batch.request_counts.completed == count, batch
                figures[name] = {"seconds": took, "lines_per_second": count / took, "runs_deliveries": len(deliveries),
                                 "consumer_ms": sum(int(m[3]) for m in deliveries),
                                 "rss_idle_mib": idle, "rss_peak_above_idle_mib": peak.peak - idle}
            figures[LIVE] = live(client, server, count)
    return figures


def live(client: openai.OpenAI, server: DevServer, count: int) -> dict:
    """The same chat lines as live requests, 8 at a time (as many as a chunk's direct calls): the
    baseline for the memory figures, which count the whole local runtime (stand-ins, simulators)."""
    idle = sum(workerd_rss_mib(server.proc.pid))
    peak = Peak(server.proc.pid)
    peak.start()
    started = time.perf_counter()
    bodies = [line["body"] for line in lines("/v1/chat/completions", "gpt-4o-mini", count)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda body: client.chat.completions.create(**body), bodies))
    took = time.perf_counter() - started
    peak.done.set()
    peak.join()
    return {"seconds": took, "lines_per_second": count / took, "runs_deliveries": 0, "rss_idle_mib": idle,
            "rss_peak_above_idle_mib": peak.peak - idle}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1000)
    args = parser.parse_args()
    core = core_counts(args.lines)
    worker = worker_runs(args.lines)
    print(f"\nbatches bench: {args.lines} lines per batch, the worker with the AI stand-in")
    print(f"{'batch':48} {'way':>9} {'s to done':>10} {'lines/s':>8} {'deliveries':>11} {'RSS peak':>9}")
    for name, way in [*((name, case[2]) for name, case in CASES.items()), (LIVE, "")]:
        w = worker[name]
        print(f"{name:48} {way:>9} {w['seconds']:10.1f} {w['lines_per_second']:8.1f} {w['runs_deliveries']:11d} "
              f"{w['rss_peak_above_idle_mib']:+8.1f}M")
    print(f"\nper line (core count){'':27} {'D1 stmts':>9} {'runs msgs':>10} {'usage msgs':>11} {'AI calls':>9} "
          f"{'heap peak':>10}")
    for name, (_, _, way) in CASES.items():
        c = core[name]
        print(f"{name:48} {c['d1_statements']:9.3f} {c['runs_messages']:10.4f} {c['usage_messages']:11.3f} "
              f"{c['ai_calls']:9.3f} {c['python_heap_peak_mib']:9.1f}M")
    print("\nRSS: summed VmRSS of the worker's two workerd processes (the worker's, the stand-ins' isolates and the "
          "local D1/R2/Queue simulators run in them), peak while the batch ran, above the idle figure just before "
          "it; the live requests are the baseline of the same runtime under the same load. Heap peak: the "
          "consumer's Python allocations for the whole batch (tracemalloc, CPython, the same code).")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "batches.json").write_text(json.dumps({"lines": args.lines, "worker": worker, "core": core}, indent=2))


if __name__ == "__main__":
    main()
