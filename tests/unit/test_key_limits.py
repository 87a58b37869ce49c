"""api.key_limits: the one validation and upsert of a key's limits, used by the console's route and
by scripts/keys.py (whose SQL-text rendering of the same statement is checked here too)."""
import argparse
import importlib.util
import json
import pathlib

import pytest

from api import key_limits
from api.errors import InvalidRequest
from unit.support import run

ROOT = pathlib.Path(__file__).resolve().parents[2]


def limits_row(deps, key_id="key_1"):
    rows = deps.db.conn.execute("SELECT requests_per_minute, tokens_per_day, tokens_per_month, models, updated_at "
                                "FROM key_limits WHERE key_id = ?", (key_id,)).fetchall()
    return tuple(rows[0]) if rows else None


def apply(deps, fields, now=100.0):
    run(deps.db.execute(*key_limits.upsert("key_1", fields, now)))


def test_a_limit_left_out_keeps_its_value_and_null_removes_one(deps):
    apply(deps, {"requests_per_minute": 5, "tokens_per_day": 1000, "models": [" gpt-4o ", "@cf/x"]})
    assert limits_row(deps) == (5, 1000, None, '["gpt-4o", "@cf/x"]', 100)
    apply(deps, {"tokens_per_day": None, "tokens_per_month": 9000, "unknown": 1}, now=200.7)
    assert limits_row(deps) == (5, None, 9000, '["gpt-4o", "@cf/x"]', 200)
    apply(deps, {"models": None, "requests_per_minute": None})
    assert limits_row(deps) == (None, None, 9000, None, 100)


def test_nothing_named_is_no_statement():
    assert key_limits.upsert("key_1", {"other": 3}, 0) is None


@pytest.mark.parametrize("fields,param,message", [
    ({"requests_per_minute": 0}, "requests_per_minute",
     "Invalid value for 'requests_per_minute': ensure this value is greater than or equal to 1."),
    ({"tokens_per_day": "5"}, "tokens_per_day",
     "Invalid type for 'tokens_per_day': expected an integer, but got a string instead."),
    ({"tokens_per_month": 1.0}, "tokens_per_month",
     "Invalid type for 'tokens_per_month': expected an integer, but got a number instead."),
    ({"requests_per_minute": True}, "requests_per_minute",
     "Invalid type for 'requests_per_minute': expected an integer, but got a boolean instead."),
    ({"tokens_per_day": 2**53}, "tokens_per_day",
     "Invalid value for 'tokens_per_day': ensure this value is less than or equal to 9007199254740991."),
    ({"models": "gpt-4o"}, "models", "Invalid type for 'models': expected an array, but got a string instead."),
    ({"models": []}, "models", "Invalid value for 'models': ensure this value has at least 1 items."),
    ({"models": ["gpt-4o", " "]}, "models[1]",
     "Invalid value for 'models[1]': ensure this value has at least 1 characters."),
])
def test_bad_values_are_refused_naming_the_field(fields, param, message):
    with pytest.raises(InvalidRequest) as refused:
        key_limits.upsert("key_1", fields, 0)
    assert (refused.value.param, refused.value.message) == (param, message)


@pytest.fixture(scope="module")
def keys_script():
    spec = importlib.util.spec_from_file_location("keys_script", ROOT / "scripts" / "keys.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cli(keys_script, *argv):
    parser = argparse.ArgumentParser()
    keys_script.add_limit_options(parser)
    return parser.parse_args(argv)


def test_the_script_runs_the_same_upsert_as_sql_text(deps, keys_script):
    args = cli(keys_script, "--requests-per-minute", "7", "--models", "gpt-4o, o'brien", "--tokens-per-day", "none")
    deps.db.conn.executescript(keys_script.limits_sql("key_1", args))
    requests_per_minute, tokens_per_day, tokens_per_month, models, _ = limits_row(deps)
    assert (requests_per_minute, tokens_per_day, tokens_per_month) == (7, None, None)
    assert json.loads(models) == ["gpt-4o", "o'brien"]  # quoted by literal()
    assert keys_script.limits_sql("key_1", cli(keys_script)) == ""  # no limit options: nothing to run


@pytest.mark.parametrize("argv,message", [
    (("--requests-per-minute", "0"),
     "--requests-per-minute: Invalid value for 'requests_per_minute': ensure this value is greater than or equal to 1."),
    (("--tokens-per-month", "lots"),
     "--tokens-per-month: Invalid type for 'tokens_per_month': expected an integer, but got a string instead."),
    (("--models", " , "), "--models: Invalid value for 'models': ensure this value has at least 1 items."),
])
def test_the_script_refuses_what_the_route_refuses(keys_script, argv, message):
    with pytest.raises(SystemExit) as refused:
        keys_script.limits_sql("key_1", cli(keys_script, *argv))
    assert str(refused.value) == message
