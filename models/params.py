"""Training parameters per model type: names, types, ranges and defaults.

`validate_params` returns the parameters with every default filled in, so two requests that mean
the same training (one naming a default, one leaving it out) give identical dicts and hash alike.
Errors name the field as a request sees it (`params.C`) and say what was expected.
"""

import copy
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from models.tokenizing import DEFAULT_NGRAMS, TOKENIZERS

MODEL_TYPES = ("keyword", "regex", "term_weight", "linear_svc", "complement_nb", "sgd")
RULE_TYPES = ("keyword", "regex")
MAX_NGRAM = 5
MAX_WORDS = 50_000  # user_dict and stop_words entries
MAX_WORD_CHARS = 100


class ParamError(ValueError):
    """A model type or parameter that cannot be used; `field` is e.g. "params.C"."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


@dataclass(frozen=True)
class Spec:
    default: Any
    check: Callable[[str, Any], Any]


def _integer(low: int, high: int, optional: bool = False) -> Callable[[str, Any], Any]:
    def check(name: str, value: Any) -> Any:
        if value is None and optional:
            return None
        # bool is an int subclass in Python; `true` for a count is a mistake, not 1.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamError(name, f"must be an integer{' or null' if optional else ''}, not {_kind(value)}")
        if not low <= value <= high:
            raise ParamError(name, f"must be between {low:,} and {high:,}, not {value:,}")
        return value

    return check


def _number(low: float, high: float) -> Callable[[str, Any], Any]:
    """A finite float with low < value <= high."""

    def check(name: str, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParamError(name, f"must be a number, not {_kind(value)}")
        if not math.isfinite(value) or not low < value <= high:
            raise ParamError(name, f"must be greater than {low:g} and at most {high:g}, not {value!r}")
        return float(value)

    return check


def _optional_score(name: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParamError(name, f"must be a finite number or null, not {value!r}")
    return float(value)


def _boolean(name: str, value: Any) -> Any:
    if not isinstance(value, bool):
        raise ParamError(name, f"must be true or false, not {_kind(value)}")
    return value


def _choice(*options: Any) -> Callable[[str, Any], Any]:
    def check(name: str, value: Any) -> Any:
        if value not in options or isinstance(value, bool):
            shown = ", ".join("null" if o is None else repr(o) for o in options)
            raise ParamError(name, f"must be one of {shown}, not {value!r}")
        return value

    return check


def _ngram_range(name: str, value: Any) -> Any:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or any(isinstance(v, bool) or not isinstance(v, int) for v in value)
    ):
        raise ParamError(name, f"must be [min, max], two integers, not {value!r}")
    low, high = value
    if not 1 <= low <= high <= MAX_NGRAM:
        raise ParamError(name, f"must satisfy 1 <= min <= max <= {MAX_NGRAM}, not [{low}, {high}]")
    return [low, high]


def _words(name: str, value: Any) -> Any:
    if not isinstance(value, list | tuple):
        raise ParamError(name, f"must be a list of words, not {_kind(value)}")
    if len(value) > MAX_WORDS:
        raise ParamError(name, f"at most {MAX_WORDS:,} words, not {len(value):,}")
    words = []
    for index, word in enumerate(value):
        if not isinstance(word, str) or not word.strip():
            raise ParamError(f"{name}[{index}]", f"must be a non-empty text, not {word!r}")
        if len(word) > MAX_WORD_CHARS:
            raise ParamError(f"{name}[{index}]", f"longer than {MAX_WORD_CHARS} characters")
        try:
            word.encode()
        except UnicodeEncodeError:
            raise ParamError(f"{name}[{index}]", "not valid Unicode (lone surrogate)") from None
        words.append(word.strip())
    # A set of words: order and repeats change nothing, so they must not change a training's identity.
    return sorted(set(words))


# Shared by every scikit-learn type: how texts become TF-IDF features, thresholds and the minimum score.
_FEATURES = {
    "tokenizer": Spec("jieba", _choice(*TOKENIZERS)),
    "ngram_range": Spec(None, _ngram_range),  # default depends on the tokenizer (DEFAULT_NGRAMS)
    "user_dict": Spec([], _words),
    "stop_words": Spec([], _words),
    "to_simplified": Spec(False, _boolean),
    "max_features": Spec(200_000, _integer(1, 10_000_000, optional=True)),
    "min_df": Spec(1, _integer(1, 1_000_000)),
    "sublinear_tf": Spec(True, _boolean),
    "tune_thresholds": Spec(True, _boolean),
    # Single-label models: below this best score a text gets no label (null: always the best label).
    "min_score": Spec(None, _optional_score),
}
_CLASS_WEIGHT = Spec(None, _choice("balanced", None))

SPECS: dict[str, dict[str, Spec]] = {
    "keyword": {"min_score": Spec(None, _optional_score)},
    "regex": {"min_score": Spec(None, _optional_score)},
    "term_weight": {**_FEATURES, "C": Spec(10.0, _number(0, 1e6)), "class_weight": _CLASS_WEIGHT},
    "linear_svc": {**_FEATURES, "C": Spec(1.0, _number(0, 1e6)), "class_weight": _CLASS_WEIGHT},
    "complement_nb": {**_FEATURES, "alpha": Spec(0.3, _number(0, 1e3))},
    "sgd": {
        **_FEATURES,
        "loss": Spec("modified_huber", _choice("hinge", "log_loss", "modified_huber")),
        "alpha": Spec(1e-4, _number(0, 10)),
        "class_weight": _CLASS_WEIGHT,
    },
}


def validate_params(model_type: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parameters checked, with every default filled in; ParamError names the first bad one."""
    if model_type not in MODEL_TYPES:
        raise ParamError("model_type", f"unknown model type {model_type!r}; one of {', '.join(MODEL_TYPES)}")
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise ParamError("params", f"must be an object, not {_kind(params)}")
    specs = SPECS[model_type]
    for name in params:
        if name not in specs:
            allowed = ", ".join(sorted(specs, key=str.casefold))
            raise ParamError(f"params.{name}", f"unknown parameter for {model_type}; allowed: {allowed}")
    checked = {
        name: spec.check(f"params.{name}", params[name]) if name in params else copy.deepcopy(spec.default)
        for name, spec in specs.items()
    }
    if "tokenizer" in checked:
        if checked["ngram_range"] is None:
            checked["ngram_range"] = list(DEFAULT_NGRAMS[checked["tokenizer"]])
        if checked["user_dict"] and checked["tokenizer"] != "jieba":
            raise ParamError("params.user_dict", "only used with tokenizer 'jieba'")
    return checked
