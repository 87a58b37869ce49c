"""api.resources.vector_stores and vector_store_files: CRUD, pagination, ownership, file batches,
search (ranking, filters, options) and the cascades of deletes. Ingestion runs via the queued jobs."""
import pytest

from api.vector_stores import search
from openai_spec import check
from unit.stores_support import (OTHER, chunk_rows, get, ingest_all, post, second_key_and_embedder, store,
                                 upload)
from unit.support import NOW, call, error

assert second_key_and_embedder  # the autouse fixture
COUNTS = {"in_progress": 0, "completed": 0, "failed": 0, "cancelled": 0, "total": 0}
CAT = b"The cat sat on the mat and purred at the cat flap."
ROCKET = b"Rocket engines burn liquid oxygen and kerosene to reach orbit."
SOUP = b"Tomato soup recipe: simmer tomatoes, garlic and basil."


def missing_store(vs):
    return error(f"No such vector store: {vs}", param="vector_store_id")


def ready_store(deps, files, **attrs_by_name):
    """A store with the given {filename: bytes} ingested; attributes per filename."""
    vs = store(deps, name="docs")["id"]
    ids = {}
    for name, data in files.items():
        ids[name] = upload(deps, data, name)
        body = {"file_id": ids[name], **({"attributes": attrs_by_name[name]} if name in attrs_by_name else {})}
        assert post(deps, f"/v1/vector_stores/{vs}/files", body).status == 200
    assert set(ingest_all(deps).values()) == {"ack"}
    return vs, ids


def find(deps, vs, query, **body):
    response = post(deps, f"/v1/vector_stores/{vs}/search", {"query": query, **body})
    assert response.status == 200, response.body
    return response.body


# --- stores ------------------------------------------------------------------------------------------

def test_create_answers_a_vector_store(deps):
    body = store(deps, name="docs", metadata={"team": "core"},
                 expires_after={"anchor": "last_active_at", "days": 7})
    assert body == {"id": body["id"], "object": "vector_store", "created_at": NOW, "name": "docs", "usage_bytes": 0,
                    "file_counts": COUNTS, "status": "completed",
                    "expires_after": {"anchor": "last_active_at", "days": 7}, "expires_at": NOW + 7 * 86400,
                    "last_active_at": NOW, "metadata": {"team": "core"}}
    check("VectorStoreObject", body)


def test_create_with_file_ids_attaches_them(deps):
    file_id = upload(deps, CAT)
    body = store(deps, file_ids=[file_id], chunking_strategy={
        "type": "static", "static": {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 100}})
    assert (body["status"], body["file_counts"]) == ("in_progress", {**COUNTS, "in_progress": 1, "total": 1})
    ingest_all(deps)
    listed = get(deps, f"/v1/vector_stores/{body['id']}/files").body["data"]
    assert [(f["id"], f["status"], f["chunking_strategy"]["static"]["max_chunk_size_tokens"]) for f in listed] == [
        (file_id, "completed", 200)]
    assert get(deps, f"/v1/vector_stores/{body['id']}").body["status"] == "completed"


@pytest.mark.parametrize("body, param", [
    ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
    ({"metadata": {"k": "v" * 513}}, "metadata.k"),
    ({"expires_after": {"anchor": "created_at", "days": 1}}, "expires_after.anchor"),
    ({"expires_after": {"anchor": "last_active_at", "days": 366}}, "expires_after.days"),
    ({"chunking_strategy": {"type": "static", "static": {"max_chunk_size_tokens": 99, "chunk_overlap_tokens": 0}}},
     "chunking_strategy.static.max_chunk_size_tokens"),
    ({"chunking_strategy": {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 51}}},
     "chunking_strategy.static"),
    ({"chunking_strategy": {"type": "static"}}, "chunking_strategy"),
    ({"file_ids": ["file-nope"]}, "file_id"),
])
def test_invalid_creates_are_rejected(deps, body, param):
    response = post(deps, "/v1/vector_stores", body)
    assert response.status in (400, 404) and response.body["error"]["param"] == param, response.body


def test_list_pages_both_ways_and_only_the_owners(deps):
    ids = [store(deps, name=f"s{i}")["id"] for i in range(5)]
    store(deps, headers=OTHER)
    first = get(deps, "/v1/vector_stores", limit=2).body
    assert ([s["id"] for s in first["data"]], first["has_more"]) == (ids[::-1][:2], True)
    second = get(deps, "/v1/vector_stores", limit=2, after=first["last_id"]).body
    assert [s["id"] for s in second["data"]] == ids[::-1][2:4]
    back = get(deps, "/v1/vector_stores", limit=2, before=second["first_id"]).body
    assert [s["id"] for s in back["data"]] == ids[::-1][:2]
    everything = get(deps, "/v1/vector_stores", order="asc").body
    assert ([s["id"] for s in everything["data"]], everything["has_more"]) == (ids, False)
    assert get(deps, "/v1/vector_stores", after="vs_nope").status == 400


def test_modify_changes_what_is_given(deps):
    vs = store(deps, name="a", metadata={"x": "1"}, expires_after={"anchor": "last_active_at", "days": 1})["id"]
    body = post(deps, f"/v1/vector_stores/{vs}", {"name": "b"}).body
    assert (body["name"], body["metadata"], body["expires_at"]) == ("b", {"x": "1"}, NOW + 86400)
    body = post(deps, f"/v1/vector_stores/{vs}", {"metadata": {"y": "2"}, "expires_after": None}).body
    assert (body["name"], body["metadata"], body.get("expires_after"), body["expires_at"]) == ("b", {"y": "2"}, None, None)


def test_an_expired_store_says_so_and_refuses_search(deps):
    vs = store(deps, expires_after={"anchor": "last_active_at", "days": 1})["id"]
    deps.now.now += 86400
    assert get(deps, f"/v1/vector_stores/{vs}").body["status"] == "expired"
    assert post(deps, f"/v1/vector_stores/{vs}/search", {"query": "x"}).status == 400


def test_another_key_gets_404_everywhere(deps):
    vs, ids = ready_store(deps, {"cat.txt": CAT})
    file_id = ids["cat.txt"]
    batch = post(deps, f"/v1/vector_stores/{vs}/file_batches", {"file_ids": [file_id]}).body["id"]
    for method, path, body in [
            ("GET", f"/v1/vector_stores/{vs}", None), ("POST", f"/v1/vector_stores/{vs}", {"name": "x"}),
            ("DELETE", f"/v1/vector_stores/{vs}", None), ("POST", f"/v1/vector_stores/{vs}/search", {"query": "cat"}),
            ("GET", f"/v1/vector_stores/{vs}/files", None), ("GET", f"/v1/vector_stores/{vs}/files/{file_id}", None),
            ("POST", f"/v1/vector_stores/{vs}/files", {"file_id": file_id}),
            ("DELETE", f"/v1/vector_stores/{vs}/files/{file_id}", None),
            ("GET", f"/v1/vector_stores/{vs}/file_batches/{batch}", None),
            ("POST", f"/v1/vector_stores/{vs}/file_batches/{batch}/cancel", None)]:
        response = call(deps, method, path, body, headers=OTHER)
        assert (response.status, response.body) == (404, missing_store(vs)), (method, path)
    assert get(deps, "/v1/vector_stores", headers=OTHER).body["data"] == []
    theirs = store(deps, headers=OTHER)["id"]  # nor may they attach my file to their store
    response = post(deps, f"/v1/vector_stores/{theirs}/files", {"file_id": file_id}, headers=OTHER)
    assert (response.status, response.body["error"]["param"]) == (404, "file_id")


def test_delete_removes_the_store_its_chunks_and_vectors_but_not_the_files(deps):
    vs, ids = ready_store(deps, {"cat.txt": CAT, "soup.txt": SOUP})
    assert chunk_rows(deps) and deps.vectors.vectors
    response = call(deps, "DELETE", f"/v1/vector_stores/{vs}")
    assert response.body == {"id": vs, "object": "vector_store.deleted", "deleted": True}
    assert chunk_rows(deps) == [] and deps.vectors.vectors == {}
    assert deps.db.conn.execute("SELECT COUNT(*) FROM vector_store_files").fetchone()[0] == 0
    assert get(deps, f"/v1/vector_stores/{vs}").status == 404
    assert get(deps, f"/v1/files/{ids['cat.txt']}").status == 200


# --- files -------------------------------------------------------------------------------------------

def test_file_objects_and_their_list(deps):
    vs, ids = ready_store(deps, {"cat.txt": CAT, "bad.txt": b""}, **{"cat.txt": {"kind": "pet", "year": 2024}})
    cat = get(deps, f"/v1/vector_stores/{vs}/files/{ids['cat.txt']}").body
    assert cat == {"id": ids["cat.txt"], "object": "vector_store.file", "created_at": NOW, "vector_store_id": vs,
                   "status": "completed", "last_error": None, "usage_bytes": len(CAT),
                   "attributes": {"kind": "pet", "year": 2024},
                   "chunking_strategy": {"type": "static", "static": {"max_chunk_size_tokens": 800,
                                                                      "chunk_overlap_tokens": 400}}}
    check("VectorStoreFileObject", cat)
    failed = get(deps, f"/v1/vector_stores/{vs}/files", filter="failed").body["data"]
    assert [f["id"] for f in failed] == [ids["bad.txt"]]
    check("VectorStoreFileObject", failed[0])
    assert len(get(deps, f"/v1/vector_stores/{vs}/files").body["data"]) == 2
    assert get(deps, f"/v1/vector_stores/{vs}/files", filter="odd").status == 400
    assert get(deps, f"/v1/vector_stores/{vs}/files/file-nope").status == 404


def test_updating_attributes_takes_effect_at_once(deps):
    vs, ids = ready_store(deps, {"cat.txt": CAT})
    file_id = ids["cat.txt"]
    body = post(deps, f"/v1/vector_stores/{vs}/files/{file_id}", {"attributes": {"kind": "pet"}}).body
    assert (body["status"], body["attributes"]) == ("completed", {"kind": "pet"})
    assert deps.jobs.sent == [] and deps.ai.calls  # no new ingestion
    found = find(deps, vs, "cat", filters={"type": "eq", "key": "kind", "value": "pet"})["data"]
    assert [(r["file_id"], r["attributes"]) for r in found] == [(file_id, {"kind": "pet"})]


def test_detaching_a_file_removes_its_chunks_and_vectors_only(deps):
    vs, ids = ready_store(deps, {"cat.txt": CAT, "soup.txt": SOUP})
    response = call(deps, "DELETE", f"/v1/vector_stores/{vs}/files/{ids['cat.txt']}")
    assert response.body == {"id": ids["cat.txt"], "object": "vector_store.file.deleted", "deleted": True}
    assert {r["file_id"] for r in chunk_rows(deps)} == {ids["soup.txt"]}
    assert all(ids["cat.txt"] not in vector_id for vector_id in deps.vectors.vectors)
    assert get(deps, f"/v1/files/{ids['cat.txt']}").status == 200


def test_deleting_a_file_detaches_it_from_every_store(deps):
    vs, ids = ready_store(deps, {"cat.txt": CAT})
    other = store(deps)["id"]
    post(deps, f"/v1/vector_stores/{other}/files", {"file_id": ids["cat.txt"]})
    ingest_all(deps)
    assert len({r["vector_store_id"] for r in chunk_rows(deps)}) == 2
    assert call(deps, "DELETE", f"/v1/files/{ids['cat.txt']}").status == 200
    assert chunk_rows(deps) == [] and deps.vectors.vectors == {}
    for store_id in (vs, other):
        assert get(deps, f"/v1/vector_stores/{store_id}").body["file_counts"]["total"] == 0
    assert find(deps, vs, "cat")["data"] == []


# --- file batches ------------------------------------------------------------------------------------

def test_a_batch_attaches_its_files_and_reports_them(deps):
    vs = store(deps)["id"]
    cat, soup = upload(deps, CAT), upload(deps, SOUP, "soup.txt")
    response = post(deps, f"/v1/vector_stores/{vs}/file_batches", {
        "files": [{"file_id": cat, "attributes": {"kind": "pet"}}, {"file_id": soup}],
        "attributes": {"kind": "default"}})
    batch = response.body
    assert batch == {"id": batch["id"], "object": "vector_store.files_batch", "created_at": NOW,
                     "vector_store_id": vs, "status": "in_progress",
                     "file_counts": {**COUNTS, "in_progress": 2, "total": 2}}
    check("VectorStoreFileBatchObject", batch)
    ingest_all(deps)
    done = get(deps, f"/v1/vector_stores/{vs}/file_batches/{batch['id']}").body
    assert (done["status"], done["file_counts"]["completed"]) == ("completed", 2)
    listed = get(deps, f"/v1/vector_stores/{vs}/file_batches/{batch['id']}/files", order="asc").body["data"]
    assert {f["id"]: f["attributes"] for f in listed} == {cat: {"kind": "pet"}, soup: {"kind": "default"}}


def test_cancelling_a_batch_cancels_the_files_not_yet_ingested(deps):
    vs = store(deps)["id"]
    cat = upload(deps, CAT)
    batch = post(deps, f"/v1/vector_stores/{vs}/file_batches", {"file_ids": [cat]}).body["id"]
    cancelled = post(deps, f"/v1/vector_stores/{vs}/file_batches/{batch}/cancel", None).body
    assert (cancelled["status"], cancelled["file_counts"]["cancelled"]) == ("cancelled", 1)
    assert ingest_all(deps) == {"m0": "ack"}
    assert chunk_rows(deps) == [] and deps.vectors.vectors == {}
    assert get(deps, f"/v1/vector_stores/{vs}/files/{cat}").body["status"] == "cancelled"


@pytest.mark.parametrize("body", [{}, {"file_ids": []}, {"file_ids": ["a"], "files": [{"file_id": "a"}]}])
def test_a_batch_needs_exactly_one_list_of_files(deps, body):
    vs = store(deps)["id"]
    assert post(deps, f"/v1/vector_stores/{vs}/file_batches", body).status == 400


# --- search ------------------------------------------------------------------------------------------

def test_search_ranks_the_file_with_the_query_words_first(deps):
    vs, ids = ready_store(deps, {"cat.txt": CAT, "rocket.txt": ROCKET, "soup.txt": SOUP},
                          **{"rocket.txt": {"topic": "space"}})
    body = find(deps, vs, "rocket engines and orbit")
    check("VectorStoreSearchResultsPage", body)
    assert (body["object"], body["search_query"], body["has_more"], body["next_page"]) == (
        "vector_store.search_results.page", ["rocket engines and orbit"], False, None)
    top = body["data"][0]
    assert (top["file_id"], top["filename"], top["attributes"], top["content"]) == (
        ids["rocket.txt"], "rocket.txt", {"topic": "space"}, [{"type": "text", "text": ROCKET.decode()}])
    assert [r["score"] for r in body["data"]] == sorted((r["score"] for r in body["data"]), reverse=True)
    assert deps.vectors.queries[-1] == {"top_k": 10, "filter": {"store_id": vs}, "namespace": None}
    assert find(deps, vs, ["tomato basil", "cat mat"], max_num_results=2)["data"][0]["file_id"] in (
        ids["soup.txt"], ids["cat.txt"])
    assert {r["file_id"] for r in find(deps, vs, ["tomato basil", "cat mat"], max_num_results=2)["data"]} == {
        ids["soup.txt"], ids["cat.txt"]}


def test_search_options(deps):
    vs, ids = ready_store(deps, {"cat.txt": CAT, "rocket.txt": ROCKET, "soup.txt": SOUP})
    assert len(find(deps, vs, "the", max_num_results=1)["data"]) == 1
    strict = find(deps, vs, "rocket engines", ranking_options={"score_threshold": 0.3, "ranker": "auto"})["data"]
    assert [r["file_id"] for r in strict] == [ids["rocket.txt"]]
    assert get(deps, f"/v1/vector_stores/{vs}").body["last_active_at"] == NOW


@pytest.mark.parametrize("body, param, code", [
    ({"query": "x", "rewrite_query": True}, "rewrite_query", "unsupported_parameter"),
    ({"query": "x", "ranking_options": {"ranker": "default-2024-11-15"}}, "ranking_options.ranker", "invalid_value"),
    ({"query": "x", "max_num_results": 51}, "max_num_results", "invalid_value"),
    ({"query": ""}, "query", "invalid_value"),
    ({"query": []}, "query", "invalid_value"),
    ({}, "query", "missing_required_parameter"),
    ({"query": "x", "filters": {"type": "eq", "key": "a"}}, "filters.value", "invalid_value"),
    ({"query": "x", "filters": {"type": "like", "key": "a", "value": 1}}, "filters.type", "invalid_value"),
    ({"query": "x", "filters": {"type": "and", "filters": [{"type": "in", "key": "a", "value": "b"}]}},
     "filters.filters[0].value", "invalid_value"),
    ({"query": "x", "filters": {"type": "or", "filters": []}}, "filters.filters", "invalid_value"),
])
def test_invalid_searches_are_400(deps, body, param, code):
    vs = store(deps)["id"]
    response = post(deps, f"/v1/vector_stores/{vs}/search", body)
    assert (response.status, response.body["error"]["param"], response.body["error"]["code"]) == (400, param, code)


FILTER_ATTRS = {"cat.txt": {"kind": "pet", "year": 2023}, "rocket.txt": {"kind": "space", "year": 2024},
                "soup.txt": {"kind": "food", "year": 2025, "vegan": True}}


@pytest.mark.parametrize("filters, expected", [
    ({"type": "eq", "key": "kind", "value": "space"}, {"rocket.txt"}),
    ({"type": "ne", "key": "kind", "value": "space"}, {"cat.txt", "soup.txt"}),
    ({"type": "gte", "key": "year", "value": 2024}, {"rocket.txt", "soup.txt"}),
    ({"type": "in", "key": "kind", "value": ["pet", "food"]}, {"cat.txt", "soup.txt"}),
    ({"type": "nin", "key": "kind", "value": ["pet"]}, {"rocket.txt", "soup.txt"}),
    ({"type": "eq", "key": "vegan", "value": True}, {"soup.txt"}),
    ({"type": "and", "filters": [{"type": "gt", "key": "year", "value": 2023},
                                 {"type": "lt", "key": "year", "value": 2025}]}, {"rocket.txt"}),
    ({"type": "or", "filters": [{"type": "eq", "key": "kind", "value": "pet"},
                                {"type": "eq", "key": "year", "value": 2025}]}, {"cat.txt", "soup.txt"}),
    ({"type": "and", "filters": [{"type": "ne", "key": "kind", "value": "pet"},
                                 {"type": "ne", "key": "kind", "value": "food"}]}, {"rocket.txt"}),
])
def test_filters_on_attributes(deps, filters, expected):
    vs, ids = ready_store(deps, {"cat.txt": CAT, "rocket.txt": ROCKET, "soup.txt": SOUP}, **FILTER_ATTRS)
    body = find(deps, vs, "cat rocket soup", filters=filters)
    assert {r["filename"] for r in body["data"]} == expected
    names = {file_id: name for name, file_id in ids.items()}
    [sent] = [q["filter"] for q in deps.vectors.queries]  # the index is asked for the matching files only
    assert (sent["store_id"], {names[f] for f in sent["file_id"]["$in"]}) == (vs, expected)


def test_a_filter_no_file_matches_asks_nothing(deps):
    vs, ids = ready_store(deps, {"cat.txt": CAT}, **{"cat.txt": {"kind": "pet"}})
    calls = len(deps.ai.calls)
    assert find(deps, vs, "cat", filters={"type": "eq", "key": "kind", "value": "car"})["data"] == []
    assert deps.vectors.queries == [] and len(deps.ai.calls) == calls




def test_a_file_in_progress_is_not_found_yet(deps):
    vs, ids = ready_store(deps, {"cat.txt": CAT})
    post(deps, f"/v1/vector_stores/{vs}/files", {"file_id": ids["cat.txt"]})  # attached again: in progress
    assert find(deps, vs, "cat")["data"] == []


def test_many_matching_files_fall_back_to_filtering_the_nearest_chunks(deps):
    files = {f"f{i}.txt": f"note number {i} about cats".encode() for i in range(search.IDS_PER_QUERY + 1)}
    vs, ids = ready_store(deps, files, **{name: {"n": i} for i, name in enumerate(files)})
    even = {"type": "in", "key": "n", "value": list(range(0, 41, 2))}
    assert len(find(deps, vs, "cats", filters=even, max_num_results=50)["data"]) == 21
    assert [len(q["filter"]["file_id"]["$in"]) for q in deps.vectors.queries] == [21]
    deps.vectors.queries.clear()
    every = {"type": "gte", "key": "n", "value": 0}
    assert len(find(deps, vs, ["cats", "notes"], filters=every, max_num_results=50)["data"]) == 41
    assert [len(q["filter"]["file_id"]["$in"]) for q in deps.vectors.queries] == [40, 1, 40, 1]
    deps.vectors.queries.clear()
    assert len(find(deps, vs, [f"cats {i}" for i in range(5)], filters=every, max_num_results=50)["data"]) == 41
    assert [q["filter"] for q in deps.vectors.queries] == [{"store_id": vs}] * 5  # 10 queries > MAX_QUERIES
    assert {q["top_k"] for q in deps.vectors.queries} == {search.FALLBACK_TOP_K}


@pytest.mark.parametrize("attributes, node, expected", [
    ({"a": True}, {"type": "eq", "key": "a", "value": 1}, False),
    ({"a": 1}, {"type": "eq", "key": "a", "value": 1.0}, True),
    ({"a": "2"}, {"type": "gt", "key": "a", "value": 1}, False),
    ({"a": "b"}, {"type": "lt", "key": "a", "value": "c"}, True),
    ({}, {"type": "ne", "key": "a", "value": 1}, True),
    ({}, {"type": "nin", "key": "a", "value": [1]}, True),
    ({}, {"type": "eq", "key": "a", "value": 1}, False),
    ({"a": 2}, {"type": "or", "filters": [{"type": "eq", "key": "a", "value": 1},
                                          {"type": "and", "filters": [{"type": "gt", "key": "a", "value": 1},
                                                                      {"type": "lt", "key": "a", "value": 3}]}]}, True),
])
def test_filter_semantics(attributes, node, expected):
    assert search.matches(attributes, node) is expected


def test_a_large_store_stays_within_d1s_parameter_limit(deps):
    big = " ".join(f"cats{i % 7} word{i}" for i in range(6000)).encode()
    vs = store(deps)["id"]
    file_id = upload(deps, big)
    post(deps, f"/v1/vector_stores/{vs}/files", {"file_id": file_id, "chunking_strategy": {
        "type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0}}})
    ingest_all(deps)
    assert len(chunk_rows(deps)) == 120
    found = find(deps, vs, [f"cats{i}" for i in range(7)] + ["word7"], max_num_results=50,
                 filters={"type": "ne", "key": "x", "value": 1})["data"]
    assert len(found) == 50
    assert call(deps, "DELETE", f"/v1/vector_stores/{vs}").status == 200
    assert chunk_rows(deps) == [] and deps.vectors.vectors == {}
