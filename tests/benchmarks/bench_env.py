"""The settings every bench process sees: schemas and Redis databases of the bench's own.

Imported before any project module reads its settings; each value can be overridden with the same
name prefixed by BENCH_ (BENCH_OUTPUT_HOST=…).
"""

import os
import tempfile

BENCH_ENV = {
    "ENV": "development",
    "VAR_DIR": tempfile.mkdtemp(prefix="audience-bench-var-"),
    "OUTPUT_HOST": "127.0.0.1",
    "OUTPUT_PORT": "3306",
    "OUTPUT_USER": "root",
    "OUTPUT_PASSWORD": "",
    "OUTPUT_SCHEMA": "audience_bench_out",
    "INPUT_HOST": "127.0.0.1",
    "INPUT_PORT": "3306",
    "INPUT_USER": "root",
    "INPUT_PASSWORD": "",
    "INPUT_SCHEMA": "audience_bench_src",
    "BROKER_URL": "redis://127.0.0.1:6379/12",
    "RESULT_BACKEND": "redis://127.0.0.1:6379/13",
    "API_KEYS": "",
    "LOG_LEVEL": "INFO",
}
os.environ.update({k: os.environ.get(f"BENCH_{k}", v) for k, v in BENCH_ENV.items()})
