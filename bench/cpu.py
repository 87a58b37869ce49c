"""CPU time per streamed request: the stand-in alone, the minimal Python forwarder and the worker, side by side.

Run: .venv/bin/python bench/cpu.py [--requests 100] [--concurrency 10] [--rounds 3]. For streams of
20 and 220 chunks it reads the user+system CPU time of each server's workerd processes before and after
`--requests` streamed chat requests, `--concurrency` at a time; rounds interleave the servers. Prints
the median and range over rounds, the cost per extra chunk and the issue's target beside it; writes
bench/results/cpu.json. Figures only: a missed target does not fail the run.
"""
import argparse
import asyncio
import contextlib
import json
import signal
import statistics
import sys
import tempfile
import time
import pathlib

import httpx

from servers import (CHAT_MODEL, KEY, RESULTS, ROOT, DevServer, apply_migrations, reference_server,
                     standin_server, workerd_cpu_ms)

CHUNKS = (20, 220)
SERVERS = ("standin", "reference", "worker")
LABELS = {"standin": "stand-in alone (JS), POST /run", "reference": "minimal Python forwarder",
          "worker": "this worker (its stand-in included)"}
TARGET_PER_CHUNK_MS = 0.15  # issue 13: streamed tokens, over the stand-in's own cost
SETTLE_S = 1.5  # the worker's usage batch (sent within 0.5 s) and its queue consumer land in the figure


def request(server: str, chunks: int, paced_ms: int) -> tuple:
    """(route, body) of a streamed chat of `chunks` content events."""
    text = f"[[words:{chunks}]]" + (f" [[delay:{paced_ms}]]" if paced_ms else "")
    messages = [{"role": "user", "content": text}]
    if server == "standin":
        return "/run", {"model": CHAT_MODEL, "inputs": {"messages": messages, "stream": True}}
    return "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": messages, "stream": True}


async def one(client: httpx.AsyncClient, route: str, body: dict) -> None:
    async with client.stream("POST", route, json=body) as response:
        response.raise_for_status()
        data = b"".join([chunk async for chunk in response.aiter_raw()])
    if not data.rstrip().endswith(b"data: [DONE]"):
        raise RuntimeError(f"{route}: stream ended without [DONE]: {data[-200:]!r}")


async def load(url: str, route: str, body: dict, requests: int, concurrency: int) -> None:
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers={"authorization": f"Bearer {KEY}"}, timeout=60,
                                 limits=limits) as client:
        gate = asyncio.Semaphore(concurrency)

        async def gated():
            async with gate:
                await one(client, route, body)
        await asyncio.gather(*(gated() for _ in range(requests)))


def cpu_per_request(server, name: str, chunks: int, args) -> float:
    """Milliseconds of workerd CPU per request, the settling time's idle CPU included."""
    route, body = request(name, chunks, args.paced)
    asyncio.run(load(server.url, route, body, args.concurrency, args.concurrency))  # warm
    time.sleep(SETTLE_S)
    before = workerd_cpu_ms(server.proc.pid)
    asyncio.run(load(server.url, route, body, args.requests, args.concurrency))
    time.sleep(SETTLE_S)
    return (workerd_cpu_ms(server.proc.pid) - before) / args.requests


def idle_cpu_ms(servers: dict) -> dict:
    """CPU of each server's workerd processes over one settling time with no requests."""
    before = {name: workerd_cpu_ms(server.proc.pid) for name, server in servers.items()}
    time.sleep(2 * SETTLE_S)
    return {name: (workerd_cpu_ms(server.proc.pid) - before[name]) / 2 for name, server in servers.items()}


def spread(values: list) -> str:
    return f"{statistics.median(values):6.2f} [{min(values):.2f}-{max(values):.2f}]"


def report(args, figures: dict, idle: dict) -> dict:
    """Print the table; return its figures (medians, ranges over rounds)."""
    per_chunk = {name: [(big - small) / (CHUNKS[1] - CHUNKS[0]) for small, big in
                        zip(figures[name][CHUNKS[0]], figures[name][CHUNKS[1]])] for name in SERVERS}
    over = {name: [own - base for own, base in zip(per_chunk[name], per_chunk["standin"])]
            for name in ("reference", "worker")}
    paced = f", events {args.paced} ms apart" if args.paced else ", events as fast as they are read"
    print(f"\nCPU of the workerd processes per request (ms; median [range] of {args.rounds} rounds): "
          f"{args.requests} streamed chats, {args.concurrency} at a time{paced}\n")
    print(f"{'path':40} {f'{CHUNKS[0]} chunks':>22} {f'{CHUNKS[1]} chunks':>22} {'per extra chunk':>22}")
    for name in SERVERS:
        print(f"{LABELS[name]:40} {spread(figures[name][CHUNKS[0]]):>22} {spread(figures[name][CHUNKS[1]]):>22}"
              f" {spread(per_chunk[name]):>22}")
    print()
    for name in ("reference", "worker"):
        target = f"  target <= {TARGET_PER_CHUNK_MS} ms" if name == "worker" else ""
        print(f"{'per chunk over the stand-in: ' + name:62} {spread(over[name]):>22}{target}")
    print(f"\nidle CPU while settling ({SETTLE_S} s, included above): "
          + ", ".join(f"{name} {ms:.1f} ms" for name, ms in idle.items()))
    return {"per_request_ms": figures, "per_extra_chunk_ms": per_chunk, "per_chunk_over_standin_ms": over}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--paced", type=int, default=0, metavar="MS",
                        help="the stand-in waits MS between events (one event per read)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind, so the servers are stopped
    RESULTS.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        state = pathlib.Path(tmp)
        apply_migrations(state / "worker")
        servers = {"standin": stack.enter_context(standin_server(state / "standin")),
                   "reference": stack.enter_context(reference_server(state / "reference")),
                   "worker": stack.enter_context(DevServer(state / "worker", RESULTS / "worker.log"))}
        idle = idle_cpu_ms(servers)
        figures = {name: {chunks: [] for chunks in CHUNKS} for name in SERVERS}
        for _ in range(args.rounds):
            for chunks in CHUNKS:
                for name in SERVERS:
                    figures[name][chunks].append(cpu_per_request(servers[name], name, chunks, args))
    results = report(args, figures, idle)
    results.update(vars(args), idle_ms=idle)
    (RESULTS / "cpu.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten: {(RESULTS / 'cpu.json').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
