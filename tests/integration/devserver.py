"""Start the real worker (and the AI and Vectorize stand-ins) under `wrangler dev`, offline, on free ports."""
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import httpx
import openai

ROOT = pathlib.Path(__file__).resolve().parents[2]
WRANGLER = str(ROOT / "node_modules" / ".bin" / "wrangler")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tool_env() -> dict:
    node = ROOT / ".venv" / "node" / "bin"
    return {**os.environ, "PATH": f"{node}:{os.environ['PATH']}", "NO_COLOR": "1", "CI": "1",
            "MINIFLARE_WORKERD_PATH": str(ROOT / "scripts" / "workerd-wrapper.sh"),
            "WRANGLER_SEND_METRICS": "false"}


def wrangler(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([WRANGLER, *args], cwd=ROOT, env=tool_env(), capture_output=True,
                          text=True, check=check, stdin=subprocess.DEVNULL)


def apply_migrations(state: pathlib.Path) -> None:
    """The schema as deployments get it: `wrangler d1 migrations apply` (migrations/)."""
    wrangler("d1", "migrations", "apply", "DB", "--local", "--env", "local", "--persist-to", str(state))


class DevServer:
    """`variables` override [env.local.vars] (`--var`)."""
    ready_path = "/v1/models"

    def __init__(self, state: pathlib.Path, log: pathlib.Path, variables: dict = None):
        self.state, self.log_path, self.variables = state, log, variables or {}
        self.port, self.inspector = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def __enter__(self) -> "DevServer":
        self.log = open(self.log_path, "w")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [WRANGLER, "dev", *self.configs(), *self.overrides(), "--env", "local",
             "--persist-to", str(self.state), "--ip", "127.0.0.1", "--port", str(self.port),
             "--inspector-port", str(self.inspector), "--show-interactive-dev-session=false"],
            cwd=ROOT, env=tool_env(), stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            self.wait_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def configs(self) -> list:
        """The worker first (it is served on the port), then the stand-ins it is bound to."""
        return ["-c", "wrangler.toml", "-c", "ai-standin/wrangler.toml", "-c", "vectorize-standin/wrangler.toml"]

    def overrides(self) -> list:
        return [arg for name, value in self.variables.items() for arg in ("--var", f"{name}:{value}")]

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"wrangler dev exited early:\n{self.log_path.read_text()[-4000:]}")
            try:
                if httpx.get(self.url + self.ready_path, timeout=5).status_code < 500:
                    self.ready_after = time.monotonic() - self.started
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"wrangler dev not ready in {timeout}s:\n{self.log_path.read_text()[-4000:]}")

    def scheduled(self) -> None:
        """Runs the worker's cron handler now (miniflare's trigger endpoint in `wrangler dev`)."""
        httpx.get(self.url + "/cdn-cgi/local/scheduled", params={"cron": "* * * * *"}, timeout=60).raise_for_status()

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


class StandinServer(DevServer):
    """One stand-in alone (`vectorize-standin/wrangler.toml`, ...) under `wrangler dev --env local`,
    driven over its fetch handler."""
    ready_path = "/"

    def __init__(self, config: str, state: pathlib.Path, log: pathlib.Path, variables: dict = None):
        super().__init__(state, log, variables)
        self.config = config

    def configs(self) -> list:
        return ["-c", self.config]


def d1_query(state: pathlib.Path, sql: str) -> list:
    """Rows of one SELECT against the worker's local D1 (the same files `wrangler dev` persists)."""
    done = wrangler("d1", "execute", "DB", "--local", "--env", "local", "--persist-to", str(state),
                    "--command", sql, "--json")
    return json.loads(done.stdout)[0]["results"]


def keys(server, *args) -> dict:
    """scripts/keys.py against the server's local D1, with --json output parsed."""
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "keys.py"), "--persist-to",
                           str(server.state), "--json", *args],
                          capture_output=True, text=True)
    assert done.returncode == 0, f"keys.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
    return json.loads(done.stdout) if done.stdout.strip().startswith(("{", "[")) else {}


def sdk(server, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0)


def fresh_minute(margin: float = 15.0) -> None:
    """The Rate Limiting binding's windows are wall-clock minutes: start a counting test well inside one."""
    if time.time() % 60 > 60 - margin:
        time.sleep(60 - time.time() % 60 + 0.5)
