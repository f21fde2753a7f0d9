"""Property-based fuzzing of the whole OpenAPI schema (schemathesis), derandomised so every run sends
the same requests: no 5xx, no invalid request accepted, every response as the schema says; with API
keys configured, no operation answers without one.

The upload operations (multipart forms) also get hostile values in their form fields — NUL, control
and bidi characters, bytes that are not UTF-8, strings of 100 kB and over the 1 MB part limit — both
drawn at random beside schemathesis's own values and, explicitly, every value in every field next to a
readable file, so a route reading the field is reached rather than stopped at the file.

FUZZ_CASES is how many generated requests the run sends in all (the default is `make test`'s short
run; `make reliability` sends 10,000); the upload operations get UPLOAD_SHARE of them each. With
FUZZ_REPORT set, the counts (requests, 5xx) are written there as JSON for the README.
"""

import json
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import ignored_auth, positive_data_acceptance

from apis.app import create_app
from settings import Settings

FUZZ_CASES = int(os.environ.get("FUZZ_CASES", "400"))
KEYED_CASES_PER_OPERATION = 3
UPLOAD_SHARE = 0.15
KEY = "fuzz-key"
MULTIPART = "multipart/form-data"

# Each is a form field's whole value; bytes are sent as they are (not UTF-8).
HOSTILE_VALUES: list[str | bytes] = [
    "\x00",
    "utf-8\x00",
    "\x00" * 40,
    "\r\n--boundary\r\n",
    "\x1b[2J\x07\x08\x7f\x85",
    "\u202e\u2066\ufeff\u200b",
    "a" * 100_000,
    "字" * (1024 * 1024 // 3 + 1),  # just over Starlette's 1 MB limit of a form field
    b"\xff\xfe\x00",
    b"\xed\xa0\x80",  # a lone surrogate, as UTF-8 would spell it
    b"gb\xa3\x31\x38\x30\x33\x30",
]
HOSTILE = st.one_of(
    st.sampled_from(HOSTILE_VALUES),
    st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp"]), min_size=1, max_size=50),
    st.text(st.characters(codec="utf-8"), max_size=40).map(lambda text: f"{text}\x00{text}"),
    st.binary(min_size=1, max_size=60),
)
# A file each upload reads without complaint, so the form's other fields are what is tested.
READABLE_FILES = {
    "/documenting/datasets": "".join(
        json.dumps({"text": f"{text} 第{i}条", "label": [label]}, ensure_ascii=False) + "\n"
        for i in range(12)
        for text, label in (("足球比赛太精彩了", "体育"), ("股市今天大涨", "财经"))
    ).encode(),
    "/documenting/rule-sets": "label,pattern\n体育,足球\n财经,股票\n".encode(),
}


@dataclass
class Tally:
    """What the run sent and how the API answered."""

    requests: int = 0
    hostile_multipart: int = 0
    per_operation: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)

    def send(self, case: Any, hostile: bool = False, headers: dict[str, str] | None = None) -> Any:
        """The case's response, counted. In process, a route's unhandled exception reaches the caller
        instead of its 500: counted as the 500 a server answers, and raised on."""
        self.requests += 1
        self.hostile_multipart += hostile
        self.per_operation[f"{case.operation.method.upper()} {case.operation.path}"] += 1
        try:
            response = case.call(headers=headers)
        except Exception as exc:
            self.statuses[500] += 1
            self.server_error(case, 500, f"{type(exc).__name__}: {exc}")
            raise
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.server_error(case, response.status_code, response.text[:300])
        return response

    def server_error(self, case: Any, status: int, what: str) -> None:
        form = {k: repr(v)[:60] for k, v in case.body.items()} if isinstance(case.body, dict) else None
        operation = f"{case.operation.method.upper()} {case.operation.path}"
        self.server_errors.append(f"{operation} {status}: {what} (form: {form!r:.300})")


@pytest.fixture(scope="module")
def tally() -> Iterator[Tally]:
    counts = Tally()
    yield counts
    report = os.environ.get("FUZZ_REPORT")
    if report:
        Path(report).write_text(
            json.dumps(
                {
                    "requests": counts.requests,
                    "operations": len(counts.per_operation),
                    "hostile_multipart": counts.hostile_multipart,
                    "server_errors": len(counts.server_errors),
                    "statuses": dict(sorted(counts.statuses.items())),
                    "examples_of_5xx": counts.server_errors[:20],
                    "per_operation": dict(counts.per_operation),
                },
                indent=1,
            ),
            encoding="utf-8",
        )


def form_fields(operation: Any) -> list[str]:
    """The plain (not file) fields of an operation's multipart form; none when it takes no form."""
    body = operation.get_body_for_media_type(MULTIPART)
    if body is None:
        return []
    return [name for name, schema in body.form_properties.items() if schema.get("format") != "binary"]


def fresh_name() -> str:
    return f"fuzz-{uuid.uuid4().hex[:12]}"


@st.composite
def hostile_forms(draw: st.DrawFn, operation: Any, fields: list[str]) -> tuple[Any, bool]:
    """A generated case; three in four get a readable file, a fresh name and hostile values in some fields."""
    case = draw(operation.as_strategy())
    if not isinstance(case.body, dict) or not draw(st.integers(0, 3)):
        return case, False
    case.body["file"] = READABLE_FILES[operation.path]
    case.body["name"] = f"fuzz-{draw(st.uuids()).hex[:12]}"
    for name in draw(st.lists(st.sampled_from(fields), min_size=1, max_size=3, unique=True)):
        case.body[name] = draw(HOSTILE)
    return case, True


def operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def fuzz(schema: Any, tally: Tally, total: int = 0, each: int = 0, **call: Any) -> list[str]:
    """Every operation's failures, each with schemathesis's explanation and reproduction.

    `each` requests per operation, or `total` in all: UPLOAD_SHARE of it to each upload, the rest even
    over the others, carrying over what an operation with few possible requests leaves unused."""
    headers = call.pop("headers", None)
    ops = operations(schema)
    uploads = [op for op in ops if form_fields(op)]
    left = total - int(total * UPLOAD_SHARE) * len(uploads)
    others_left = len(ops) - len(uploads)
    failures: list[str] = []
    for operation in ops:
        fields = form_fields(operation)
        strategy = hostile_forms(operation, fields) if fields else operation.as_strategy().map(lambda c: (c, False))
        if each:
            examples = each
        elif fields:
            examples = int(total * UPLOAD_SHARE)
        else:
            examples = max(1, left // others_left)
        sent = tally.requests

        @given(drawn=strategy)
        @settings(
            max_examples=examples,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(drawn: tuple[Any, bool]) -> None:
            case, hostile = drawn
            response = tally.send(case, hostile, headers)
            case.validate_response(response, headers=headers, **call)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:3000])
        if not fields:
            left -= tally.requests - sent
            others_left -= 1
    return failures


# Without API_KEYS the API is open by design (development); a 400 for well-formed input naming
# something that does not exist is this API's answer, not a rejected valid request.
OPEN_CHECKS: dict[str, Any] = {"excluded_checks": [positive_data_acceptance, ignored_auth]}


def test_no_5xx_and_responses_match_the_schema(services: Settings, tally: Tally) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())
    failures = fuzz(schema, tally, total=FUZZ_CASES, **OPEN_CHECKS)
    assert not failures, "\n\n".join(failures)
    assert not tally.server_errors, "\n".join(tally.server_errors)


def test_every_hostile_value_in_every_form_field(services: Settings, tally: Tally) -> None:
    """Explicit examples: each hostile value in each field of each upload, beside a readable file."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())
    uploads = [op for op in operations(schema) if form_fields(op)]
    assert {op.path for op in uploads} == set(READABLE_FILES)  # the schema describes both forms
    failures: list[str] = []
    for operation in uploads:
        for name in form_fields(operation):
            for value in HOSTILE_VALUES:
                body = {"file": READABLE_FILES[operation.path], "name": fresh_name(), name: value}
                case = operation.Case(body=body, media_type=MULTIPART)
                try:
                    case.validate_response(tally.send(case, hostile=True), **OPEN_CHECKS)
                except (Exception, BaseExceptionGroup) as exc:
                    failures.append(f"{operation.method.upper()} {operation.path} {name}={value!r:.40}: {exc}"[:2000])
    assert not failures, "\n\n".join(failures)


def test_with_keys_every_operation_refuses_requests_without_one(services: Settings, tally: Tally) -> None:
    keyed = services.model_copy(update={"api_keys": [KEY]})
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(keyed))
    failures = fuzz(schema, tally, each=KEYED_CASES_PER_OPERATION, headers={"X-API-Key": KEY},
                    additional_checks=[ignored_auth], excluded_checks=[positive_data_acceptance])  # fmt: skip
    assert not failures, "\n\n".join(failures)
