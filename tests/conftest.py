"""Fixtures shared by the unit tests: a Deps bundle of the in-process fakes (tests/fakes.py)."""
import pytest

from api import app
from api.ports import Config, Deps
from fakes import Clock, DictBlobs, DictWeb, ListQueue, MemoryVectors, ScriptedAI, SqliteDB, WindowLimiter


@pytest.fixture
def deps():
    deferred = []
    counter = iter(range(1, 1_000_000))
    clock = Clock()
    d = Deps(ai=ScriptedAI(), db=SqliteDB(), jobs=ListQueue(), runs=ListQueue(), web=DictWeb(), blobs=DictBlobs(), vectors=MemoryVectors(),
             limiter=WindowLimiter(clock), config=Config(local_dev_key="sk-test", usage_flush_seconds=0), defer=deferred.append, now=clock, new_id=lambda prefix: f"{prefix}{next(counter):04d}",
             log=lambda line: None, dispatch=app.dispatch)
    d.deferred = deferred
    return d
