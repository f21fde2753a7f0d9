"""Turn stored model bytes back into labelers (see models.loading). Rule models are JSON, never pickles.

`load_labeler(kind, blob, library_versions)` is the call for any model. The older one-argument form
`load_labeler(blob)` still loads rule models, whose JSON names their kind; a scikit-learn model
cannot load that way, because its library versions must be checked.
"""

import json
from typing import overload

from models.base import Labeler
from models.loading import RULE_LOADERS, load_model


@overload
def load_labeler(blob: bytes, /) -> Labeler: ...
@overload
def load_labeler(kind: str, blob: bytes, /, library_versions: dict[str, str] | None = None) -> Labeler: ...
def load_labeler(
    kind_or_blob: str | bytes, blob: bytes | None = None, /, library_versions: dict[str, str] | None = None
) -> Labeler:
    if isinstance(kind_or_blob, str):
        if blob is None:
            raise TypeError("load_labeler(kind, blob): the model's bytes are missing")
        return load_model(kind_or_blob, blob, library_versions)
    try:
        kind = json.loads(kind_or_blob).get("kind")
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        kind = None
    if kind not in RULE_LOADERS:
        raise ValueError(f"unknown model kind {kind!r}: pass the kind and library versions of a scikit-learn model")
    return load_model(kind, kind_or_blob, None)
