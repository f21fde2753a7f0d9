"""Real processes for integration tests and the bench: Celery workers and the API server."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Process:
    """A child process in its own process group, its output in a log file."""

    def __init__(self, argv: list[str], env: Mapping[str, str], log: Path) -> None:
        self.log = log
        self._handle = log.open("ab")
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env=dict(env), stdout=self._handle, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole group (a prefork worker's children too) and reap it."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._handle.close()

    def stop(self) -> None:
        self.kill(signal.SIGTERM)


def peak_rss_of(pid: int) -> int:
    """The high-water mark of a process's resident memory (Linux VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def start_worker(
    env: Mapping[str, str], log: Path, name: str = "test", queues: str = "predicting", timeout: float = 60
) -> Process:
    argv = [sys.executable, "-m", "workers.launch", name, queues]
    proc = Process(argv, env, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if " ready." in proc.output():
            return proc
        if not proc.alive():
            raise RuntimeError(f"worker exited at start:\n{proc.output()[-3000:]}")
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"worker not ready after {timeout}s:\n{proc.output()[-3000:]}")


def start_api(env: Mapping[str, str], log: Path, timeout: float = 60) -> tuple[Process, str]:
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "apis.app:create_app", "--factory", "--port", str(port)]
    proc = Process(argv, env, log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if not proc.alive():
            raise RuntimeError(f"API exited at start:\n{proc.output()[-3000:]}")
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"API not up after {timeout}s:\n{proc.output()[-3000:]}")


def wait_for(client: httpx.Client, task_id: str, until: tuple[str, ...], timeout: float = 180) -> dict:
    """Poll a task's status until it is in `until`; the last status document."""
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        body = client.get(f"/predicting/tasks/{task_id}").json()
        if body.get("status") in until:
            return body
        time.sleep(0.2)
    raise AssertionError(f"task {task_id} not in {until} after {timeout}s: {body}")
