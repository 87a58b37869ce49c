"""What the Python worker adds on top of Workers AI: latency, cold start and memory, measured locally.

Three `wrangler dev` servers run side by side, each in its own process group: the AI stand-in alone
(JS only: the "direct" path and the baseline memory), the full worker with the stand-in bound as `AI`
(DevServer from tests/integration) and the reference, a minimal Python Worker that only forwards a
chat request (bench/reference/), with the same stand-in, local D1/R2/Queue bindings and [assets]: the
floor of the platform. Cold start and idle memory come first, from launches of the worker and the
forwarder (with and without its assets) in turns; the worker and the forwarder are then started again
with V8 compiling wasm with its baseline compiler only, to split their idle memory gap. Run:
.venv/bin/python bench/bench.py [--requests 200] [--launches 5]. Prints a table and writes
bench/results/latest.json. Figures only: missed targets do not fail it.
"""
import argparse
import contextlib
import json
import os
import pathlib
import signal
import statistics
import sys
import tempfile
import time

import httpx

from servers import (CHAT_MODEL, HELLO, KEY, RESULTS, ROOT, BenchWorker, apply_migrations, reference_server,
                     standin_server, workerd_rss_mib)

STREAMED = [{"role": "user", "content": "[[words:20]] [[delay:10]]"}]  # 20 chunks, 10 ms apart
TEXTS = [f"benchmark sentence number {i} about embeddings" for i in range(16)]
EMBED_MODEL = "@cf/baai/bge-base-en-v1.5"  # what text-embedding-3-small maps to

# name: (server, route, JSON body, streamed)
CALLS = {
    "chat direct": ("standin", "/run", {"model": CHAT_MODEL, "inputs": {"messages": HELLO}}, False),
    "chat worker": ("worker", "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": HELLO}, False),
    "chat reference": ("reference", "/v1/chat/completions",
                       {"model": "gpt-4o-mini", "messages": HELLO}, False),
    "stream direct": ("standin", "/run",
                      {"model": CHAT_MODEL, "inputs": {"messages": STREAMED, "stream": True}}, True),
    "stream worker": ("worker", "/v1/chat/completions",
                      {"model": "gpt-4o-mini", "messages": STREAMED, "stream": True}, True),
    "stream reference": ("reference", "/v1/chat/completions",
                         {"model": "gpt-4o-mini", "messages": STREAMED, "stream": True}, True),
    "embed direct": ("standin", "/run", {"model": EMBED_MODEL, "inputs": {"text": TEXTS}}, False),
    "embed worker": ("worker", "/v1/embeddings", {"model": "text-embedding-3-small", "input": TEXTS}, False),
}
# The paths the minimal forwarder also serves: the memory gap is read after the same warm-up on both
# sides (RSS grows ~0.5 MiB per request in both, whatever the path: bench/README.md).
SHARED = {name: call for name, call in CALLS.items()
          if f"{name.split()[0]} reference" in CALLS}

# Printed rows: (metric, label, the direct metric it is compared with, target from the issue).
ROWS = [
    ("chat direct", "(a) chat, stand-in POST /run", None, ""),
    ("chat worker", "(b) chat, worker /v1/chat/completions", "chat direct", "<= 1.8x direct"),
    ("chat reference", "(e) chat, minimal Python forwarder", "chat direct", ""),
    ("stream direct first byte", "(c) stream, stand-in: first byte", None, ""),
    ("stream worker first byte", "(c) stream, worker: first byte", "stream direct first byte", ""),
    ("stream reference first byte", "(f) stream, minimal forwarder: first byte", "stream direct first byte", ""),
    ("stream direct last byte", "(c) stream, stand-in: last byte", None, ""),
    ("stream worker last byte", "(c) stream, worker: last byte", "stream direct last byte", "<= +10 ms"),
    ("stream reference last byte", "(f) stream, minimal forwarder: last byte", "stream direct last byte", ""),
    ("embed direct", "(d) 16 embeddings, stand-in POST /run", None, ""),
    ("embed worker", "(d) 16 embeddings, worker /v1/embeddings", "embed direct", ""),
]
MEMORY_TARGET_MIB = 120
REFERENCE_MEMORY_TARGET_MIB = 25  # idle, above the minimal forwarder
COLD_START_TARGET_S = 0.5  # above the minimal forwarder's
V8_FLAGS_VAR = "MINIFLARE_WORKERD_V8_FLAGS"
LIFTOFF_ONLY = "--liftoff-only"  # no tier-up of hot wasm functions to V8's optimising compiler
AUTH = {"authorization": f"Bearer {KEY}"}
# The servers launched in turns for cold start and idle memory: the worker's first 200 is GET
# /v1/models with the key, the forwarders' a chat (all they serve).
LAUNCHED = [("worker", "worker (GET /v1/models)"), ("reference", "minimal forwarder (chat)"),
            ("reference-no-assets", "forwarder without [assets] (chat)")]


def timed(client: httpx.Client, route: str, body: dict, streamed: bool) -> dict:
    """One request; milliseconds to the whole response, or to its first and last body byte."""
    start = time.perf_counter()
    if not streamed:
        client.post(route, json=body).raise_for_status()
        return {"": (time.perf_counter() - start) * 1000}
    first, data = None, bytearray()
    with client.stream("POST", route, json=body) as response:
        response.raise_for_status()
        for chunk in response.iter_raw():
            first = first or time.perf_counter()
            data += chunk
    last = time.perf_counter()
    if not data.rstrip().endswith(b"data: [DONE]"):
        raise RuntimeError(f"{route}: stream ended without [DONE]: {bytes(data[-200:])!r}")
    return {" first byte": (first - start) * 1000, " last byte": (last - start) * 1000}


def run_round(clients: dict, samples: dict, calls: dict = CALLS) -> None:
    # Paths take turns, one request at a time, so drift (background usage writes, CPU noise)
    # hits a worker path and its direct counterpart alike.
    for name, (server, route, body, streamed) in calls.items():
        for suffix, ms in timed(clients[server], route, body, streamed).items():
            samples.setdefault(name + suffix, []).append(ms)


def memory(servers: dict) -> dict:
    time.sleep(2)  # let queued usage writes (batched for up to 1 s) settle
    return {name: workerd_rss_mib(server.proc.pid) for name, server in servers.items()}


def summarise(samples: dict) -> dict:
    stats = {name: {"median_ms": statistics.median(values),
                    "p90_ms": statistics.quantiles(values, n=10)[-1]} for name, values in samples.items()}
    for metric, _, direct, target in ROWS:
        if direct:
            base, own = stats[direct]["median_ms"], stats[metric]["median_ms"]
            stats[metric].update(ratio=own / base, added_ms=own - base, target=target)
    return stats


def report(args, cold: dict, stats: dict, mem: dict) -> None:
    print(f"\nworkers-openai bench: {args.requests} sequential requests per path after {args.warmup} "
          f"warm-up, keep-alive, {os.cpu_count()} CPUs\n")
    print(f"{'path':44} {'median ms':>9} {'p90 ms':>8} {'x direct':>8} {'+ ms':>7}  target (issue)")
    for metric, label, direct, target in ROWS:
        row = stats[metric]
        versus = f"{row['ratio']:7.2f}x {row['added_ms']:+7.2f}" if direct else f"{'':8} {'':7}"
        print(f"{label:44} {row['median_ms']:9.2f} {row['p90_ms']:8.2f} {versus}  {target}")

    launches = cold["launches"]
    print(f"\ncold start, median of {launches} launches each, one server at a time, in turns: launch -> first 200")
    for name, label in LAUNCHED:
        times = ", ".join(f"{s:.2f}" for s in cold[name])
        print(f"  {label:48} {statistics.median(cold[name]):5.2f} s  [{times}]")
    print(f"  {'stand-in alone (GET /)':48} {cold['standin']:5.2f} s")
    print(f"cold start, worker above the minimal forwarder: {cold['above_reference_s']:+.2f} s"
          f"  target <= +{COLD_START_TARGET_S} s (issue 13)  [without its assets: "
          f"{cold['above_reference-no-assets_s']:+.2f} s]")
    print(f"the worker's first chat, right after its first 200: {statistics.median(cold['first_chat_ms']):.0f} ms"
          f" (median; the forwarder's first 200 is a chat)")

    print(f"\n{'memory: RSS of the workerd processes, MiB':50} {'idle':>9} {'after':>8}")
    print(f"{'stand-ins alone ' + ' + '.join(map(str, mem['standin'])):50} {sum(mem['standin']):9.1f}")
    for name, label in LAUNCHED:
        after = f"{sum(mem['after'][name]):8.1f}" if name in mem["after"] else ""
        print(f"{label + ', median of ' + str(launches):50} {mem['idle'][name]:9.1f} {after}")
    print(f"{'memory above the stand-ins alone':50} {mem['above_idle_mib']:9.1f} "
          f"{mem['above_after_mib']:8.1f}  idle <= {MEMORY_TARGET_MIB} MiB (issue 3)")
    print(f"{'worker above the minimal forwarder (same bindings)':50} "
          f"{mem['above_reference_idle_mib']:9.1f} {mem['above_reference_after_mib']:8.1f}"
          f"  idle <= {REFERENCE_MEMORY_TARGET_MIB} MiB (issue 13)")
    print(f"{'  the same, forwarder without its assets':50} {mem['above_reference-no-assets_idle_mib']:9.1f}")
    baseline = mem["above_reference_idle_liftoff_only_mib"]
    print(f"{'  of which V8 optimised code for hot Python (wasm)':50} "
          f"{mem['above_reference_idle_mib'] - baseline:9.1f}  (one launch each)")
    launch = mem["above_reference_launch_liftoff_only_mib"]
    print(f"{'  the rest (same pair, ' + LIFTOFF_ONLY + ')':50} {baseline:9.1f}  at launch {launch:.1f}, "
          f"grown in the warm-up {baseline - launch:.1f} (see bench/README.md)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="measured requests per path")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured requests per path first")
    parser.add_argument("--launches", type=int, default=5, help="launches of each server for cold start and idle memory")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind, so the servers are stopped
    RESULTS.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        state = pathlib.Path(tmp)
        standin = stack.enter_context(standin_server(state / "standin"))
        standin_client = stack.enter_context(httpx.Client(base_url=standin.url, timeout=30))
        cold, mem = launch_in_turns(state, args)
        cold["standin"] = standin.ready_after
        mem["standin"] = workerd_rss_mib(standin.proc.pid)
        with contextlib.ExitStack() as pair:
            servers, clients = start_pair(pair, state / "pair", "")
            servers["standin"], clients["standin"] = standin, standin_client
            for _ in range(args.warmup):
                run_round(clients, {})
            samples = {}
            for _ in range(args.requests):
                run_round(clients, samples)
            mem["after"] = memory(servers)
        # The same pair again, V8 compiling wasm with its baseline compiler only: what is left of
        # the gap is not the optimising compiler's (see bench/README.md, start-up and memory).
        with contextlib.ExitStack() as pair:
            servers, clients = start_pair(pair, state / "liftoff", LIFTOFF_ONLY)
            clients["standin"] = standin_client
            mem["launch_liftoff_only"] = memory(servers)
            for _ in range(args.warmup):
                run_round(clients, {}, SHARED)
            mem["idle_liftoff_only"] = memory(servers)

    mem["above_idle_mib"] = round(mem["idle"]["worker"] - sum(mem["standin"]), 1)
    mem["above_after_mib"] = round(sum(mem["after"]["worker"]) - sum(mem["after"]["standin"]), 1)
    for name in ("reference", "reference-no-assets"):
        mem[f"above_{name}_idle_mib"] = round(mem["idle"]["worker"] - mem["idle"][name], 1)
        cold[f"above_{name}_s"] = round(statistics.median(cold["worker"]) - statistics.median(cold[name]), 2)
    for phase in ("after", "launch_liftoff_only", "idle_liftoff_only"):
        mem[f"above_reference_{phase}_mib"] = round(sum(mem[phase]["worker"]) - sum(mem[phase]["reference"]), 1)
    stats = summarise(samples)
    report(args, cold, stats, mem)
    results = {"requests": args.requests, "warmup": args.warmup, "launches": args.launches, "cpus": os.cpu_count(),
               "cold_start_s": cold, "latency": stats, "memory_workerd_rss_mib": mem,
               "memory_target_mib": MEMORY_TARGET_MIB, "reference_memory_target_mib": REFERENCE_MEMORY_TARGET_MIB,
               "cold_start_target_s": COLD_START_TARGET_S,
               "samples_ms": {name: [round(v, 3) for v in values] for name, values in samples.items()}}
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten: {(RESULTS / 'latest.json').relative_to(ROOT)}")


def launch_in_turns(state: pathlib.Path, args) -> tuple:
    """Cold start and idle memory of the worker and the forwarder (with and without its assets):
    `args.launches` launches of each, one server running at a time (besides the stand-ins), the
    order turning each round. Idle: RSS after the warm-up of the paths both serve. Per server, the
    cold starts (s) and the median idle RSS (MiB); and the worker's first chat (ms)."""
    cold, idle = {"launches": args.launches, "first_chat_ms": []}, {}
    names = [name for name, _ in LAUNCHED]
    for launch in range(args.launches):
        for name in names[launch % 3:] + names[:launch % 3]:
            with contextlib.ExitStack() as stack:
                server = stack.enter_context(launched(name, state / f"{name}-{launch}", ""))
                cold.setdefault(name, []).append(round(server.ready_after, 3))
                client = stack.enter_context(httpx.Client(base_url=server.url, headers=AUTH, timeout=30))
                side = "worker" if name == "worker" else "reference"
                calls = {call: spec for call, spec in SHARED.items() if spec[0] == side}
                samples = {}
                for _ in range(args.warmup):
                    run_round({side: client}, samples, calls)
                if side == "worker":
                    cold["first_chat_ms"].append(round(samples["chat worker"][0], 1))
                idle.setdefault(name, []).append(sum(memory({name: server})[name]))
    return cold, {"idle": {name: round(statistics.median(sizes), 1) for name, sizes in idle.items()},
                  "idle_launches": idle}


def launched(name: str, state: pathlib.Path, v8_flags: str):
    """One server, started with `v8_flags` for its workerd (miniflare reads MINIFLARE_WORKERD_V8_FLAGS)."""
    os.environ[V8_FLAGS_VAR] = v8_flags
    if name == "worker":
        apply_migrations(state)
        return BenchWorker(state, RESULTS / f"worker{v8_flags.replace('--', '-')}.log")
    return reference_server(state, assets=name == "reference")


def start_pair(stack: contextlib.ExitStack, state: pathlib.Path, v8_flags: str) -> tuple:
    """The worker and the minimal forwarder, started one after the other, and their clients."""
    servers = {name: stack.enter_context(launched(name, state / name, v8_flags)) for name in ("worker", "reference")}
    clients = {name: stack.enter_context(httpx.Client(base_url=server.url, headers=AUTH, timeout=30))
               for name, server in servers.items()}
    return servers, clients


if __name__ == "__main__":
    main()
