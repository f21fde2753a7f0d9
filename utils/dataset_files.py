"""Reading uploaded labeled datasets: doccano JSONL/JSON/CSV exports, plain CSV/TSV.

Files are read as a stream of rows (JSON arrays excepted, which are bounded by the upload limit),
so memory does not grow with the file. A problem with the whole file (encoding, format, header)
raises FileError; a problem with one row yields a Rejection with its line number and reason, and
the rest of the file is read on.
"""

import codecs
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Literal

from charset_normalizer import from_bytes

from utils.text import normalize

Format = Literal["auto", "jsonl", "json", "csv", "tsv"]
FORMATS: tuple[str, ...] = ("jsonl", "json", "csv", "tsv")
SPLITS = ("train", "dev", "test")
_SPLIT_ALIASES = {"train": "train", "dev": "dev", "valid": "dev", "validation": "dev", "val": "dev", "test": "test"}
# Encodings seen in Simplified- and Traditional-Chinese data; detection chooses among them.
CANDIDATE_ENCODINGS = ["utf_8", "gb18030", "big5"]
MAX_LABEL_CHARS = 100
MAX_LABELS_PER_ROW = 100
DETECT_BYTES = 1 << 20
# csv's default field limit (128 KiB) is below a long post; the text length is checked per row.
csv.field_size_limit(64 << 20)


class FileError(ValueError):
    """The file as a whole cannot be read: nothing of it is stored."""


class FileTooLarge(FileError):
    """The file is over a limit of its format."""


# A JSON array is parsed whole (JSONL and CSV are streamed): its size is capped well below the
# upload limit, so one request cannot take gigabytes of memory.
JSON_ARRAY_MAX_BYTES = 16 << 20


def shown(value: object, limit: int = 40) -> str:
    """A user's value as it is echoed in a message: quoted, and cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Row:
    line: int
    text: str
    labels: tuple[str, ...]
    split: str | None


@dataclass(frozen=True)
class Rejection:
    line: int
    reason: str


@dataclass
class ReadOptions:
    format: Format = "auto"
    encoding: str = "auto"
    text_field: str = "text"
    label_field: str = "label"
    label_separator: str = "#"
    split_field: str | None = None
    label_set: frozenset[str] | None = None
    max_text_chars: int = 50_000
    filename: str = ""
    # Filled in while reading.
    detected_encoding: str = field(default="", init=False)
    detected_format: str = field(default="", init=False)


def choose_format(requested: Format, filename: str, head: bytes) -> str:
    if requested != "auto":
        return requested
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if suffix in ("jsonl", "ndjson"):
        return "jsonl"
    if suffix in ("csv", "tsv"):
        return suffix
    if suffix == "txt" and b"\t" in head.split(b"\n", 1)[0]:
        return "tsv"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"["):
        return "json"
    if stripped.startswith(b"{"):
        return "jsonl"
    raise FileError("file: cannot tell its format from its name or content; give format=jsonl, json, csv or tsv")


def choose_encoding(requested: str, head: bytes) -> str:
    """The encoding given, or the one detected: UTF-8 (with or without BOM), GB18030 or Big5."""
    if requested != "auto":
        try:
            info = codecs.lookup(requested)
        except LookupError as exc:
            raise FileError(f"encoding: unknown encoding {shown(requested)}") from exc
        if not getattr(info, "_is_text_encoding", True):
            raise FileError(f"encoding: {shown(requested)} is not a text encoding")
        # A UTF-8 file may start with a BOM whatever the user calls it; it is not part of the text.
        return "utf-8-sig" if info.name == "utf-8" and head.startswith(codecs.BOM_UTF8) else info.name
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        # The head may end inside a character: decode incrementally, leaving the tail pending.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # The window may end inside a two-byte character: detect on whole lines.
    cut = head.rfind(b"\n")
    best = from_bytes(head[: cut + 1] if cut > 0 else head, cp_isolation=CANDIDATE_ENCODINGS).best()
    if best is None:
        raise FileError("file: not UTF-8, GB18030 or Big5 text; give the encoding (encoding=...)")
    return codecs.lookup(best.encoding).name


# Lone surrogates: where `surrogateescape` kept bytes the encoding could not decode, or what a JSON
# "\\ud800" escape makes. Neither is text a database (or UTF-8) can hold.
_UNDECODED = re.compile("[\udc80-\udcff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _not_text(value: str, encoding: str) -> str | None:
    """Why `value` cannot be stored as text, or None."""
    if _UNDECODED.search(value):
        return f"bytes that are not valid {encoding}"
    if _SURROGATE.search(value):
        return "a lone surrogate (\\ud800-\\udfff), which is not valid Unicode"
    return None


def text_key(normalized: str) -> bytes:
    """What makes two texts duplicates: the same characters after normalisation."""
    return hashlib.blake2b(normalized.encode(), digest_size=16).digest()


def read_dataset(stream: IO[bytes], options: ReadOptions) -> Iterator[Row | Rejection]:
    """Rows and rejections in file order. Raises FileError for a file that cannot be read at all."""
    head = stream.read(DETECT_BYTES)
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        raise FileError("file: empty")
    options.detected_format = choose_format(options.format, options.filename, head)
    options.detected_encoding = choose_encoding(options.encoding, head)
    if options.detected_format == "json":
        size = stream.seek(0, io.SEEK_END)
        if size > JSON_ARRAY_MAX_BYTES:
            raise FileTooLarge(
                f"file: a JSON array of {size:,} bytes; JSON arrays are read whole and limited to "
                f"{JSON_ARRAY_MAX_BYTES:,} bytes: send JSONL (one object per line) instead"
            )
    stream.seek(0)
    # Undecodable bytes become lone surrogates, so one bad line is rejected, not the file.
    text = io.TextIOWrapper(stream, encoding=options.detected_encoding, errors="surrogateescape", newline="")
    try:
        records = {"jsonl": _jsonl, "json": _json_array, "csv": _delimited, "tsv": _delimited}[options.detected_format](
            text, options
        )
        seen: dict[bytes, int] = {}
        for record in records:
            if isinstance(record, Rejection):
                yield record
                continue
            line, fields = record
            yield _validate(line, fields, options, seen)
    except UnicodeError as exc:
        # A decoder that fails outright (UTF-16 without a BOM, say) rather than per character.
        raise FileError(f"file: cannot be read as {options.detected_encoding}: {exc}") from exc
    finally:
        text.detach()


def _jsonl(text: IO[str], options: ReadOptions) -> Iterator[tuple[int, dict[str, Any]] | Rejection]:
    for line_no, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Rejection(line_no, f"not valid JSON: {exc.msg} at column {exc.colno}")
            continue
        except RecursionError:
            yield Rejection(line_no, "JSON nested too deeply")
            continue
        if not isinstance(record, dict):
            yield Rejection(line_no, f"expected a JSON object, found {type(record).__name__}")
            continue
        yield line_no, record


def load_json_document(text: IO[str]) -> Any:
    """A whole JSON file, or FileError saying where and why it is not JSON."""
    try:
        return json.load(text)
    except json.JSONDecodeError as exc:
        raise FileError(f"file: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc
    except RecursionError as exc:
        raise FileError("file: JSON nested too deeply") from exc


def _json_array(text: IO[str], options: ReadOptions) -> Iterator[tuple[int, dict[str, Any]] | Rejection]:
    data = load_json_document(text)
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    if not isinstance(data, list):
        raise FileError('file: a JSON dataset must be an array of objects (or {"data": [...]})')
    # No line numbers inside one JSON document: the position in the array (from 1) stands for one.
    for position, record in enumerate(data, start=1):
        if isinstance(record, dict):
            yield position, record
        else:
            yield Rejection(position, f"item {position}: expected an object, found {type(record).__name__}")


def _delimited(text: IO[str], options: ReadOptions) -> Iterator[tuple[int, dict[str, Any]] | Rejection]:
    delimiter = "\t" if options.detected_format == "tsv" else ","
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration as exc:
        raise FileError("file: empty") from exc
    except csv.Error as exc:
        raise FileError(f"file: the header cannot be read: {exc}") from exc
    needed = [options.text_field, options.label_field] + ([options.split_field] if options.split_field else [])
    missing = [name for name in needed if name not in header]
    if missing:
        found = ", ".join(shown(h, 30) for h in header[:20]) or "nothing"
        raise FileError(f"file: the header has no column {shown(missing[0])} (found: {found})")
    line = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Rejection(line, f"not valid {options.detected_format.upper()}: {exc}")
            line = reader.line_num + 1
            continue
        if values and len(values) != len(header):
            yield Rejection(line, f"{len(values)} fields where the header has {len(header)}")
        elif values:
            record: dict[str, Any] = dict(zip(header, values, strict=True))
            raw = record.get(options.label_field) or ""
            record[options.label_field] = [p for p in raw.split(options.label_separator)] if raw else []
            yield line, record
        line = reader.line_num + 1


def _labels_of(value: object) -> list[str] | str:
    """A row's labels as a list, or the reason they cannot be read."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return f"labels must be a list of strings, found {type(value).__name__}"
    labels: list[str] = []
    for item in value:
        # doccano writes a label either as a name or, in some exports, as [start, end, name].
        name = item[-1] if isinstance(item, list) and item else item
        if not isinstance(name, str):
            return f"label {shown(item)} is not a string"
        labels.append(name)
    return labels


def _validate(line: int, record: dict[str, Any], options: ReadOptions, seen: dict[bytes, int]) -> Row | Rejection:
    text = record.get(options.text_field)
    if text is None and options.text_field == "text":
        text = record.get("data")  # older doccano exports
    if not isinstance(text, str):
        return Rejection(line, f"no text in field {shown(options.text_field)}")
    if reason := _not_text(text, options.detected_encoding):
        return Rejection(line, reason)
    normalized = normalize(text).strip()
    if not normalized:
        return Rejection(line, "empty text")
    if len(text) > options.max_text_chars:
        return Rejection(line, f"text of {len(text):,} characters; the limit is {options.max_text_chars:,}")
    raw = record.get(options.label_field, record.get("labels") if options.label_field == "label" else None)
    labels = _labels_of(raw)
    if isinstance(labels, str):
        return Rejection(line, labels)
    cleaned = list(dict.fromkeys(label.strip() for label in labels if label.strip()))
    if not cleaned:
        return Rejection(line, "no label")
    if len(cleaned) > MAX_LABELS_PER_ROW:
        return Rejection(line, f"{len(cleaned)} labels; the limit is {MAX_LABELS_PER_ROW}")
    for label in cleaned:
        if len(label) > MAX_LABEL_CHARS:
            return Rejection(line, f"label {shown(label, 30)} longer than {MAX_LABEL_CHARS} characters")
        if reason := _not_text(label, options.detected_encoding):
            return Rejection(line, f"label with {reason}")
        if options.label_set is not None and label not in options.label_set:
            return Rejection(line, f"label {shown(label)} is not in the label set")
    split = None
    if options.split_field:
        value = str(record.get(options.split_field) or "").strip().lower()
        split = _SPLIT_ALIASES.get(value)
        if split is None:
            return Rejection(line, f"split {shown(value)} is not one of train, dev, test")
    key = text_key(normalized)
    if key in seen:
        return Rejection(line, f"duplicate of the text on line {seen[key]}")
    seen[key] = line
    return Row(line, text, tuple(cleaned), split)


def label_key(labels: Iterable[str]) -> str:
    """The stratum of a row for splitting: its label combination."""
    return "\x1f".join(sorted(labels))
