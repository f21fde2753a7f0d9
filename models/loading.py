"""Stored model bytes ↔ labelers.

Rule models (keyword, regex) are JSON and load under any library version. scikit-learn models are
pickles behind a one-line JSON header naming their kind and the library versions they need:

    audience-model/1\\n{"kind": "term_weight", "library_versions": {...}}\\n<pickle>

Unpickling runs code, so only bytes this service wrote may be loaded (the workers check sha256
against the registry first). Before unpickling, the versions recorded with the model (the
`library_versions` argument, from the registry) and those in the header are compared with the
installed ones: a mismatch in major.minor is refused rather than risking silent mis-predictions.
"""

import json
import pickle
from collections.abc import Callable
from typing import Any

from models.base import Labeler
from models.keyword import KeywordModel
from models.rules import RuleModel
from models.versions import ModelVersionError, check_versions

MAGIC = b"audience-model/1\n"
RULE_LOADERS: dict[str, Callable[[dict[str, Any]], Labeler]] = {
    KeywordModel.kind: KeywordModel.from_dict,
    RuleModel.kind: RuleModel.from_dict,
}


def dump_pickled(kind: str, model: object, library_versions: dict[str, str]) -> bytes:
    header = json.dumps({"kind": kind, "library_versions": library_versions}, sort_keys=True).encode()
    return MAGIC + header + b"\n" + pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)


def read_header(blob: bytes) -> dict[str, Any] | None:
    """The header of a pickled model, or None if `blob` is not one."""
    if not blob.startswith(MAGIC):
        return None
    end = blob.find(b"\n", len(MAGIC))
    if end < 0:
        raise ValueError("model bytes are cut short: no end to their header")
    header = json.loads(blob[len(MAGIC) : end])
    if not isinstance(header, dict) or not isinstance(header.get("library_versions"), dict):
        raise ValueError("model bytes have a malformed header")
    return header


def load_model(kind: str, blob: bytes, library_versions: dict[str, str] | None) -> Labeler:
    """The labeler stored in `blob`. Raises ModelVersionError when the model needs other library
    versions than those installed, ValueError for bytes that are not a model of `kind`."""
    if kind in RULE_LOADERS:
        try:
            data = json.loads(blob)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"a {kind} model is stored as JSON; these bytes are not JSON ({exc})") from None
        if not isinstance(data, dict) or data.get("kind") != kind:
            found = data.get("kind") if isinstance(data, dict) else None
            raise ValueError(f"the bytes hold a {found!r} model, not a {kind!r} one")
        return RULE_LOADERS[kind](data)
    header = read_header(blob)
    if header is None:
        raise ValueError(f"unknown model kind {kind!r} or bytes that are not a stored model")
    if header.get("kind") != kind:
        raise ValueError(f"the bytes hold a {header.get('kind')!r} model, not a {kind!r} one")
    needed = header["library_versions"]
    check_versions(kind, needed, library_versions)
    check_versions(kind, needed, needed)  # the bytes' own record, should the registry's disagree
    model = pickle.loads(blob[blob.index(b"\n", len(MAGIC)) + 1 :])
    if getattr(model, "kind", None) != kind:
        raise ValueError(f"the pickled model is not a {kind!r} model")
    return model  # type: ignore[no-any-return]


__all__ = ["MAGIC", "ModelVersionError", "dump_pickled", "load_model", "read_header"]
