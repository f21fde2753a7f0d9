"""Stored bytes back to labelers: identical predictions, and refusal under other library versions."""

import json

import pytest

from models.codec import load_labeler
from models.loading import dump_pickled, load_model
from models.training import MODEL_TYPES, ModelVersionError, TrainedModel, train
from models.versions import installed_version

TEXTS = ["湖人今晚绝杀勇士", "基金又跌了", "来成都一定要吃火锅，排了两小时队", "", "！！", "新剧太好看了 😂"]


@pytest.fixture(scope="module")
def models(sample, sample_rules) -> dict[str, TrainedModel]:
    return {t: train(t, {}, sample["train"], sample["dev"], sample_rules) for t in MODEL_TYPES}


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_roundtrip_predicts_identically(model_type: str, models: dict[str, TrainedModel], sample) -> None:
    model = models[model_type]
    loaded = load_model(model_type, model.to_bytes(), model.library_versions())
    texts = TEXTS + [text for text, _ in sample["test"]]
    assert loaded.kind == model_type and loaded.labels_ == model.labels_
    assert loaded.predict(texts) == model.predict(texts)
    via_codec = load_labeler(model_type, model.to_bytes(), model.library_versions())
    assert via_codec.predict(texts) == model.predict(texts)


def test_rule_models_are_json_and_load_without_versions(models: dict[str, TrainedModel]) -> None:
    for kind in ("keyword", "regex"):
        blob = models[kind].to_bytes()
        assert json.loads(blob)["kind"] == kind
        assert load_labeler(blob).predict(TEXTS) == models[kind].predict(TEXTS)  # the one-argument form
        assert load_model(kind, blob, {"ahocorasick-rs": "0.1"}).predict(TEXTS) == models[kind].predict(TEXTS)


def test_a_faked_version_mismatch_is_refused(models: dict[str, TrainedModel]) -> None:
    model = models["term_weight"]
    saved = {**model.library_versions(), "scikit-learn": "0.24.2"}
    with pytest.raises(ModelVersionError) as caught:
        load_model("term_weight", model.to_bytes(), saved)
    message = str(caught.value)
    assert (
        "scikit-learn 0.24.2" in message and f"scikit-learn {installed_version('scikit-learn')} is installed" in message
    )


def test_a_patch_release_is_accepted(models: dict[str, TrainedModel]) -> None:
    model = models["sgd"]
    major, minor, *_ = installed_version("numpy").split(".")
    saved = {**model.library_versions(), "numpy": f"{major}.{minor}.999"}
    assert load_model("sgd", model.to_bytes(), saved).predict(TEXTS) == model.predict(TEXTS)


def test_missing_versions_are_refused(models: dict[str, TrainedModel]) -> None:
    model = models["linear_svc"]
    with pytest.raises(ModelVersionError, match="without the library versions"):
        load_model("linear_svc", model.to_bytes(), None)
    partial = {k: v for k, v in model.library_versions().items() if k != "jieba"}
    with pytest.raises(ModelVersionError, match="which jieba version"):
        load_model("linear_svc", model.to_bytes(), partial)
    with pytest.raises(ValueError, match="unknown model kind"):
        load_labeler(model.to_bytes())  # the one-argument form cannot check versions


def test_versions_recorded_in_the_bytes_are_checked_too(models: dict[str, TrainedModel]) -> None:
    labeler = models["complement_nb"].labeler
    versions = labeler.library_versions()
    blob = dump_pickled("complement_nb", labeler, {**versions, "scipy": "0.9.0"})
    with pytest.raises(ModelVersionError, match=r"scipy 0\.9\.0"):
        load_model("complement_nb", blob, versions)


def test_wrong_kind_or_bytes_are_refused(models: dict[str, TrainedModel]) -> None:
    blob = models["term_weight"].to_bytes()
    with pytest.raises(ValueError, match="hold a 'term_weight' model, not a 'sgd' one"):
        load_model("sgd", blob, models["term_weight"].library_versions())
    with pytest.raises(ValueError, match="not JSON"):
        load_model("keyword", blob, None)
    with pytest.raises(ValueError, match="hold a 'regex' model, not a 'keyword' one"):
        load_model("keyword", models["regex"].to_bytes(), None)
    with pytest.raises(ValueError, match="unknown model kind"):
        load_model("forest", b"\x80\x04junk", {})
