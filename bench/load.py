"""Load against the local worker: 500 concurrent streamed chat requests, then a 10,000-request mixed
soak printing p50/p99 and the workerd RSS every 1,000 requests. Any error fails the run.
Run: .venv/bin/python bench/load.py [--streams 500] [--soak 10000] [--concurrency 32]
Writes bench/results/load.json and the server log bench/results/load.log."""
import argparse
import asyncio
import json
import pathlib
import signal
import statistics
import sys
import tempfile
import time

import httpx

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
from servers import RESULTS, first_200, workerd_rss_mib  # noqa: E402
from integration.devserver import DevServer, apply_migrations  # noqa: E402

AUTH = {"authorization": "Bearer sk-local-dev"}
STREAMED = {"model": "gpt-4o-mini", "stream": True,
            "messages": [{"role": "user", "content": "[[words:20]] [[delay:20]] stream"}]}
# The soak's mix, in turn: (method, path, body or None, streamed).
MIX = [
    ("POST", "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}, False),
    ("POST", "/v1/chat/completions", {**STREAMED, "messages": [{"role": "user", "content": "[[words:30]] go"}]},
     True),
    ("POST", "/v1/embeddings", {"model": "text-embedding-3-small", "input": ["one", "two", "three"]}, False),
    ("POST", "/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "Say", "max_tokens": 8}, False),
    ("POST", "/v1/chat/completions", {"model": "gpt-4o", "messages": [{"role": "user", "content": "now"}],
                                      "tools": [{"type": "function", "function": {
                                          "name": "now", "parameters": {"type": "object", "properties": {
                                              "tz": {"type": "string"}}}}}], "tool_choice": "required"}, False),
    ("GET", "/v1/models", None, False),
    ("POST", "/v1/moderations", {"input": "a friendly sentence"}, False),
    ("GET", "/v1/files", None, False),
]


class Failure(Exception):
    pass


async def request(client: httpx.AsyncClient, method: str, path: str, body, streamed: bool) -> float:
    """Milliseconds to the whole answer; Failure unless it is a 200 (and a stream ends with [DONE])."""
    start = time.perf_counter()
    if not streamed:
        response = await client.request(method, path, json=body)
        if response.status_code != 200:
            raise Failure(f"{method} {path}: {response.status_code} {response.text[:200]}")
        return (time.perf_counter() - start) * 1000
    async with client.stream(method, path, json=body) as response:
        if response.status_code != 200:
            raise Failure(f"{method} {path}: {response.status_code}")
        data = b"".join([chunk async for chunk in response.aiter_raw()])
    if not data.rstrip().endswith(b"data: [DONE]") or b'"error"' in data:
        raise Failure(f"{path}: stream did not end with [DONE]: {data[-200:]!r}")
    return (time.perf_counter() - start) * 1000


def percentiles(values: list) -> tuple:
    cuts = statistics.quantiles(values, n=100)
    return statistics.median(values), cuts[98]


async def burst(server, streams: int) -> dict:
    """`streams` streamed chat requests at once."""
    limits = httpx.Limits(max_connections=streams, max_keepalive_connections=streams)
    async with httpx.AsyncClient(base_url=server.url, headers=AUTH, timeout=120, limits=limits) as client:
        started = time.perf_counter()
        outcomes = await asyncio.gather(*(request(client, "POST", "/v1/chat/completions", STREAMED, True)
                                          for _ in range(streams)), return_exceptions=True)
        wall = time.perf_counter() - started
    errors = [str(o) for o in outcomes if isinstance(o, BaseException)]
    times = [o for o in outcomes if not isinstance(o, BaseException)]
    p50, p99 = percentiles(times) if len(times) > 1 else (0, 0)
    return {"streams": streams, "errors": errors, "wall_s": round(wall, 2), "p50_ms": round(p50, 1),
            "p99_ms": round(p99, 1), "rss_mib": workerd_rss_mib(server.proc.pid)}


async def soak(server, total: int, concurrency: int, report) -> list:
    """`total` requests of MIX in turn, `concurrency` in flight; a line per 1,000."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    blocks, errors, times = [], [], []
    issued = 0
    async with httpx.AsyncClient(base_url=server.url, headers=AUTH, timeout=120, limits=limits) as client:
        async def worker():
            nonlocal issued
            while issued < total:
                method, path, body, streamed = MIX[issued % len(MIX)]
                issued += 1
                try:
                    times.append(await request(client, method, path, body, streamed))
                except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
                    errors.append(f"{type(exc).__name__}: {exc}")
                done = len(times) + len(errors)
                if done % 1000 == 0:
                    block = times[-1000:]
                    p50, p99 = percentiles(block)
                    blocks.append({"requests": done, "p50_ms": round(p50, 1), "p99_ms": round(p99, 1),
                                   "errors": len(errors), "rss_mib": sum(workerd_rss_mib(server.proc.pid))})
                    report(blocks[-1])
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    if errors:
        raise Failure(f"{len(errors)} errors, first: {errors[:3]}")
    return blocks


def levels_off(blocks: list, window: int = 4) -> str:
    """Whether the RSS levels off: it grows by less than 5 MiB per 1,000 requests over the last
    `window` readings (the runtime keeps the memory it once needed, so earlier growth stays)."""
    if len(blocks) < window:
        return "too few readings to tell"
    last = [b["rss_mib"] for b in blocks[-window:]]
    growth = (last[-1] - last[0]) / (window - 1)
    verdict = "levels off" if growth < 5 else "keeps growing"
    return (f"{verdict}: {growth:+.1f} MiB per 1,000 requests over the last {window - 1},000 "
            f"({blocks[0]['rss_mib']:.0f} MiB after the first 1,000, {last[-1]:.0f} MiB at the end)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--soak", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        apply_migrations(pathlib.Path(tmp))
        with DevServer(pathlib.Path(tmp), RESULTS / "load.log") as server:
            run(server, args)


def run(server, args) -> None:
    first_200(server, "/v1/models", AUTH)
    print(f"idle: workerd RSS {sum(workerd_rss_mib(server.proc.pid)):.1f} MiB")
    burst_result = asyncio.run(burst(server, args.streams))
    print(f"{args.streams} concurrent streams: {len(burst_result['errors'])} errors, all done in "
          f"{burst_result['wall_s']} s, p50 {burst_result['p50_ms']} ms, p99 {burst_result['p99_ms']} ms, "
          f"RSS {sum(burst_result['rss_mib']):.1f} MiB")
    if burst_result["errors"]:
        raise SystemExit(f"errors: {burst_result['errors'][:3]}")
    print(f"soak: {args.soak} requests, {args.concurrency} in flight, the mix of {len(MIX)} kinds in turn")
    print(f"{'requests':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'RSS MiB':>8}")
    blocks = asyncio.run(soak(server, args.soak, args.concurrency, lambda b: print(
        f"{b['requests']:9} {b['p50_ms']:8.1f} {b['p99_ms']:8.1f} {b['errors']:7} {b['rss_mib']:8.1f}", flush=True)))
    verdict = levels_off(blocks)
    print(f"memory {verdict}")
    (RESULTS / "load.json").write_text(json.dumps({"burst": burst_result, "soak": blocks, "memory": verdict},
                                                  indent=2) + "\n")


if __name__ == "__main__":
    main()
