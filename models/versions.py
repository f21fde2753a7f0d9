"""Library versions a stored model depends on, and the check that refuses a mismatch.

A pickled scikit-learn model loaded under another scikit-learn (or numpy, scipy) may load and
still predict differently, and a jieba with another dictionary cuts words the vectorizer never saw.
Loading is therefore refused when a library differs in its major.minor version; patch releases are
trusted to keep both pickles and behaviour.
"""

from collections.abc import Iterable, Mapping
from functools import cache
from importlib.metadata import PackageNotFoundError, version


class ModelVersionError(ValueError):
    """A stored model needs library versions other than those installed."""


@cache
def installed_version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def installed_versions(distributions: Iterable[str]) -> dict[str, str]:
    return {name: installed_version(name) for name in sorted(set(distributions))}


def _major_minor(text: str) -> tuple[str, ...]:
    return tuple(text.split(".")[:2])


def check_versions(kind: str, needed: Iterable[str], saved: Mapping[str, str] | None) -> None:
    """Raise ModelVersionError unless every library in `needed` was saved at the installed major.minor."""
    if saved is None:
        raise ModelVersionError(f"a {kind} model cannot be loaded without the library versions it was saved with")
    for name in sorted(set(needed)):
        if name not in saved:
            raise ModelVersionError(f"the {kind} model does not say which {name} version it was saved with")
        now = installed_version(name)
        if _major_minor(saved[name]) != _major_minor(now):
            raise ModelVersionError(
                f"the {kind} model was saved with {name} {saved[name]} but {name} {now} is installed; "
                f"retrain the model, or load it where {name}=={saved[name]} is installed"
            )
