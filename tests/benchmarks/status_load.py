"""An open-loop load generator for the status route, light enough not to take the cores it measures.

`python -m tests.benchmarks.status_load URL PATH --rate 200 --seconds 60` sends GET PATH at a fixed rate
over keep-alive connections (raw HTTP/1.1 on asyncio streams: an HTTP client library costs more CPU per
request than the API answering it), until the time is up or SIGTERM arrives, then prints a JSON summary.
Each latency counts from the moment the request was due, not from when it left, so a generator or a
server that falls behind shows in the figures instead of hiding them.
"""

import argparse
import asyncio
import json
import signal
import sys
import time
from typing import Any
from urllib.parse import urlsplit

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _get(conn: Connection, request: bytes) -> int:
    reader, writer = conn
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(head[9:12])


async def run(url: str, path: str, rate: float, seconds: float) -> dict[str, Any]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\n\r\n".encode()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    idle: list[Connection] = []
    latencies: list[float] = []
    errors: dict[str, int] = {}  # by cause: an exception's name, or the HTTP status

    def failed(cause: str) -> None:
        errors[cause] = errors.get(cause, 0) + 1

    async def one(due: float) -> None:
        for attempt in (1, 2):
            reused = attempt == 1 and bool(idle)  # a second try goes on a new connection
            conn: Connection | None = None
            try:
                conn = idle.pop() if reused else await asyncio.open_connection(host, port)
                status = await _get(conn, request)
                break
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                if conn is not None:
                    conn[1].close()
                # A connection left idle past the server's keep-alive was closed: send again on a new
                # one, as any HTTP client does (the latency still counts from when the request was due).
                if not (reused and attempt == 1):
                    failed(type(exc).__name__)
                    return
        assert conn is not None  # the loop ended on `break`, with a connection
        latencies.append(time.perf_counter() - due)
        if status != 200:
            failed(f"HTTP {status}")
        idle.append(conn)

    pending: set[asyncio.Task] = set()
    start = time.perf_counter()
    sent = 0
    while not stop.is_set() and time.perf_counter() - start < seconds:
        due = start + sent / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        task = asyncio.create_task(one(due))
        pending.add(task)
        task.add_done_callback(pending.discard)
        sent += 1
    await asyncio.gather(*pending)
    for _reader, writer in idle:
        writer.close()
    ms = sorted(x * 1000 for x in latencies)
    if not ms:
        return {"requests": 0, "errors": sum(errors.values()), "error_causes": errors}
    return {
        "requests": len(ms),
        "errors": sum(errors.values()),
        "error_causes": errors,
        "p50_ms": round(ms[len(ms) // 2], 2),
        "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 2),
        "max_ms": round(ms[-1], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.status_load", description=__doc__)
    parser.add_argument("url")
    parser.add_argument("path")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(run(args.url, args.path, args.rate, args.seconds))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
