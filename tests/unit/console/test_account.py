"""GET /v1/console/me and /v1/console/usage: the caller, and the usage of its owner's keys only."""
import pytest

from unit.console.keys_support import add_key, add_usage
from unit.support import call

TODAY = "2026-01-01"  # the deps clock (unit.support.NOW)


def get(deps, path, headers=None, **query):
    return call(deps, "GET", path, headers=headers, query=query)


def test_me_names_the_key_its_owner_and_whether_it_is_admin(deps):
    plain, admin = add_key(deps, "key_a", project="proj"), add_key(deps, "key_b", admin=True)
    assert get(deps, "/v1/console/me", plain).body == {
        "object": "console.session", "key_id": "key_a", "owner": "proj", "admin": False}
    assert get(deps, "/v1/console/me", admin).body == {
        "object": "console.session", "key_id": "key_b", "owner": "key_b", "admin": True}
    assert get(deps, "/v1/console/me").body["owner"] == "local-dev"  # the local dev key: never admin
    assert get(deps, "/v1/console/me").body["admin"] is False


def test_usage_sums_every_key_of_the_callers_project_per_day_and_model(deps):
    mine = add_key(deps, "key_a", project="proj")
    add_key(deps, "key_b", project="proj")
    add_key(deps, "key_c", project="other")
    add_key(deps, "key_d")
    add_usage(deps, "key_a", "m1", TODAY, 2, 10, 20)
    add_usage(deps, "key_b", "m1", TODAY, 1, 5, 5)
    add_usage(deps, "key_b", "m2", "2025-12-31", 4, 1, 1)
    add_usage(deps, "key_c", "m1", TODAY, 100, 100, 100)  # another project
    add_usage(deps, "key_d", "m1", TODAY, 100, 100, 100)  # a key without a project
    add_usage(deps, "proj", "m1", TODAY, 100, 100, 100)  # a key_id that merely equals the project name
    response = get(deps, "/v1/console/usage", mine)
    assert (response.status, response.body) == (200, {
        "object": "console.usage", "owner": "proj", "since": "2025-12-03",
        "data": [{"day": "2025-12-31", "model": "m2", "requests": 4, "prompt_tokens": 1, "completion_tokens": 1},
                 {"day": TODAY, "model": "m1", "requests": 3, "prompt_tokens": 15, "completion_tokens": 25}]})


def test_a_key_without_a_project_sees_its_own_usage_only(deps):
    alone = add_key(deps, "key_d")
    add_key(deps, "key_a", project="proj")
    add_usage(deps, "key_d", "m1", TODAY, 1, 2, 3)
    add_usage(deps, "key_a", "m1", TODAY, 100, 100, 100)
    assert get(deps, "/v1/console/usage", alone).body["data"] == [
        {"day": TODAY, "model": "m1", "requests": 1, "prompt_tokens": 2, "completion_tokens": 3}]


def test_usage_window_is_days_back_from_today(deps):
    mine = add_key(deps, "key_a")
    add_usage(deps, "key_a", "m1", "2025-12-31", 1, 1, 1)
    add_usage(deps, "key_a", "m1", "2025-12-30", 1, 1, 1)
    body = get(deps, "/v1/console/usage", mine, days="2").body
    assert (body["since"], [row["day"] for row in body["data"]]) == ("2025-12-31", ["2025-12-31"])


@pytest.mark.parametrize("days", ["0", "367", "week"])
def test_usage_days_out_of_range_is_400(deps, days):
    response = call(deps, "GET", "/v1/console/usage", query={"days": days})
    assert (response.status, response.body["error"]["param"]) == (400, "days")
