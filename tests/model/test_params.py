"""models.params.validate_params: defaults filled in, bad input named."""

import pytest

from models.params import MODEL_TYPES, SPECS, ParamError, validate_params


def test_defaults_are_filled_in_so_equal_trainings_compare_equal() -> None:
    filled = validate_params("term_weight", {})
    assert filled == validate_params("term_weight", {"C": 10, "tokenizer": "jieba", "ngram_range": [1, 1]})
    assert filled["ngram_range"] == [1, 1] and filled["C"] == 10.0 and isinstance(filled["C"], float)
    assert validate_params("linear_svc", {"tokenizer": "char"})["ngram_range"] == [1, 2]  # char default
    assert validate_params("keyword", {}) == {"min_score": None}
    assert validate_params("regex", None) == {"min_score": None}
    assert validate_params("sgd", {"ngram_range": (1, 3)})["ngram_range"] == [1, 3]
    for model_type in MODEL_TYPES:
        assert set(validate_params(model_type, {})) == set(SPECS[model_type])


def test_defaults_are_not_shared_between_calls() -> None:
    first = validate_params("complement_nb", {})
    first["stop_words"].append("的")
    assert validate_params("complement_nb", {})["stop_words"] == []


@pytest.mark.parametrize(
    ("model_type", "params", "field", "reason"),
    [
        ("term_weight", {"gamma": 1}, "params.gamma", "unknown parameter for term_weight; allowed: C,"),
        ("keyword", {"C": 1.0}, "params.C", "allowed: min_score"),
        ("term_weight", {"C": "1"}, "params.C", "must be a number, not str"),
        ("term_weight", {"C": True}, "params.C", "must be a number, not bool"),
        ("term_weight", {"C": 0}, "params.C", "greater than 0"),
        ("term_weight", {"C": float("nan")}, "params.C", "greater than 0"),
        ("term_weight", {"min_df": True}, "params.min_df", "must be an integer, not bool"),
        ("term_weight", {"min_df": 2.0}, "params.min_df", "must be an integer, not float"),
        ("term_weight", {"min_df": 0}, "params.min_df", "between 1 and"),
        ("term_weight", {"max_features": -5}, "params.max_features", "between 1 and"),
        ("term_weight", {"max_features": False}, "params.max_features", "integer or null, not bool"),
        ("term_weight", {"class_weight": "auto"}, "params.class_weight", "one of 'balanced', null"),
        ("term_weight", {"tokenizer": "spacy"}, "params.tokenizer", "one of 'jieba', 'char'"),
        ("term_weight", {"ngram_range": [2, 1]}, "params.ngram_range", "1 <= min <= max <= 5"),
        ("term_weight", {"ngram_range": [1, 9]}, "params.ngram_range", "1 <= min <= max <= 5"),
        ("term_weight", {"ngram_range": [1, True]}, "params.ngram_range", "two integers"),
        ("term_weight", {"ngram_range": "1,2"}, "params.ngram_range", "two integers"),
        ("term_weight", {"to_simplified": 1}, "params.to_simplified", "true or false, not int"),
        ("term_weight", {"tune_thresholds": "yes"}, "params.tune_thresholds", "true or false"),
        ("term_weight", {"user_dict": "打工人"}, "params.user_dict", "list of words, not str"),
        ("term_weight", {"user_dict": ["打工人", ""]}, "params.user_dict[1]", "non-empty text"),
        ("term_weight", {"stop_words": [1]}, "params.stop_words[0]", "non-empty text"),
        ("term_weight", {"tokenizer": "char", "user_dict": ["x"]}, "params.user_dict", "only used with tokenizer"),
        ("complement_nb", {"alpha": -1}, "params.alpha", "greater than 0"),
        ("sgd", {"loss": "squared_error"}, "params.loss", "one of 'hinge', 'log_loss', 'modified_huber'"),
        ("regex", {"min_score": "2"}, "params.min_score", "finite number or null"),
    ],
)
def test_bad_params_name_the_field_and_reason(model_type: str, params: dict, field: str, reason: str) -> None:
    with pytest.raises(ParamError) as caught:
        validate_params(model_type, params)
    assert caught.value.field == field
    assert reason in caught.value.reason
    assert str(caught.value) == f"{field}: {caught.value.reason}"
    assert isinstance(caught.value, ValueError)


def test_unknown_model_type_and_params_that_are_not_an_object() -> None:
    with pytest.raises(ParamError) as caught:
        validate_params("random_forest", {})
    assert caught.value.field == "model_type" and "term_weight" in caught.value.reason
    with pytest.raises(ParamError) as not_object:
        validate_params("sgd", [("alpha", 1)])  # type: ignore[arg-type]
    assert not_object.value.field == "params"
