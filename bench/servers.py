"""The bench's servers, each a `wrangler dev` in its own process group: the AI stand-in alone, the
worker (DevServer from tests/integration) and the minimal Python forwarder (bench/reference/); and
what /proc tells about their workerd processes (memory, CPU time)."""
import contextlib
import os
import pathlib
import subprocess
import sys
import time

import httpx

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from integration.devserver import WRANGLER, DevServer, apply_migrations, tool_env  # noqa: E402,F401

RESULTS = ROOT / "bench" / "results"
REFERENCE = ROOT / "bench" / "reference"
KEY = "sk-local-dev"
HELLO = [{"role": "user", "content": "hello there"}]
CHAT_MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"  # what gpt-4o-mini maps to
REFERENCE_READY = ("/v1/chat/completions", {"model": "gpt-4o-mini", "messages": HELLO})
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class BenchServer(DevServer):
    """`wrangler dev` of the given configs; DevServer's ports, logging and teardown. Ready at its first
    200 on path: GET, or POST of body."""

    def __init__(self, configs: list, path: str, body: dict, state: pathlib.Path, log: pathlib.Path):
        super().__init__(state, log)
        self.configs, self.path, self.body = configs, path, body

    def __enter__(self) -> "BenchServer":
        self.log = open(self.log_path, "w")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [WRANGLER, "dev", *self.configs,
             "--persist-to", str(self.state), "--ip", "127.0.0.1", "--port", str(self.port),
             "--inspector-port", str(self.inspector), "--show-interactive-dev-session=false"],
            cwd=ROOT, env=tool_env(), stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            self.ready_after = first_200(self, self.path, body=self.body)
        except BaseException:
            self.__exit__()
            raise
        return self


def standin_server(state: pathlib.Path) -> BenchServer:
    """The stand-ins alone (JS only): the AI one, and the Vectorize one, which the worker's
    `wrangler dev` also runs in its process, so that both sides of the memory figure hold it."""
    return BenchServer(["-c", "ai-standin/wrangler.toml", "-c", "vectorize-standin/wrangler.toml",
                        "--env", "local"], "/", None, state, RESULTS / "standin.log")


def reference_server(state: pathlib.Path, assets: bool = True) -> BenchServer:
    """The minimal Python forwarder with the stand-ins bound as the worker has them, and the same
    [assets] in front (`assets=False`: without them, a config written next to it with its last table
    cut off). Python Workers take their vendored modules from python_modules/ next to the config: a
    link to the repo's."""
    if not (REFERENCE / "python_modules").is_symlink():
        (REFERENCE / "python_modules").symlink_to("../../python_modules", target_is_directory=True)
    config = REFERENCE / "wrangler.toml"
    if not assets:
        text = config.read_text()
        config = REFERENCE / "wrangler.no-assets.toml"
        config.write_text(text[:text.index("\n[assets]")] + "\n")
    name = "reference" if assets else "reference-no-assets"
    return BenchServer(["-c", str(config), "-c", "ai-standin/wrangler.toml", "-c", "vectorize-standin/wrangler.toml"],
                       *REFERENCE_READY, state, RESULTS / f"{name}.log")


class BenchWorker(DevServer):
    """The worker (DevServer's configs), ready at its first 200 on GET /v1/models with the key, timed
    as the other servers are (DevServer's own readiness probe polls less often, and gives up a held
    request after 5 s)."""

    def wait_ready(self, timeout: float = 120.0) -> None:
        self.ready_after = first_200(self, "/v1/models", {"authorization": f"Bearer {KEY}"}, timeout=timeout)


def first_200(server: DevServer, path: str, headers: dict = None, body: dict = None,
              timeout: float = 120.0) -> float:
    """Seconds from the server's launch to its first 200 on path: GET, or POST of body."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"wrangler dev exited early, see {server.log_path}")
        with contextlib.suppress(httpx.HTTPError):
            # A long timeout: the first request is held until the worker has loaded.
            response = httpx.request("GET" if body is None else "POST", server.url + path, json=body,
                                     headers=headers, timeout=timeout)
            if response.status_code == 200:
                return time.monotonic() - server.started
        time.sleep(0.05)
    raise RuntimeError(f"no 200 from {server.url + path} in {timeout}s, see {server.log_path}")


def _workerds(pgid: int):
    """(/proc entry, stat fields after the name) of each workerd in a process group (wrangler dev
    runs two: its proxy and the runtime)."""
    for proc in pathlib.Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except OSError:  # exited meanwhile
            continue
        # The name sits in parentheses and may contain spaces; the group id is the third field after it.
        name, fields = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        if name == "workerd" and int(fields[2]) == pgid:
            yield proc, fields


def workerd_rss_mib(pgid: int) -> list:
    """VmRSS of each workerd in a process group."""
    sizes = []
    for proc, _ in _workerds(pgid):
        with contextlib.suppress(OSError):
            status = (proc / "status").read_text()
            kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
            sizes.append(round(kib / 1024, 1))
    return sorted(sizes)


def workerd_cpu_ms(pgid: int) -> float:
    """User + system CPU time of the workerd processes of a process group so far (utime and stime
    are fields 14 and 15 of /proc/<pid>/stat, in clock ticks: 10 ms resolution)."""
    return sum(int(fields[11]) + int(fields[12]) for _, fields in _workerds(pgid)) * 1000 / CLOCK_TICKS
