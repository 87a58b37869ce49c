"""One real worker per test session, driven over HTTP and with the official openai SDK."""
import pathlib

import httpx
import openai
import pytest

from integration.devserver import DevServer, apply_migrations, d1_query, keys, sdk
from integration import spec_check
from integration.localweb import LocalWeb

LOCAL_KEY = "sk-local-dev"


def pytest_collection_modifyitems(items):
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


# workerd logs these when the GC collects an RPC result or stub the worker never disposed of.
UNDISPOSED = ("An RPC result was not disposed properly", "An RPC stub was not disposed properly")


@pytest.fixture(scope="session")
def local_web():
    """A web server on loopback that the worker may fetch from: its origin is the one the session's
    worker allows (ALLOWED_PRIVATE_ORIGINS); every other private address stays refused."""
    with LocalWeb() as web:
        yield web


@pytest.fixture(scope="session")
def server(tmp_path_factory, local_web):
    state = tmp_path_factory.mktemp("state")
    apply_migrations(state)
    log = pathlib.Path(tmp_path_factory.mktemp("logs")) / "wrangler-dev.log"
    with DevServer(state, log, {"ALLOWED_PRIVATE_ORIGINS": local_web.url}) as running:
        spec_check.WORKERS.add(running.url)
        yield running
    # At the end of the session, over the whole log: JS objects held past their use, ever.
    undisposed = [line for line in log.read_text().splitlines() if any(w in line for w in UNDISPOSED)]
    assert undisposed == [], f"{len(undisposed)} undisposed RPC values, see {log}"


@pytest.fixture(scope="session", autouse=True)
def spec_checked():
    """Every answer of the worker, to any client of the suite, is checked against OpenAI's schemas."""
    spec_check.install()


@pytest.fixture(scope="session")
def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=LOCAL_KEY, max_retries=0, timeout=30)


@pytest.fixture(scope="session")
def http(server):
    with httpx.Client(base_url=server.url, timeout=30,
                      headers={"authorization": f"Bearer {LOCAL_KEY}"}) as session:
        yield session


@pytest.fixture(scope="session")
def d1(server):
    """d1(sql) → the rows of a SELECT on the worker's local D1."""
    return lambda sql: d1_query(server.state, sql)


@pytest.fixture(scope="module")
def owner(server, request) -> openai.OpenAI:
    """A fresh key for the module, so that its lists hold only what the module makes."""
    return sdk(server, keys(server, "create", "--name", f"{request.module.__name__} owner")["key"])


@pytest.fixture(scope="module")
def stranger(server, request) -> openai.OpenAI:
    """Another key, which must never see the owner's objects."""
    return sdk(server, keys(server, "create", "--name", f"{request.module.__name__} stranger")["key"])


@pytest.fixture
def write(tmp_path):
    """Write bytes to a named file to upload."""
    def make(name: str, data: bytes):
        path = tmp_path / name
        path.write_bytes(data)
        return path
    return make
