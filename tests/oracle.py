"""Expected keyword labels computed the plain way (substring tests), to check the model against."""

from collections import Counter

from models.keyword import KeywordRule
from utils.text import join_columns, normalize


def keyword_oracle(rows: list[dict], rules: list[KeywordRule]) -> dict:
    """rows: dicts with id, title, content. Returns per-label row counts, labeled ids and (id, label) pairs."""
    keywords: dict[str, list[str]] = {}
    for rule in rules:
        keywords.setdefault(rule.label, []).append(normalize(rule.keyword))
    counts: Counter[str] = Counter()
    labeled: set[int] = set()
    pairs: set[tuple[int, str]] = set()
    for row in rows:
        text = normalize(join_columns([row["title"], row["content"]]))
        for label, words in keywords.items():
            if any(word in text for word in words):
                counts[label] += 1
                labeled.add(row["id"])
                pairs.add((row["id"], label))
    return {"rows": len(rows), "counts": dict(counts), "labeled": labeled, "labels": len(pairs), "pairs": pairs}
