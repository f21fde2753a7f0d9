"""Start a Celery worker with the pool, concurrency and queues the settings give.

`python -m workers.launch predicting_1 predicting` execs `celery worker`, so the gevent pool is
monkey-patched before anything else is imported, as Celery requires.
"""

import os
import sys

from settings import get_settings


def worker_argv(name: str, queues: str, extra: list[str]) -> list[str]:
    settings = get_settings()
    return [
        sys.executable, "-m", "celery", "-A", "workers.app:celery_app", "worker",
        "-n", f"{name}@%h", "-Q", queues,
        "-P", settings.worker_pool, "-c", str(settings.worker_concurrency),
        "--without-gossip", "--without-mingle", "--loglevel", settings.log_level,
        *extra,
    ]  # fmt: skip


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit("usage: python -m workers.launch NAME QUEUE[,QUEUE...] [celery worker options]")
    argv = worker_argv(sys.argv[1], sys.argv[2], sys.argv[3:])
    os.execv(sys.executable, argv)


if __name__ == "__main__":
    main()
