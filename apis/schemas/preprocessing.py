"""Request and response bodies of the preprocessing API (exclusion pattern sets)."""

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from apis.schemas.common import Envelope, UserName, UtcTime
from utils.patterns import MAX_PATTERN_CHARS

MAX_PATTERNS = 1_000
MAX_DESCRIPTION_CHARS = 2_000
MAX_TEST_TEXTS = 1_000
MAX_TEST_TEXT_CHARS = 200_000
MAX_TEST_TOTAL_CHARS = 500_000


def _unique(patterns: list[str]) -> list[str]:
    first: dict[str, int] = {}
    for index, pattern in enumerate(patterns):
        if pattern in first:
            raise ValueError(f"patterns[{first[pattern]}] and patterns[{index}] are the same: {pattern!r}")
        first[pattern] = index
    return patterns


SetName = UserName
Description = Annotated[str, Field(max_length=MAX_DESCRIPTION_CHARS)]
Pattern = Annotated[str, Field(min_length=1, max_length=MAX_PATTERN_CHARS)]
# Whether RE2 and Hyperscan compile them is checked by the route, off the event loop: compiling costs CPU.
Patterns = Annotated[
    list[Pattern],
    Field(
        min_length=1,
        max_length=MAX_PATTERNS,
        description="regular expressions in RE2's syntax; a text matching one is excluded",
    ),
    AfterValidator(_unique),
]
_EXAMPLE: dict[str, Any] = {
    "name": "ads",
    "description": "advertising posts",
    "patterns": [r"加微信\s*[0-9A-Za-z_-]{5,20}", r"(?i)\bpromo code\b", r"^\s*$"],
}


class PatternSetCreate(BaseModel):
    # Strict, as every request body: a number is no name or pattern.
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [_EXAMPLE]})

    name: SetName
    description: Description = ""
    patterns: Patterns


class PatternSetReplace(PatternSetCreate):
    """PUT: the whole set (an omitted description becomes empty)."""


class PatternSetPatch(BaseModel):
    """PATCH: only the fields given change."""

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [{"patterns": [r"(?i)\bpromo code\b"]}]}
    )

    name: SetName | None = None
    description: Description | None = None
    patterns: Patterns | None = None

    @model_validator(mode="after")
    def _something_given(self) -> "PatternSetPatch":
        if not self.model_fields_set:
            raise ValueError("give at least one of name, description, patterns")
        for field in sorted(self.model_fields_set):
            if getattr(self, field) is None:
                raise ValueError(f"{field} may not be null")
        return self


class PatternSetSnapshot(BaseModel):
    """The copy of a set a predicting task keeps: later edits of the set do not change the task."""

    id: int
    name: str
    patterns: list[str]


class PatternSetSummary(BaseModel):
    pattern_set_id: int
    name: str
    description: str
    pattern_count: int
    unfinished_tasks: int = Field(description="PENDING or STARTED tasks using this set; it cannot be deleted while > 0")
    created_at: UtcTime
    updated_at: UtcTime


class PatternSetDetail(Envelope, PatternSetSummary):
    patterns: list[str]


class PatternSetList(Envelope):
    pattern_sets: list[PatternSetSummary]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")


class PatternSetDeleted(Envelope):
    pattern_set_id: int
    name: str


class PatternTestRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"texts": ["加微信 abc12345 领红包", "今天天气很好", ""]}]},
    )

    texts: list[Annotated[str, Field(max_length=MAX_TEST_TEXT_CHARS)]] = Field(min_length=1, max_length=MAX_TEST_TEXTS)

    @model_validator(mode="after")
    def _bounded(self) -> "PatternTestRequest":
        total = sum(len(text) for text in self.texts)
        if total > MAX_TEST_TOTAL_CHARS:
            raise ValueError(f"texts: {total} characters in all, more than {MAX_TEST_TOTAL_CHARS}")
        return self


class TextVerdict(BaseModel):
    excluded: bool
    pattern_index: int | None = Field(description="the first pattern the text matches (lowest index)")
    pattern: str | None


class PatternTestResult(Envelope):
    pattern_set_id: int
    name: str
    excluded: int = Field(description="how many of the texts would be excluded")
    results: list[TextVerdict] = Field(description="one per text, in the order given")
