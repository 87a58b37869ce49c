"""The Vectorize stand-in alone, over its `POST /rpc/<method>` handler: the V2 binding's methods,
shapes, limits and errors, metadata filters, persistence, delayed mutations, and a 10,000-vector scan."""
import math
import random
import time

import httpx
import pytest

from integration.devserver import StandinServer

CONFIG = "vectorize-standin/wrangler.toml"
DIMS = 768
# The stand-in's default indexes plus a number one, so range filters on numbers can be tried.
INDEXES = "store_id:string,file_id:string,chunk:number"


class Index:
    """The binding's methods, called through the stand-in's fetch handler."""

    def __init__(self, url: str):
        self.http = httpx.Client(base_url=url, timeout=120)

    def call(self, method: str, *args):
        response = self.http.post(f"/rpc/{method}", json=list(args))
        if response.status_code != 200:
            raise VectorizeError(response.json()["error"])
        return response.json()

    def __getattr__(self, method: str):
        return lambda *args: self.call(method, *args)


class VectorizeError(Exception):
    pass


def vec(*head: float) -> list:
    return [*head, *[0.0] * (DIMS - len(head))]


def cosine(a: list, b: list) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    state, logs = tmp_path_factory.mktemp("vectorize-state"), tmp_path_factory.mktemp("vectorize-logs")
    with StandinServer(CONFIG, state, logs / "wrangler-dev.log", {"METADATA_INDEXES": INDEXES}) as server:
        yield Index(server.url)


def test_root_names_the_standin(index):
    assert index.http.get("/").text == "vectorize-standin"
    assert index.http.post("/rpc/nope", json=[]).status_code == 404


def test_query_orders_by_exact_cosine(index):
    ns = "cosine"
    vectors = {"near": vec(1, 0.1), "mid": vec(1, 1), "far": vec(0.1, 1), "opposite": vec(-1, 0)}
    result = index.upsert([{"id": f"{ns}-{k}", "values": v, "namespace": ns} for k, v in vectors.items()])
    assert set(result) == {"mutationId"}
    q = vec(1, 0)
    found = index.query(q, {"namespace": ns, "topK": 10})
    assert [m["id"] for m in found["matches"]] == [f"{ns}-{k}" for k in ("near", "mid", "far", "opposite")]
    assert found["count"] == 4
    for match in found["matches"]:
        assert match == {"id": match["id"], "score": pytest.approx(cosine(q, vectors[match["id"][7:]]), abs=1e-6),
                         "namespace": ns}
    assert index.query(q, {"namespace": ns})["count"] == 4  # default topK 5
    assert [m["id"] for m in index.query(q, {"namespace": ns, "topK": 2})["matches"]] == ["cosine-near", "cosine-mid"]


def test_returned_values_and_metadata(index):
    ns = "shapes"
    long_id = "x" * 100
    index.upsert([{"id": "shapes-a", "values": vec(0.1, 0.2, 0.3), "namespace": ns,
                   "metadata": {"store_id": "vs_1", "file_id": long_id, "text": "hello", "chunk": 3}}])
    [match] = index.query(vec(0.1, 0.2, 0.3), {"namespace": ns, "returnValues": True, "returnMetadata": "all"})["matches"]
    assert match["values"][:3] == pytest.approx([0.1, 0.2, 0.3], rel=1e-6)  # stored as float32
    assert len(match["values"]) == DIMS
    assert match["metadata"] == {"store_id": "vs_1", "file_id": long_id, "text": "hello", "chunk": 3}
    assert index.query(vec(0.1), {"namespace": ns, "returnMetadata": True})["matches"][0]["metadata"]["text"] == "hello"
    # "indexed": only indexed properties, strings cut to their first 64 bytes.
    [indexed] = index.query(vec(0.1), {"namespace": ns, "returnMetadata": "indexed"})["matches"]
    assert indexed["metadata"] == {"store_id": "vs_1", "file_id": "x" * 64, "chunk": 3}
    for level in (False, "none"):
        assert "metadata" not in index.query(vec(0.1), {"namespace": ns, "returnMetadata": level})["matches"][0]
    with pytest.raises(VectorizeError, match="Invalid returnMetadata option"):
        index.query(vec(0.1), {"returnMetadata": "some"})


def test_filters(index):
    ns = "filters"
    rows = [("f1", "vs_a", "file_1", 1), ("f2", "vs_a", "file_2", 2), ("f3", "vs_b", "file_3", 3),
            ("f4", "vs_b", "file_4", 4)]
    index.upsert([{"id": i, "values": vec(1, n / 10), "namespace": ns,
                   "metadata": {"store_id": s, "file_id": f, "chunk": n, "other": "x"}} for i, s, f, n in rows])

    def ids(flt):
        return sorted(m["id"] for m in index.query(vec(1), {"namespace": ns, "topK": 100, "filter": flt})["matches"])

    assert ids({"store_id": "vs_a"}) == ["f1", "f2"]
    assert ids({"store_id": {"$eq": "vs_b"}}) == ["f3", "f4"]
    assert ids({"store_id": {"$ne": "vs_b"}}) == ["f1", "f2"]
    assert ids({"file_id": {"$in": ["file_1", "file_4", "nope"]}}) == ["f1", "f4"]
    assert ids({"file_id": {"$nin": ["file_1", "file_4"]}}) == ["f2", "f3"]
    assert ids({"chunk": {"$lt": 3}}) == ["f1", "f2"]
    assert ids({"chunk": {"$lte": 3}}) == ["f1", "f2", "f3"]
    assert ids({"chunk": {"$gt": 1, "$lt": 4}}) == ["f2", "f3"]
    assert ids({"chunk": {"$gte": 4}}) == ["f4"]
    assert ids({"file_id": {"$gte": "file_3"}}) == ["f3", "f4"]  # strings compare as strings
    assert ids({"store_id": "vs_a", "chunk": {"$gt": 1}}) == ["f2"]  # keys are ANDed
    assert ids({"chunk": "1"}) == []  # types must match
    assert ids({"other": "x"}) == []  # no metadata index on "other": as on Vectorize, nothing matches
    # Filtering happens before topK.
    best = index.query(vec(1, 1), {"namespace": ns, "topK": 1, "filter": {"store_id": "vs_a"}})["matches"]
    assert [m["id"] for m in best] == ["f2"]
    for bad in ({}, {"$store": "x"}, {"store_id": {"$regex": "x"}}, {"store_id": {"$in": "x"}},
                {"store_id": ["a"]}):
        with pytest.raises(VectorizeError, match="invalid filter"):
            index.query(vec(1), {"filter": bad})


def test_namespaces(index):
    index.upsert([{"id": "ns-1", "values": vec(1), "namespace": "ns-one"},
                  {"id": "ns-2", "values": vec(1), "namespace": "ns-two"}])
    assert [m["id"] for m in index.query(vec(1), {"namespace": "ns-one"})["matches"]] == ["ns-1"]
    assert index.query(vec(1), {"namespace": "ns-none"}) == {"matches": [], "count": 0}
    everywhere = {m["id"] for m in index.query(vec(1), {"topK": 100})["matches"]}
    assert {"ns-1", "ns-2"} <= everywhere  # no namespace: the whole index


def test_get_delete_insert_and_describe(index):
    ns = "crud"
    index.upsert([{"id": "crud-a", "values": vec(1), "namespace": ns, "metadata": {"store_id": "s"}},
                  {"id": "crud-b", "values": vec(0, 1), "namespace": ns}])
    got = index.getByIds(["crud-b", "missing", "crud-a"])
    assert [v["id"] for v in got] == ["crud-b", "crud-a"]
    assert got[1]["metadata"] == {"store_id": "s"} and got[1]["namespace"] == ns
    assert got[0]["values"] == vec(0, 1)
    # insert skips ids that exist; upsert replaces in full.
    index.insert([{"id": "crud-a", "values": vec(0, 0, 1), "namespace": ns}])
    assert index.getByIds(["crud-a"])[0]["values"] == vec(1)
    index.upsert([{"id": "crud-a", "values": vec(0, 0, 1), "namespace": ns}])
    replaced = index.getByIds(["crud-a"])[0]
    assert replaced["values"] == vec(0, 0, 1) and "metadata" not in replaced
    before = index.describe()["vectorCount"]
    deleted = index.deleteByIds(["crud-a", "crud-b", "missing"])
    info = index.describe()
    assert info == {"vectorCount": before - 2, "dimensions": DIMS, "processedUpToDatetime": info["processedUpToDatetime"],
                    "processedUpToMutation": deleted["mutationId"]}
    assert info["processedUpToDatetime"].endswith("Z")
    assert index.getByIds(["crud-a", "crud-b"]) == []
    assert index.queryById("crud-a", {"namespace": ns}) == {"matches": [], "count": 0}


def test_query_by_id(index):
    ns = "byid"
    index.upsert([{"id": "byid-a", "values": vec(1, 0), "namespace": ns},
                  {"id": "byid-b", "values": vec(1, 1), "namespace": ns}])
    found = index.queryById("byid-a", {"namespace": ns})["matches"]
    assert [m["id"] for m in found] == ["byid-a", "byid-b"]
    assert found[0]["score"] == pytest.approx(1.0)


def test_topk_limits(index):
    assert index.query(vec(1), {"topK": 100})["count"] <= 100
    assert index.query(vec(1), {"topK": 20, "returnValues": True})["count"] <= 20
    for options, limit in (({"topK": 101}, 100), ({"topK": 21, "returnValues": True}, 20),
                           ({"topK": 21, "returnMetadata": "all"}, 20), ({"topK": 21, "returnMetadata": True}, 20)):
        with pytest.raises(VectorizeError, match=rf"\(code = 40025\): .*max top K is {limit}, but got"):
            index.query(vec(1), options)
    assert index.query(vec(1), {"topK": 100, "returnMetadata": "indexed"})["count"] <= 100


def test_validation(index):
    with pytest.raises(VectorizeError, match=r"VECTOR_QUERY_ERROR \(code = 40006\): invalid query vector, "
                                             r"expected 768 dimensions, and got 3 dimensions"):
        index.query([1, 2, 3], {})
    with pytest.raises(VectorizeError, match=r"VECTOR_UPSERT_ERROR \(code = 40012\): invalid vector for "
                                             r'id="short", expected 768 dimensions, and got 2 dimensions'):
        index.upsert([{"id": "short", "values": [1, 2]}])
    with pytest.raises(VectorizeError, match=r"VECTOR_INSERT_ERROR \(code = 40008\): id too long; "
                                             r"max is 64 bytes, got 65 bytes"):
        index.insert([{"id": "é" * 32 + "x", "values": vec(1)}])
    with pytest.raises(VectorizeError, match=r"metadata too large"):
        index.upsert([{"id": "big", "values": vec(1), "metadata": {"text": "x" * 10 * 1024}}])
    with pytest.raises(VectorizeError, match=r"invalid metadata"):
        index.upsert([{"id": "bad", "values": vec(1), "metadata": {"list": [1, 2]}}])
    with pytest.raises(VectorizeError, match=r"too many vectors"):
        index.upsert([{"id": f"n{i}", "values": [0.0] * 3} for i in range(1001)])
    assert index.getByIds(["short", "big", "bad"]) == []  # a rejected batch writes nothing


def test_ten_thousand_vectors(index):
    ns = "bulk"
    rng = random.Random(7)
    rows = [[round(rng.uniform(-1, 1), 4) for _ in range(DIMS)] for _ in range(10_000)]
    started = time.perf_counter()
    for start in range(0, len(rows), 1000):
        index.upsert([{"id": f"bulk-{start + i}", "values": v, "namespace": ns,
                       "metadata": {"store_id": f"vs_{(start + i) % 10}"}} for i, v in enumerate(rows[start:start + 1000])])
    upserted = time.perf_counter() - started
    query = rows[1234]
    timings = {}
    for name, options in (("topK 5", {"namespace": ns}),
                          ("topK 100 + filter", {"namespace": ns, "topK": 100, "filter": {"store_id": "vs_4"}}),
                          ("topK 20 + values + metadata", {"namespace": ns, "topK": 20, "returnValues": True,
                                                          "returnMetadata": "all"})):
        started = time.perf_counter()
        result = index.query(query, options)
        timings[name] = time.perf_counter() - started
        assert result["matches"][0]["id"] == "bulk-1234"
        assert result["matches"][0]["score"] == pytest.approx(1.0)
    print(f"\nvectorize-standin, 10,000 x {DIMS}: upsert {upserted:.1f} s in batches of 1,000; query "
          + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in timings.items())
          + " (HTTP round trip included)")


def test_state_persists_and_writes_can_be_delayed(tmp_path):
    """A restart keeps the index (Durable Object storage under --persist-to); with MUTATION_DELAY_MS
    a write returns its mutationId at once and becomes visible later, as on Vectorize."""
    with StandinServer(CONFIG, tmp_path / "state", tmp_path / "first.log") as server:
        Index(server.url).upsert([{"id": "kept", "values": vec(1)}])
    with StandinServer(CONFIG, tmp_path / "state", tmp_path / "second.log", {"MUTATION_DELAY_MS": 1500}) as server:
        index = Index(server.url)
        assert [v["id"] for v in index.getByIds(["kept"])] == ["kept"]
        before = index.describe()
        mutation = index.upsert([{"id": "later", "values": vec(0, 1)}])["mutationId"]
        assert index.getByIds(["later"]) == []
        assert index.describe()["processedUpToMutation"] == before["processedUpToMutation"] != mutation
        time.sleep(1.7)
        assert [v["id"] for v in index.getByIds(["later"])] == ["later"]
        assert index.describe() | {"processedUpToDatetime": None} == {
            "vectorCount": 2, "dimensions": DIMS, "processedUpToDatetime": None, "processedUpToMutation": mutation}
