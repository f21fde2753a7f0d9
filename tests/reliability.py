"""`make reliability`: run the fault matrix several times and write what it measured into the README.

Every scenario is a test marked `fault` (tests/worker/test_faults.py and the embedded SIGKILL test);
this runs them with `--trials N`, reads the JSON lines they report, and renders one row per scenario:
trials, trials survived (every check of the test held), rows lost and duplicate rows summed over the
trials, and the median seconds from the fault until the task did work again and until it ended.

Then it runs the schema fuzzer (tests/api/test_fuzzing.py) with `--fuzz-cases` generated requests and
writes how many requests it sent and how many were answered 5xx.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from tests.readme import write_section

ROOT = Path(__file__).resolve().parent.parent
# Test → the scenario as the README names it, in the order of the table.
SCENARIOS = {
    "test_sigkill_a_pool_child_mid_batch": "SIGKILL a pool child mid-batch",
    "test_sigkill_the_worker_mid_task_and_start_another": "SIGKILL the whole worker, start another",
    "test_embedded_default_survives_sigkill_of_its_worker": "SIGKILL the worker on the embedded default",
    "test_a_batch_outliving_the_visibility_timeout_is_fenced": "batches outlive the visibility timeout",
    "test_redis_restarted_mid_task": "Redis (broker + results) restarted empty mid-task",
    "test_result_backend_down_while_the_task_finishes": "result backend down while the task finishes",
    "test_database_connections_killed_mid_task": "MariaDB connections KILLed mid-read and mid-write",
    "test_output_connection_killed_between_write_and_commit": "output connection KILLed between write and commit",
    "test_lock_wait_timeouts_retry_the_whole_batch": "lock-wait timeouts on the batch commit",
    "test_a_deadlock_victim_retries_the_whole_batch": "deadlock, a batch commit is the victim",
    "test_abort_mid_run_writes_nothing_after_it_is_acknowledged": "abort mid-run (ends BREAK, nothing written after)",
    "test_a_poison_row_fails_its_chunk_after_bounded_attempts": "poison row: model raises (ends FAILURE, 3 attempts)",
    "test_warm_shutdown_mid_task_then_another_worker": "warm shutdown (SIGTERM) mid-task",
    "test_children_recycled_after_every_chunk": "pool children recycled by worker_max_memory_per_child",
    "test_a_task_whose_messages_the_broker_lost_is_sent_again": "worker killed, broker emptied: stale task re-sent",
    "test_rows_inserted_while_a_task_runs_are_not_labeled": "rows inserted into the range mid-task",
    "test_output_account_refused_mid_task_then_restored": "output schema refuses the service's account, then admits it",
    "test_output_account_refused_longer_than_the_retry_budget": "output account refused past OUTPUT_OUTAGE_RETRY_S",
}


def run(trials: int, report: Path, extra: list[str]) -> int:
    argv = [sys.executable, "-m", "pytest", "-q", "-m", "fault", "-p", "no:cacheprovider"]
    argv += ["--trials", str(trials), "--fault-report", str(report), *extra]
    return subprocess.run(argv, cwd=ROOT).returncode


def fuzz(cases: int, report: Path) -> int:
    env = {**os.environ, "FUZZ_CASES": str(cases), "FUZZ_REPORT": str(report)}
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/api/test_fuzzing.py"]
    return subprocess.run(argv, cwd=ROOT, env=env).returncode


def fuzz_line(report: dict, cases: int, when: str) -> str:
    return (
        f"Schema fuzzer: {report['requests']:,} requests over {report['operations']} operations "
        f"({report['hostile_multipart']:,} of them uploads with hostile form fields), "
        f"{report['server_errors']:,} answered 5xx. Measured by `make reliability FUZZ_CASES={cases}` on {when}."
    )


def seconds(values: list[float]) -> str:
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.1f}"
    return f"{statistics.median(values):.1f} ({min(values):.1f}–{max(values):.1f})"


def trials_of(lines: list[dict]) -> dict[str, list[dict]]:
    """Each scenario's trials, one per run of its test: failed if any phase of that run failed,
    with what the run measured."""
    runs: dict[str, dict] = {}
    for line in lines:
        run = runs.setdefault(line["trial"], {"test": line["test"], "outcome": "passed", "measured": {}})
        if line["outcome"] != "passed":
            run["outcome"] = "failed"
        run["measured"].update(line["measured"])
    by_test: dict[str, list[dict]] = defaultdict(list)
    for run in runs.values():
        by_test[run["test"].rsplit("::", 1)[-1]].append(run)
    return by_test


def summed(measured: list[dict], key: str) -> str:
    values = [m[key] for m in measured if key in m]
    if not values:
        return "—"
    total = str(sum(values))
    return total if len(values) == len(measured) else f"{total} ({len(values)} of {len(measured)} measured)"


def table(lines: list[dict]) -> str:
    by_test = trials_of(lines)
    order = [t for t in SCENARIOS if t in by_test] + sorted(t for t in by_test if t not in SCENARIOS)
    rows = [
        "| scenario | trials | survived | rows lost | duplicate rows | work resumed after (s) | task ended after (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for test in order:
        trials = by_test[test]
        measured = [t["measured"] for t in trials]
        resumed = [m["resumed_s"] for m in measured if m.get("resumed_s") is not None]
        ended = [m["finished_s"] for m in measured if m.get("finished_s") is not None]
        survived = sum(t["outcome"] == "passed" for t in trials)
        lost, duplicates = summed(measured, "rows_lost"), summed(measured, "duplicate_rows")
        name = SCENARIOS.get(test, test)
        rows.append(
            f"| {name} | {len(trials)} | {survived} | {lost} | {duplicates} | {seconds(resumed)} | {seconds(ended)} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability", description=__doc__)
    parser.add_argument("--trials", type=int, default=5, help="0: no fault matrix")
    parser.add_argument("--fuzz-cases", type=int, default=10_000, help="requests the fuzzer generates; 0: none")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "reliability.json", help="the trials, as JSON")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments, e.g. -k sigkill")
    args = parser.parse_args(argv)
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    codes = [0]
    if args.trials > 0:
        codes.append(faults(args, when))
    if args.fuzz_cases > 0:
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp) / "fuzz.json"
            codes.append(fuzz(args.fuzz_cases, report))
            if not report.exists():
                print("the fuzzer reported nothing", file=sys.stderr)
                return max(codes) or 1
            line = fuzz_line(json.loads(report.read_text(encoding="utf-8")), args.fuzz_cases, when)
        print(line)
        write_section(args.readme, "fuzzing", line)
    return max(codes)


def faults(args: argparse.Namespace, when: str) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "faults.jsonl"
        code = run(args.trials, report, args.pytest_args)
        lines = [json.loads(x) for x in report.read_text(encoding="utf-8").splitlines()] if report.exists() else []
    if not lines:
        print("no fault trial reported anything", file=sys.stderr)
        return code or 1
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(lines, ensure_ascii=False, indent=1), encoding="utf-8")
    body = (
        f"{table(lines)}\n\n"
        f"Measured by `make reliability TRIALS={args.trials}` on {when} ({platform.machine()}, "
        f"{len(os.sched_getaffinity(0))} cores, MariaDB and Redis on the same machine)."
    )
    print(body)
    write_section(args.readme, "reliability", body)
    return code


if __name__ == "__main__":
    sys.exit(main())
