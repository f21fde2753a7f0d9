"""The labeled sample in tests/sample_data, as files and as the one-file upload with a split column."""

import json
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent / "sample_data"
SPLITS = ("train", "dev", "test")


def read_jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (SAMPLE / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def split_rows() -> list[dict]:
    """Every split's rows, each with its `split`."""
    return [{**row, "split": split} for split in SPLITS for row in read_jsonl(f"{split}.jsonl")]


def as_jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()


def split_upload() -> bytes:
    """split_rows() as one JSONL file: POST /documenting/datasets with split_field=split."""
    return as_jsonl(split_rows())
