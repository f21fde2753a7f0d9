"""`make flower`: Flower starts on the project's broker and sees a running worker."""

import time
from pathlib import Path

import httpx

from tests.services import Process, free_port, start_worker


def test_make_flower_serves_and_sees_the_worker(worker_env: dict, workers: list, tmp_path: Path) -> None:
    workers.append(start_worker(worker_env, tmp_path / "worker.log", name="seen"))
    port = free_port()
    flower = Process(
        ["make", "--no-print-directory", "flower", f"FLOWER_PORT={port}"], worker_env, tmp_path / "flower.log"
    )
    workers.append(flower)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    page = ""
    while time.monotonic() < deadline and "seen@" not in page:
        assert flower.alive(), flower.output()[-3000:]
        try:
            if httpx.get(f"{url}/healthcheck", timeout=2).text == "OK":
                page = httpx.get(f"{url}/workers", params={"refresh": "1"}, timeout=10).text
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    assert "seen@" in page, flower.output()[-3000:]  # the workers page lists the running worker
