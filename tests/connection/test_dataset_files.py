"""Reading uploads and splitting datasets: pure code, no database."""

import io
from collections import Counter

import pytest

from utils.dataset_files import FileError, ReadOptions, Rejection, Row, choose_encoding, choose_format, read_dataset
from utils.rule_files import RuleError, read_rules
from utils.splitting import parse_ratios, stratified_split


def read(content: bytes, **options: object) -> list[Row | Rejection]:
    return list(read_dataset(io.BytesIO(content), ReadOptions(**options)))  # type: ignore[arg-type]


def test_stratified_split_is_reproducible_and_keeps_each_stratum_proportional() -> None:
    strata = ["a"] * 500 + ["b"] * 300 + ["a\x1fb"] * 200
    first = stratified_split(strata, (0.8, 0.1, 0.1), seed=1)
    assert first == stratified_split(strata, (0.8, 0.1, 0.1), seed=1)
    assert first != stratified_split(strata, (0.8, 0.1, 0.1), seed=2)
    for stratum, size in (("a", 500), ("b", 300), ("a\x1fb", 200)):
        counts = Counter(split for split, s in zip(first, strata, strict=True) if s == stratum)
        assert counts == {"train": size * 8 // 10, "dev": size // 10, "test": size // 10}


def test_ratios_are_checked() -> None:
    assert parse_ratios("0.7, 0.2, 0.1") == (0.7, 0.2, 0.1)
    for bad in ("1,0", "a,b,c", "0.5,0.5,0.5", "0,0.5,0.5", "-0.1,0.6,0.5"):
        with pytest.raises(ValueError):
            parse_ratios(bad)


def test_format_from_name_then_content() -> None:
    assert choose_format("auto", "x.CSV", b"") == "csv"
    assert choose_format("auto", "export", b'\xef\xbb\xbf  [{"text": 1}]') == "json"
    assert choose_format("auto", "export", b'{"text": "a"}\n') == "jsonl"
    assert choose_format("tsv", "x.json", b"") == "tsv"
    with pytest.raises(FileError, match="cannot tell its format"):
        choose_format("auto", "notes", b"hello")


def test_encoding_detection_tolerates_a_character_cut_at_the_head_boundary() -> None:
    head = "中文内容".encode()[:-1]  # the detection window may end inside a character
    assert choose_encoding("auto", head) == "utf-8"
    assert choose_encoding("auto", b"\xef\xbb\xbfabc") == "utf-8-sig"
    assert choose_encoding("GBK", b"") == "gbk"


def test_csv_line_numbers_count_physical_lines() -> None:
    content = b'text,label\n"a\nb\nc",x\n"d",y\n"e",\n'
    items = read(content, format="csv")
    assert items == [Row(2, "a\nb\nc", ("x",), None), Row(5, "d", ("y",), None), Rejection(6, "no label")]


def test_labels_are_trimmed_deduplicated_and_doccano_span_lists_read() -> None:
    content = b'{"text": "t1", "label": [" a ", "a", "b"]}\n{"text": "t2", "label": [[0, 2, "c"]]}\n'
    assert read(content) == [Row(1, "t1", ("a", "b"), None), Row(2, "t2", ("c",), None)]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"text": 5, "label": ["a"]}', "no text in field 'text'"),
        (b'{"text": "x", "label": {"a": 1}}', "labels must be a list of strings, found dict"),
        (b'{"text": "x", "label": [1]}', "label 1 is not a string"),
        (b'["x", "a"]', "expected a JSON object, found list"),
    ],
)
def test_row_level_problems_are_rejections(line: bytes, reason: str) -> None:
    assert read(line + b"\n", format="jsonl") == [Rejection(1, reason)]


def test_rules_all_or_nothing() -> None:
    good = read_rules(io.BytesIO("label,keyword\n体育,足球\n".encode()), "r.csv")
    assert [(r.label, r.pattern, r.kind, r.weight) for r in good] == [("体育", "足球", "keyword", 1.0)]
    with pytest.raises(RuleError, match="line 3: weight 'inf' is not a finite number"):
        read_rules(io.BytesIO(b"label,pattern,weight\na,b,1\nc,d,inf\n"), "r.csv")
    with pytest.raises(FileError, match="not valid utf-8"):
        read_rules(io.BytesIO("label,pattern\n体育,足球\n".encode("gb18030")), "r.csv", encoding="utf-8")
