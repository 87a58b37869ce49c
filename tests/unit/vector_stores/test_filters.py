"""check_filter on hostile filters: depth and size are bounded, checked without recursion, and
matching a checked filter stays within those bounds."""
import pytest

from api.errors import InvalidRequest
from api.vector_stores.search import MAX_FILTER_DEPTH, MAX_FILTER_TERMS, check_filter, matches

EQ = {"type": "eq", "key": "kind", "value": "pet"}


def nested(depth: int, kind: str = "and") -> dict:
    node = EQ
    for _ in range(depth):
        node = {"type": kind, "filters": [node]}
    return node


def refused(filters) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as raised:
        check_filter(filters)
    assert raised.value.status == 400 and raised.value.code == "invalid_value"
    return raised.value


def test_compounds_nest_up_to_the_limit():
    check_filter(nested(MAX_FILTER_DEPTH))
    assert matches({"kind": "pet"}, nested(MAX_FILTER_DEPTH))
    assert not matches({"kind": "car"}, nested(MAX_FILTER_DEPTH, "or"))


@pytest.mark.parametrize("depth", [MAX_FILTER_DEPTH + 1, 100_000])
def test_deeper_compounds_are_refused_with_the_path(depth):
    error = refused(nested(depth))
    assert error.param == "filters" + ".filters[0]" * MAX_FILTER_DEPTH + ".filters"
    assert f"nest at most {MAX_FILTER_DEPTH} deep" in error.message


def test_the_number_of_terms_is_bounded():
    check_filter({"type": "or", "filters": [EQ] * (MAX_FILTER_TERMS // 2) +
                  [{"type": "in", "key": "n", "value": list(range(MAX_FILTER_TERMS // 2))}]})
    error = refused({"type": "or", "filters": [EQ] * (MAX_FILTER_TERMS + 1)})
    assert error.param == "filters" and str(MAX_FILTER_TERMS) in error.message
    refused({"type": "in", "key": "n", "value": list(range(MAX_FILTER_TERMS + 1))})


def test_a_wide_and_deep_hostile_filter_is_refused_quickly():
    wide = {"type": "and", "filters": [nested(MAX_FILTER_DEPTH - 1)] * 50_000}
    assert "at most" in refused(wide).message


def test_the_first_bad_node_in_document_order_is_named():
    bad = {"type": "and", "filters": [EQ, {"type": "or", "filters": [EQ, {"type": "eq", "key": 1}]},
                                      {"type": "nope"}]}
    with pytest.raises(InvalidRequest) as raised:
        check_filter(bad)
    assert raised.value.param == "filters.filters[1].filters[1].key"
