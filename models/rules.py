"""Rule model over a whole rule set: keyword rules as literals, regex rules in RE2's syntax.

A text gets every label one of whose rules matches; the label's score is the summed weight of its
distinct matching rules (a rule counts once however often it matches). Matching is on the
normalised text, as for keyword models (utils.text.normalize: NFKC, case folding, zero-width
removal): keywords are normalised the same way, and regexes are matched case-insensitively so a
pattern written `iPhone` still finds the folded `iphone`. Regexes are not normalised themselves
(that could change their meaning), so they should name half-width characters.

Keywords go through one literal search (`models.literals`) and regexes through one pattern set
(`utils.patterns`: one Hyperscan database where installed, else RE2), so the cost per text does not
grow with the number of rules; the set's bounds keep a hostile pattern from slowing a worker.
"""

import json
from collections.abc import Iterable, Sequence
from typing import Any

from models.base import RowLabels
from models.literals import LiteralMatcher
from models.versions import installed_versions
from utils.patterns import ExclusionSet, check_patterns
from utils.rule_files import KINDS, Rule
from utils.text import normalize, text_of


class RuleModel:
    kind = "regex"
    multi_label = True  # every label whose rules match

    def __init__(self, rules: Iterable[Rule], min_score: float | None = None) -> None:
        # The same (label, kind, pattern) twice counts once, with its larger weight.
        unique: dict[tuple[str, str, str], float] = {}
        for rule in rules:
            if rule.kind not in KINDS:
                raise ValueError(f"rule kind {rule.kind!r} is neither keyword nor regex")
            pattern = normalize(rule.pattern).strip() if rule.kind == "keyword" else rule.pattern
            if not pattern:
                raise ValueError(f"empty pattern for label {rule.label!r}")
            key = (rule.label, rule.kind, pattern)
            unique[key] = max(unique.get(key, rule.weight), rule.weight)
        if not unique:
            raise ValueError("a rule model needs at least one rule")
        self.rules = [Rule(label, pattern, kind, weight) for (label, kind, pattern), weight in unique.items()]
        self.min_score = min_score
        position = {label: i for i, label in enumerate(self.labels_)}
        self._label_of = [position[rule.label] for rule in self.rules]
        self._keywords: LiteralMatcher | None = None
        self._rules_of: list[tuple[int, ...]] = []  # rule numbers by keyword number
        self._regex_rules = [i for i, rule in enumerate(self.rules) if rule.kind == "regex"]
        # Checked and compiled now (within utils.patterns' time bound), so a pattern refused fails at
        # training, and a model stored before today's bounds fails where it is loaded, not while labeling.
        regexes = [self.rules[i].pattern for i in self._regex_rules]
        check_patterns(regexes, case_sensitive=False)
        self._regexes = ExclusionSet(regexes, case_sensitive=False)

    @property
    def takes_utf8(self) -> bool:
        """Keywords alone are searched in bytes; regexes want the normalized text."""
        return not self._regex_rules

    @property
    def labels_(self) -> list[str]:
        return sorted({rule.label for rule in self.rules})

    def _matcher(self) -> LiteralMatcher | None:
        if self._keywords is None:
            by_keyword: dict[str, list[int]] = {}
            for number, rule in enumerate(self.rules):
                if rule.kind == "keyword":
                    by_keyword.setdefault(rule.pattern, []).append(number)
            if not by_keyword:
                return None
            self._rules_of = [tuple(numbers) for numbers in by_keyword.values()]
            # With regexes, texts are normalized for them first, and the keywords searched in that.
            self._keywords = LiteralMatcher(list(by_keyword), raw_texts=not self._regex_rules)
        return self._keywords

    def matching_rules_in(self, texts: Sequence[str] | Sequence[bytes]) -> list[set[int]]:
        """For each text, the indices into `self.rules` of the rules that match it; keywords of all texts
        in one search."""
        matcher = self._matcher()
        if self._regex_rules:
            folded = [normalize(text_of(text)) for text in texts]
            found = [{self._regex_rules[i] for i in self._regexes.matches(text)} for text in folded]
            keywords = matcher.found_in_normalized(folded) if matcher else []
        else:
            found = [set() for _ in texts]
            keywords = matcher.found_in(texts) if matcher else []
        for rules, numbers in zip(found, keywords):  # noqa: B905 (no keyword matcher: nothing to add)
            for keyword in numbers:
                rules.update(self._rules_of[keyword])
        return found

    def predict(self, texts: Sequence[str] | Sequence[bytes]) -> list[RowLabels]:
        names = self.labels_
        out: list[RowLabels] = []
        for text, numbers in zip(texts, self.matching_rules_in(texts), strict=True):
            scores: dict[int, float] = {}
            for number in numbers if text else ():
                label = self._label_of[number]
                scores[label] = scores.get(label, 0.0) + self.rules[number].weight
            out.append(
                [(names[i], scores[i]) for i in sorted(scores) if self.min_score is None or scores[i] >= self.min_score]
            )
        return out

    def library_versions(self) -> dict[str, str]:
        """For the record only: the model is stored as JSON, so no version is checked on loading."""
        return installed_versions(["hyperscan", "ahocorasick-rs", "google-re2"])

    def to_bytes(self) -> bytes:
        data: dict[str, Any] = {
            "kind": self.kind,
            "rules": [[r.label, r.pattern, r.kind, r.weight] for r in self.rules],
        }
        if self.min_score is not None:
            data["min_score"] = self.min_score
        return json.dumps(data, ensure_ascii=False).encode()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RuleModel":
        rules = (Rule(str(label), str(pattern), str(kind), float(w)) for label, pattern, kind, w in data["rules"])
        min_score = data.get("min_score")
        return cls(rules, None if min_score is None else float(min_score))
