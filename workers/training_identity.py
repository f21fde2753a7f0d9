"""What makes two trainings the same, so a stored model can be reused instead of trained again.

Kept apart from the training code so the API can compute it without importing scikit-learn.
"""

import hashlib
import json
from typing import Any

from sqlalchemy import Connection

from utils.db import rule_store as rs


def training_key(dataset_sha256: str | None, model_type: str, params: dict[str, Any], rules_sha256: str | None,
                 patterns: list[str] | None, multi_label: bool = True) -> str:  # fmt: skip
    """What makes two trainings the same: the dataset's content (none for a rule model built from its
    rules alone), the label mode, the type, the parameters (with their defaults filled in), the rules and
    the exclusion patterns."""
    identity = {"dataset": dataset_sha256, "type": model_type, "params": params, "rules": rules_sha256,
                "patterns": patterns, "multi_label": multi_label}  # fmt: skip
    return hashlib.sha256(json.dumps(identity, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def rules_sha256(conn: Connection, rule_set_id: int) -> str:
    rules = [[r.label, r.pattern, r.kind, r.weight] for r in rs.rules_of(conn, rule_set_id)]
    return hashlib.sha256(json.dumps(rules, ensure_ascii=False).encode()).hexdigest()
