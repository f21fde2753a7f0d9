"""Turn stored model bytes back into labelers. Rule models are JSON, never pickles."""

import json

from models.base import Labeler
from models.keyword import KeywordModel

_KINDS = {KeywordModel.kind: KeywordModel.from_dict}


def load_labeler(blob: bytes) -> Labeler:
    data = json.loads(blob)
    kind = data.get("kind")
    if kind not in _KINDS:
        raise ValueError(f"unknown model kind {kind!r}")
    return _KINDS[kind](data)
