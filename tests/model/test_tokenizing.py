"""models.tokenizing.Tokenizer: normalisation, jieba words or char n-grams, user words, stop words."""

import pickle

import jieba
import pytest

from models.tokenizing import Tokenizer


def test_jieba_words_are_normalised_and_punctuation_dropped() -> None:
    tokens = Tokenizer().tokens("ＮＢＡ总决赛\u200b太好看了！！😂️ ")
    assert tokens == ["nba", "总决赛", "太", "好看", "了", "😂"]


def test_user_dict_changes_segmentation_of_that_model_only() -> None:
    assert Tokenizer().tokens("打工人太难了")[:2] == ["打", "工人"]
    assert Tokenizer(user_dict=["打工人"]).tokens("打工人太难了")[0] == "打工人"
    # Neither another tokenizer nor jieba's global one learnt the word.
    assert Tokenizer().tokens("打工人太难了")[:2] == ["打", "工人"]
    assert "打工人" not in jieba.dt.FREQ


def test_user_dict_words_are_normalised_like_texts() -> None:
    assert "iphone16" in Tokenizer(user_dict=["ＩＰｈｏｎｅ16"]).tokens("新的iPhone16到了")


def test_stop_words_are_removed() -> None:
    assert Tokenizer(stop_words=["我", "了"]).tokens("我爱北京了") == ["爱", "北京"]
    assert Tokenizer("char", stop_words=["难了"]).tokens("太难了吧") == ["太", "吧"]


def test_to_simplified_maps_traditional_script() -> None:
    assert Tokenizer("char", ngram_range=[2, 2], to_simplified=True).features("臺灣") == ["台湾"]
    assert Tokenizer(to_simplified=True).tokens("臺灣的颱風") == Tokenizer().tokens("台湾的台风")
    assert Tokenizer("char", ngram_range=[2, 2]).features("臺灣") == ["臺灣"]  # off by default


def test_char_ngrams_do_not_span_gaps() -> None:
    assert Tokenizer("char").features("好吃， 真香") == ["好", "吃", "好吃", "真", "香", "真香"]
    assert Tokenizer("char", ngram_range=[2, 3]).features("a糖b") == ["a糖", "糖b", "a糖b"]
    assert Tokenizer("char", stop_words=["的"], ngram_range=[2, 2]).features("我的猫") == []


def test_word_ngrams() -> None:
    assert Tokenizer(ngram_range=[1, 2]).features("我爱北京") == ["我", "爱", "北京", "我 爱", "爱 北京"]


def test_pickled_tokenizer_rebuilds_its_dictionary() -> None:
    tokenizer = Tokenizer(user_dict=["打工人"], stop_words=["了"], to_simplified=True)
    expected = tokenizer.tokens("打工人太難了")
    blob = pickle.dumps(tokenizer)
    assert b"FREQ" not in blob and len(blob) < 2_000  # the dictionary is not pickled
    restored = pickle.loads(blob)
    assert restored.tokens("打工人太難了") == expected == ["打工人", "太难"]


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="tokenizer must be one of"):
        Tokenizer("spacy")
    with pytest.raises(ValueError, match="user_dict only applies"):
        Tokenizer("char", user_dict=["x"])
    with pytest.raises(ValueError, match="ngram_range"):
        Tokenizer(ngram_range=[0, 1])
