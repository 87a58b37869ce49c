"""Vector store ingestion throughput and search latency over 10,000 chunks, through the worker.

Run: .venv/bin/python bench/vector_stores.py [--chunks 10000] [--files 20] [--searches 60]. Starts the
worker with the AI and Vectorize stand-ins under `wrangler dev` (fresh state), uploads --files text
files of generated English-like prose (each its own vocabulary, so a query drawn from one file's words
should find that file), attaches them in one file batch with a static chunking strategy of 100 tokens
and no overlap (so every file yields exactly --chunks / --files chunks), and times the Queue ingestion
from the attach to the batch `completed`, and the consumer's own time from wrangler's log.
Then sequential searches (max_num_results 10) after a warm-up, unfiltered and with attribute filters.
Prints a table and writes bench/results/vector_stores.json. Figures only: nothing here fails on a target.
"""
import argparse
import itertools
import json
import math
import os
import pathlib
import random
import re
import signal
import statistics
import sys
import tempfile
import time

import openai

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))
from api.vector_stores import chunking  # noqa: E402 - the worker's own chunker, to check the chunk count up front
from integration.devserver import DevServer, apply_migrations  # noqa: E402

RESULTS = ROOT / "bench" / "results"
LOG = RESULTS / "vector_stores.log"
QUEUE_LINE = re.compile(r"QUEUE workers-openai-jobs \d+/(\d+) \((\d+)ms\)")  # wrangler's: acked/delivered (ms)
KEY = "sk-local-dev"
CHUNK_TOKENS = 100  # the smallest static max_chunk_size_tokens OpenAI (and the worker) accept
STRATEGY = {"type": "static", "static": {"max_chunk_size_tokens": CHUNK_TOKENS, "chunk_overlap_tokens": 0}}
MAX_FILE_BYTES = 2 * 1000 * 1000
VOCABULARY = 400  # topic words per file, none shared between files
POLL_S = 0.25  # batch polls; the worker holds them while its consumer runs, so the end is seen at once
INGEST_TIMEOUT_S = 900
FUNCTION_WORDS = ("the of and to a in is that for it as with was on by be at from this which are or an "
                  "not but have were has its their these between into more when also than other such "
                  "most some each only may after over through during while both under".split())
ONSETS = "b c d f g h j k l m n p r s t v w z br cl dr fl gr pl st tr ch sh th".split()
VOWELS = "a e i o u a e i o u ai ea ou".split()
CODAS = ["", "", "", "n", "r", "s", "l", "m", "nd", "st"]


def pseudo_words(rng: random.Random, count: int, taken: set) -> list:
    """`count` pronounceable made-up words of 1-3 syllables, none in `taken` (which they join)."""
    words = []
    while len(words) < count:
        word = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(rng.choice((1, 2, 2, 2, 3))))
        word += rng.choice(CODAS)
        if word not in taken and word not in FUNCTION_WORDS:
            taken.add(word)
            words.append(word)
    return words


def prose(rng: random.Random, vocabulary: list, cumulative: list, tokens: int) -> str:
    """Sentences of 8-18 words, about half from the file's vocabulary (Zipf-like frequencies) and half
    function words, with commas and full stops: exactly `tokens` tokens as the worker counts them
    (api.tokens: one per word or punctuation mark)."""
    sentences, used = [], 0
    while used < tokens:
        words = [rng.choices(vocabulary, cum_weights=cumulative)[0] if rng.random() < 0.55
                 else rng.choice(FUNCTION_WORDS) for _ in range(rng.randint(8, 18))]
        if len(words) > 10 and rng.random() < 0.4:
            words[rng.randint(3, len(words) - 4)] += ","
        words[0] = words[0].capitalize()
        sentence = " ".join(words) + "."
        count = len(words) + sentence.count(",") + 1
        if used + count > tokens:  # the last sentence: cut to fit, a full stop still last
            left = tokens - used  # words and a full stop; a lone word when one token is left
            sentence = " ".join(sentence.replace(",", "").rstrip(".").split()[:max(left - 1, 1)]) + "." * (left > 1)
            count = tokens - used
        sentences.append(sentence)
        used += count
    return " ".join(sentences) + "\n"


def corpus(files: int, chunks_per_file: int, seed: int = 2024) -> list:
    """[{name, text, vocabulary, weights, attributes}] for `files` files of `chunks_per_file` chunks each."""
    rng, taken, out = random.Random(seed), set(), []
    weights = [1 / (rank + 1) ** 0.8 for rank in range(VOCABULARY)]
    cumulative = list(itertools.accumulate(weights))
    for i in range(files):
        vocabulary = pseudo_words(rng, VOCABULARY, taken)
        text = prose(rng, vocabulary, cumulative, chunks_per_file * CHUNK_TOKENS)
        out.append({"name": f"topic-{i:02d}-{vocabulary[0]}.txt", "text": text, "vocabulary": vocabulary,
                    "weights": weights,
                    "attributes": {"topic": f"topic-{i:02d}", "group": "even" if i % 2 == 0 else "odd", "part": i}})
    return out


def query(rng: random.Random, doc: dict, words: int = 5) -> str:
    """Words of one file's vocabulary, skipping its most frequent ten (as a user would ask)."""
    return " ".join(rng.choices(doc["vocabulary"][10:], doc["weights"][10:], k=words))


def percentiles(values: list) -> dict:
    return {"n": len(values), "median_ms": statistics.median(values),
            "p90_ms": statistics.quantiles(values, n=10)[-1], "min_ms": min(values), "max_ms": max(values)}


def consumer_runs(log: pathlib.Path, offset: int, messages: int, timeout: float = 5.0) -> list:
    """[(messages, ms)] of the Queue consumer calls wrangler logged after byte `offset`, once they
    cover `messages` messages (the line follows the call's end by a moment)."""
    deadline = time.monotonic() + timeout
    while True:
        with open(log, "rb") as handle:
            handle.seek(offset)
            runs = [(int(m[1]), int(m[2])) for m in QUEUE_LINE.finditer(handle.read().decode(errors="replace"))]
        if sum(n for n, _ in runs) >= messages or time.monotonic() > deadline:
            return runs
        time.sleep(0.1)


def ingest(client: openai.OpenAI, store_id: str, docs: list, tmp: pathlib.Path) -> dict:
    """Uploads the files, attaches them in one batch and polls it until done: timings."""
    started = time.perf_counter()
    for doc in docs:
        path = tmp / doc["name"]
        path.write_text(doc["text"])
        with open(path, "rb") as handle:
            doc["file_id"] = client.files.create(file=handle, purpose="assistants").id
    upload_s = time.perf_counter() - started

    offset = LOG.stat().st_size
    attached = time.perf_counter()
    batch = client.vector_stores.file_batches.create(
        vector_store_id=store_id, chunking_strategy=STRATEGY,
        files=[{"file_id": d["file_id"], "attributes": d["attributes"]} for d in docs])
    attach_ms = (time.perf_counter() - attached) * 1000
    while batch.status == "in_progress":
        time.sleep(POLL_S)
        # Held by the worker while its consumer runs: answered right after the last file is written.
        batch = client.vector_stores.file_batches.retrieve(batch_id=batch.id, vector_store_id=store_id)
        if time.perf_counter() - attached > INGEST_TIMEOUT_S:
            raise RuntimeError(f"ingestion not done after {INGEST_TIMEOUT_S} s: {batch.file_counts}")
    ingest_s = time.perf_counter() - attached
    if batch.file_counts.completed != len(docs):
        raise RuntimeError(f"batch ended {batch.status}: {batch.file_counts}")
    runs = consumer_runs(LOG, offset, len(docs))
    return {"upload_s": upload_s, "attach_request_ms": attach_ms, "ingest_s": ingest_s,
            "consumer_calls": [{"messages": n, "ms": ms} for n, ms in runs],
            "consumer_s": sum(ms for _, ms in runs) / 1000}


def timed_search(client: openai.OpenAI, store_id: str, text: str, filters: dict = None) -> tuple:
    extra = {} if filters is None else {"filters": filters}
    start = time.perf_counter()
    found = list(client.vector_stores.search(vector_store_id=store_id, query=text, max_num_results=10, **extra))
    return (time.perf_counter() - start) * 1000, found


def searches(client: openai.OpenAI, store_id: str, docs: list, count: int, warmup: int) -> dict:
    """Sequential searches, each for words of one file (round robin): latency, and whether that file
    came first and how many of the results are its chunks. Filtered runs: count // 5 (at least 10)."""
    rng, by_id = random.Random(7), {d["file_id"]: d for d in docs}
    for i in range(warmup):
        timed_search(client, store_id, query(rng, docs[i % len(docs)]))
    kinds = [("unfiltered", None, count),
             ("filter eq topic (1 file)", "topic", max(count // 5, 10)),
             ("filter eq group (half the files)", "group", max(count // 5, 10))]
    out = {}
    for name, key, runs in kinds:
        latencies, first, own = [], 0, []
        for i in range(runs):
            doc = docs[i % len(docs)]
            filters = key and {"type": "eq", "key": key, "value": doc["attributes"][key]}
            ms, found = timed_search(client, store_id, query(rng, doc), filters)
            if key and any(by_id[r.file_id]["attributes"][key] != filters["value"] for r in found):
                raise RuntimeError(f"{name}: a result outside the filter")
            latencies.append(ms)
            first += bool(found) and found[0].file_id == doc["file_id"]
            own.append(sum(r.file_id == doc["file_id"] for r in found) / max(len(found), 1))
        out[name] = {**percentiles(latencies), "top1_right_file": first / runs,
                     "top10_share_right_file": statistics.mean(own)}
    return out


def report(docs: list, chunks: int, size: int, timing: dict, search: dict) -> None:
    calls = timing["consumer_calls"]
    print(f"\nworkers-openai vector stores: {len(docs)} files, {size / 1e6:.2f} MB of text, {chunks} chunks "
          f"(static {CHUNK_TOKENS} tokens, overlap 0), {os.cpu_count()} CPUs\n")
    print(f"{'upload of the files (POST /v1/files, sequential)':52} {timing['upload_s']:8.2f} s")
    print(f"{'file batch create request':52} {timing['attach_request_ms']:8.1f} ms")
    print(f"{'ingestion, attach -> batch completed':52} {timing['ingest_s']:8.2f} s   "
          f"{chunks / timing['ingest_s']:7.0f} chunks/s  {size / 1e6 / timing['ingest_s']:.2f} MB/s")
    print(f"{'  of which Queue consumer calls (wrangler log)':52} {timing['consumer_s']:8.2f} s   "
          f"{chunks / timing['consumer_s']:7.0f} chunks/s  "
          f"({len(calls)} call(s): {', '.join(str(c['messages']) + ' files' for c in calls)})")
    print(f"{'  per file (' + str(chunks // len(docs)) + ' chunks; one after another)':52} "
          f"{timing['consumer_s'] / len(docs) * 1000:8.0f} ms (mean)")
    print(f"\n{'search, ' + str(chunks) + ' chunks, top 10':40} {'n':>4} {'median ms':>9} "
          f"{'p90 ms':>8} {'max ms':>8} {'top-1 ok':>8} {'top-10 own':>10}")
    for name, row in search.items():
        print(f"{name:40} {row['n']:4d} {row['median_ms']:9.1f} {row['p90_ms']:8.1f} {row['max_ms']:8.1f} "
              f"{row['top1_right_file']:8.0%} {row['top10_share_right_file']:10.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10_000, help="chunks in total")
    parser.add_argument("--files", type=int, default=20, help="files they are spread over")
    parser.add_argument("--searches", type=int, default=60, help="measured unfiltered searches")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured searches first")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind, so the server is stopped
    RESULTS.mkdir(parents=True, exist_ok=True)

    docs = corpus(args.files, math.ceil(args.chunks / args.files))
    chunks = sum(len(chunking.chunk(d["text"], CHUNK_TOKENS, 0)) for d in docs)
    size = sum(len(d["text"].encode()) for d in docs)
    if max(len(d["text"].encode()) for d in docs) > MAX_FILE_BYTES:
        raise SystemExit(f"a file is over {MAX_FILE_BYTES} bytes: use more --files")
    print(f"{len(docs)} files, {size / 1e6:.2f} MB, {chunks} chunks; starting the worker", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        apply_migrations(tmp / "state")
        with DevServer(tmp / "state", LOG) as server, openai.OpenAI(
                base_url=server.url + "/v1", api_key=KEY, timeout=120, max_retries=0) as client:
            # Warm-up: the first ingestion and search load code paths; this store is deleted again.
            warm = client.vector_stores.create(name="warm-up")
            with open(tmp / "warm.txt", "wb") as handle:
                handle.write(b"A short warm-up file about nothing in particular.")
            with open(tmp / "warm.txt", "rb") as handle:
                client.vector_stores.files.upload_and_poll(vector_store_id=warm.id, file=handle,
                                                           poll_interval_ms=200)
            client.vector_stores.search(vector_store_id=warm.id, query="warm-up")
            client.vector_stores.delete(warm.id)

            store = client.vector_stores.create(name="bench")
            print(f"uploading and ingesting (server log: {LOG.relative_to(ROOT)})", flush=True)
            timing = ingest(client, store.id, docs, tmp)
            print("searching", flush=True)
            search = searches(client, store.id, docs, args.searches, args.warmup)

    report(docs, chunks, size, timing, search)
    results = {"files": len(docs), "chunks": chunks, "text_bytes": size, "chunking_strategy": STRATEGY,
               "cpus": os.cpu_count(), "poll_interval_s": POLL_S,
               "ingestion": {**{k: round(v, 3) if isinstance(v, float) else v for k, v in timing.items()},
                             "chunks_per_s": round(chunks / timing["ingest_s"], 1),
                             "consumer_chunks_per_s": round(chunks / timing["consumer_s"], 1),
                             "per_file_ms": round(timing["consumer_s"] / len(docs) * 1000, 1)},
               "search": {"warmup": args.warmup, "max_num_results": 10,
                          **{name: {k: round(v, 3) for k, v in row.items()} for name, row in search.items()}}}
    (RESULTS / "vector_stores.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten: {(RESULTS / 'vector_stores.json').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
