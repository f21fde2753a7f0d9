"""Reading uploads and splitting datasets: pure code, no database."""

import io
import json
import re
import tempfile
import tracemalloc
from collections import Counter

import pytest

from utils import dataset_files
from utils.dataset_files import (
    Conflict,
    FileError,
    FirstCopies,
    ReadOptions,
    Rejection,
    Row,
    check_encoding,
    choose_encoding,
    choose_format,
    read_dataset,
    text_key,
)
from utils.rule_files import RuleError, read_rules
from utils.splitting import dev_from_train, parse_ratios, stratified_split


def read(content: bytes, **options: object) -> list[Row | Rejection | Conflict]:
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
    assert items == [Row(2, "a\nb\nc", ("x",), None), Row(5, "d", ("y",), None), Rejection(6, "no_label", "no label")]


def test_labels_are_trimmed_deduplicated_and_doccano_span_lists_read() -> None:
    content = b'{"text": "t1", "label": [" a ", "a", "b"]}\n{"text": "t2", "label": [[0, 2, "c"]]}\n'
    assert read(content) == [Row(1, "t1", ("a", "b"), None), Row(2, "t2", ("c",), None)]


@pytest.mark.parametrize(
    ("line", "options", "kind", "reason"),
    [
        (b'{"text": 5, "label": ["a"]}', {}, "no_text", "no text in field 'text'"),
        (b'{"text": "x", "label": {"a": 1}}', {}, "bad_label", "labels must be a list of strings, found dict"),
        (b'{"text": "x", "label": [1]}', {}, "bad_label", "label 1 is not a string"),
        (b'{"text": "x", "label": ["' + b"a" * 101 + b'"]}', {}, "bad_label", "longer than 100 characters"),
        (b'["x", "a"]', {}, "invalid_record", "expected a JSON object, found list"),
        (b'{"text": "x" "label": ["a"]}', {}, "invalid_record", "not valid JSON: Expecting ','"),
        (b'{"text": " ", "label": ["a"]}', {}, "empty_text", "empty text"),
        (b'{"text": "x\\ud800", "label": ["a"]}', {}, "bad_text", "a lone surrogate"),
        (b'{"text": "xx", "label": ["a"]}', {"max_text_chars": 1}, "text_too_long", "text of 2 characters"),
        (b'{"text": "x", "label": []}', {}, "no_label", "no label"),
        (b'{"text": "x", "label": ["z"]}', {"label_set": frozenset("a")}, "label_not_in_set", "'z' is not in"),
        (b'{"text": "x", "label": ["a"], "s": "holdout"}', {"split_field": "s"}, "bad_split", "split 'holdout'"),
    ],
)
def test_row_level_problems_are_rejections_of_a_kind(line: bytes, options: dict, kind: str, reason: str) -> None:
    [item] = read(line + b"\n", format="jsonl", **options)
    assert isinstance(item, Rejection) and (item.line, item.kind) == (1, kind), item
    assert reason in item.reason, item.reason


def test_rules_all_or_nothing() -> None:
    good = read_rules(io.BytesIO("label,keyword\n体育,足球\n".encode()), "r.csv")
    assert [(r.label, r.pattern, r.kind, r.weight) for r in good] == [("体育", "足球", "keyword", 1.0)]
    with pytest.raises(RuleError, match="line 3: weight 'inf' is not a finite number"):
        read_rules(io.BytesIO(b"label,pattern,weight\na,b,1\nc,d,inf\n"), "r.csv")
    with pytest.raises(FileError, match="not valid utf-8"):
        read_rules(io.BytesIO("label,pattern\n体育,足球\n".encode("gb18030")), "r.csv", encoding="utf-8")


def test_text_of_control_characters_only_is_empty_and_labels_with_them_reject_their_row() -> None:
    content = (
        b'{"text": "\\u0000", "label": ["a"]}\n'
        b'{"text": "\\u0001\\u0002 \\u200b", "label": ["a"]}\n'
        b'{"text": "ok \\u0000 inside", "label": ["a"]}\n'
        b'{"text": "t2", "label": ["a\\u0000"]}\n'
        b'{"text": "t3", "label": ["b\\u0085c"]}\n'
        b'{"text": "t4", "label": [" b ", "b\\u3000"]}\n'
    )
    assert read(content) == [
        Rejection(1, "empty_text", "empty text: only control characters"),
        Rejection(2, "empty_text", "empty text: only control characters"),
        Row(3, "ok \x00 inside", ("a",), None),  # a stray control character among text is kept as written
        Rejection(4, "bad_label", "label 'a\\x00' holds a control character"),
        Rejection(5, "bad_label", "label 'b\\x85c' holds a control character"),
        Row(6, "t4", ("b",), None),  # surrounding whitespace is trimmed, so both are one label
    ]
    with pytest.raises(RuleError, match=r"line 3: label 'x\\x01' holds a control character"):
        read_rules(io.BytesIO(b"label,pattern\na,b\nx\x01,c\n"), "r.csv")


def test_utf8_is_detected_despite_a_few_bad_bytes_and_only_their_rows_are_rejected() -> None:
    rows = [f'{{"text": "第{i}条中文内容", "label": ["体育"]}}\n'.encode() for i in range(50)]
    rows[2] = rows[2].replace("中".encode(), b"\xff")  # one bad byte in the first MiB
    rows[40] = rows[40].replace("文".encode(), "文".encode()[:2])  # a character cut short
    items = read(b"".join(rows))
    assert [item for item in items if isinstance(item, Rejection)] == [
        Rejection(3, "bad_text", "bytes that are not valid utf-8"),
        Rejection(41, "bad_text", "bytes that are not valid utf-8"),
    ]
    assert len(items) == 50
    # ASCII with one stray byte that no candidate encoding decodes: UTF-8, that row rejected
    ascii_rows = b"text,label\n" + b"".join(b"row %d,a\n" % i for i in range(200)) + b"bad \xff,a\n"
    assert read(ascii_rows, format="csv")[-1] == Rejection(202, "bad_text", "bytes that are not valid utf-8")
    # GB18030 and Big5 text leave most of their non-ASCII bytes invalid UTF-8: still detected
    text = "今天天气很好，我们去公园散步吧。这家餐厅的牛肉面非常好吃！" * 20
    assert choose_encoding("auto", text.encode("gb18030")) == "gb18030"


@pytest.mark.parametrize("encoding", ["\x00", "utf-8\x00", "klingon", "rot13", "idna", "x" * 100])
def test_an_unusable_encoding_is_a_file_error_never_a_crash(encoding: str) -> None:
    with pytest.raises(FileError, match=r"^encoding: "):
        choose_encoding(encoding, b"text,label\n")
    with pytest.raises(ValueError):
        check_encoding(encoding)


def quoted(text: str) -> str:
    return text.replace('"', '""')


def test_records_are_the_same_whatever_size_the_pieces_are_read_in(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{"text": f'引号"与\\反斜杠{i}\r\n换行', "label": ["a", "b"]} for i in range(30)]
    files = {
        "jsonl": "".join(json.dumps(r, ensure_ascii=False) + "\r\n" for r in rows).encode(),
        "json": json.dumps({"meta": {"x": "]}"}, "data": rows}, ensure_ascii=False).encode(),
        "csv": ("text,label\r\n" + "".join(f'"{quoted(r["text"])}",a#b\r' for r in rows)).encode(),
    }
    whole = {fmt: read(content, format=fmt) for fmt, content in files.items()}
    assert all(len(items) == 30 and all(isinstance(i, Row) for i in items) for items in whole.values())
    assert [r.line for r in whole["csv"]][:3] == [2, 4, 6]  # a record over two lines: \r\n inside, \r after
    monkeypatch.setattr(dataset_files, "READ_CHUNK", 3)  # a character, an escape or \r\n cut in two
    for fmt, content in files.items():
        assert read(content, format=fmt) == whole[fmt], fmt


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'[{"text": "a", "label": "x"}, 5, {"text": \'b\'}, {"text": "c", "label": "x"}]', [1, 2, 3, 4]),
        (b'{"data": [{"text": "a", "label": "x"}], "more": [1, {"b": "]"}]}', [1]),
        (b"[]", []),
    ],
)
def test_json_arrays_are_read_item_by_item(content: bytes, expected: list[int]) -> None:
    items = read(content, format="json")
    assert [item.line for item in items] == expected
    if len(items) == 4:
        assert items[1] == Rejection(2, "invalid_record", "item 2: expected an object, found int")
        assert items[2].reason.startswith("item 3: not valid JSON")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b'[{"text": "a", "label": "x"}', "file: not valid JSON: , or ] expected after item 1"),
        (b'[{"text": "a", "label": "x"}] [', "more after the end of the document"),
        (b'{"rows": []}', 'must be an array of objects (or {"data": [...]})'),
        (b'[{"text": "a', "the file ends inside a value"),
        (b"[" * 1000, "file: JSON nested too deeply"),
    ],
)
def test_a_broken_json_document_is_refused(content: bytes, needle: str) -> None:
    with pytest.raises(FileError, match=re.escape(needle)):
        read(content, format="json")


# One record of 95 MiB, in each format; a 95 MiB upload took about 365 MB to refuse before.
HUGE = 95 << 20
SHAPES = {
    "jsonl": (b'{"text": "', b'", "label": ["a"]}\n'),
    "json": (b'[{"text": "', b'", "label": ["a"]}, {"text": "ok", "label": "a"}]'),
    "csv": (b'text,label\n"', b'",a\nok,a\n'),
}


# Many lines in one quoted field is a shape only CSV has.
HUGE_RECORDS = [(fmt, fill) for fmt in SHAPES for fill in ("x", "长")] + [("csv", "x" * 1023 + "\n")]


@pytest.mark.parametrize(("fmt", "fill"), HUGE_RECORDS)
def test_a_huge_record_is_rejected_without_being_held(fmt: str, fill: str) -> None:
    before, after = SHAPES[fmt]
    unit = fill.encode()
    with tempfile.TemporaryFile() as file:
        file.write(before)
        block = unit * ((1 << 20) // len(unit))
        for _ in range(HUGE // len(block)):
            file.write(block)
        file.write(after)
        file.seek(0)
        tracemalloc.start()
        try:
            items = list(read_dataset(file, ReadOptions(format=fmt)))  # type: ignore[arg-type]
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 64 << 20, f"{peak / 2**20:.0f} MiB"
    first = 1 if fmt == "json" else 2 if fmt == "csv" else 1
    assert isinstance(items[0], Rejection) and items[0].line == first
    assert "a record of more than 1,648,576 characters" in items[0].reason
    if fmt != "jsonl":  # the row after it is read, on its own line
        assert items[1] == Row(2 if fmt == "json" else items[1].line, "ok", ("a",), None)  # type: ignore[union-attr]


def jsonl(*rows: tuple[str, list[str]]) -> bytes:
    return "".join(json.dumps({"text": t, "label": labels}, ensure_ascii=False) + "\n" for t, labels in rows).encode()


def test_a_repeat_has_the_first_copys_labels_and_a_conflict_other_ones() -> None:
    content = jsonl(
        ("足球", ["体育", "财经"]),
        ("股票", ["财经"]),
        ("足球 ", ["财经", "体育"]),  # the same text once normalised, the same labels in another order
        ("足球", ["体育"]),
        ("ＦＯＯＴ", ["体育"]),
        ("足球", ["美食"]),
        ("股票", ["财经"]),
        ("足球", ["体育"]),  # the same labels as line 4, yet not as the first copy: a conflict
        ("foot", ["体育"]),  # full width and case fold to the text of line 5
    )
    assert read(content) == [
        Row(1, "足球", ("体育", "财经"), None),
        Row(2, "股票", ("财经",), None),
        Rejection(3, "repeat", "repeat of line 1"),
        Conflict(4, 1, ("体育",), ("体育", "财经"), first_of_text=True),
        Row(5, "ＦＯＯＴ", ("体育",), None),
        Conflict(6, 1, ("美食",), ("体育", "财经"), first_of_text=False),
        Rejection(7, "repeat", "repeat of line 2"),
        Conflict(8, 1, ("体育",), ("体育", "财经"), first_of_text=False),
        Rejection(9, "repeat", "repeat of line 5"),
    ]


def test_first_copies_cost_a_key_and_an_int_per_text() -> None:
    """What the reader keeps per distinct text: not the text, not a tuple per text."""
    copies = FirstCopies()
    keys = [text_key(f"第{i}条") for i in range(100_000)]
    labels = [("体育",), ("财经",), ("体育", "财经")]
    tracemalloc.start()
    for line, key in enumerate(keys, start=1):
        copies.see(key, line, labels[line % 3])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 100_000 * 140, peak  # a dict slot and one packed int per text (a tuple would add 56 bytes)
    assert copies.see(keys[42], 200_000, ("财经",)) == Rejection(200_000, "repeat", "repeat of line 43")
    assert copies.see(keys[42], 200_001, ("体育",)) == Conflict(200_001, 43, ("体育",), ("财经",), True)
    assert copies.see(keys[42], 200_002, ("美食",)) == Conflict(200_002, 43, ("美食",), ("财经",), False)


def test_dev_from_train_moves_a_stratified_seeded_share_of_train_and_keeps_the_rest() -> None:
    strata = ["a"] * 300 + ["b"] * 100 + ["a"] * 50 + ["b"] * 5
    splits = ["train"] * 400 + ["test"] * 50 + ["dev"] * 5
    moved = dev_from_train(strata, splits, 0.1, seed=5)
    assert moved[400:] == splits[400:]  # test and dev rows stay as they were
    assert Counter((s, m) for s, m in zip(strata[:400], moved[:400], strict=True)) == {
        ("a", "train"): 270, ("a", "dev"): 30, ("b", "train"): 90, ("b", "dev"): 10,
    }  # fmt: skip
    assert moved == dev_from_train(strata, splits, 0.1, seed=5)
    assert moved != dev_from_train(strata, splits, 0.1, seed=6)
    # Largest remainder: 7 train rows at 0.5 give 4 (3.5 rounds up), never more than there are.
    assert dev_from_train(["a"] * 7, ["train"] * 7, 0.5, seed=1).count("dev") == 4
    for share in (0.0, 1.0, float("nan"), -0.1):
        with pytest.raises(ValueError, match="between 0 and 1"):
            dev_from_train(strata, splits, share, seed=1)
