"""Keyword rule model: a label applies when any of its keywords occurs in the text.

Matching uses one literal pattern set over all keywords (`models.literals`: Hyperscan, or an
Aho-Corasick automaton), so the cost per text is linear in its length whatever the number of
keywords. A row may get several labels; a label's score is the summed weight of its distinct
keywords found in the text. With `min_score`, labels scoring
less are left out (for example 2.0: two keywords, or one heavy one).
"""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from models.base import RowLabels
from models.literals import LiteralMatcher
from models.versions import installed_versions
from utils.text import normalize


@dataclass(frozen=True)
class KeywordRule:
    label: str
    keyword: str
    weight: float = 1.0


class KeywordModel:
    kind = "keyword"
    takes_utf8 = True
    multi_label = True  # every label whose keywords match

    def __init__(self, rules: Iterable[KeywordRule], min_score: float | None = None) -> None:
        self.rules = list(rules)
        self.min_score = min_score
        self._matcher: LiteralMatcher | None = None
        # The labels and weights of each keyword, by the keyword's number in the matcher.
        self._targets: list[tuple[tuple[int, float], ...]] = []
        self._alone: list[tuple[tuple[str, float], ...]] = []

    @property
    def labels_(self) -> list[str]:
        return sorted({rule.label for rule in self.rules})

    def _build(self) -> LiteralMatcher:
        if not self.rules:
            raise ValueError("a keyword model needs at least one rule")
        label_index = {label: i for i, label in enumerate(self.labels_)}
        # keyword -> {label index: weight}; the same keyword may serve several labels.
        targets: dict[str, dict[int, float]] = {}
        for rule in self.rules:
            keyword = normalize(rule.keyword).strip()
            if not keyword:
                raise ValueError(f"empty keyword for label {rule.label!r}")
            per_label = targets.setdefault(keyword, {})
            per_label[label_index[rule.label]] = max(per_label.get(label_index[rule.label], 0.0), rule.weight)
        self._targets = [tuple(per_label.items()) for per_label in targets.values()]
        # What a text with that one keyword gets, as predict would sum it: most labeled posts have one.
        names, floor = self.labels_, self.min_score
        self._alone = [
            tuple((names[i], 0.0 + w) for i, w in sorted(target) if floor is None or 0.0 + w >= floor)
            for target in self._targets
        ]
        return LiteralMatcher(list(targets))

    @property
    def matcher(self) -> LiteralMatcher:
        if self._matcher is None:
            self._matcher = self._build()
        return self._matcher

    def predict(self, texts: Sequence[str] | Sequence[bytes]) -> list[RowLabels]:
        found = self.matcher.found_in(texts)  # builds the matcher and `_targets` on first use
        targets = self._targets
        names = self.labels_
        floor = self.min_score
        out: list[RowLabels] = []
        alone = self._alone
        for numbers in found:
            if len(numbers) < 2:
                out.append([*alone[next(iter(numbers))]] if numbers else [])
                continue
            scores: dict[int, float] = {}
            for number in numbers:
                for label, weight in targets[number]:
                    scores[label] = scores.get(label, 0.0) + weight
            out.append([(names[i], scores[i]) for i in sorted(scores) if floor is None or scores[i] >= floor])
        return out

    def library_versions(self) -> dict[str, str]:
        """For the record only: the model is stored as JSON, so no version is checked on loading."""
        return installed_versions(["hyperscan", "ahocorasick-rs"])

    def to_bytes(self) -> bytes:
        data: dict = {"kind": self.kind, "rules": [[r.label, r.keyword, r.weight] for r in self.rules]}
        if self.min_score is not None:  # absent otherwise, so models stored before keep their bytes
            data["min_score"] = self.min_score
        return json.dumps(data, ensure_ascii=False).encode()

    @classmethod
    def from_dict(cls, data: dict) -> "KeywordModel":
        min_score = data.get("min_score")
        rules = (KeywordRule(str(label), str(kw), float(w)) for label, kw, w in data["rules"])
        return cls(rules, None if min_score is None else float(min_score))
