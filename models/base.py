"""The interface every labeler offers to the predicting workflow."""

from typing import Protocol

# One row's labels: (label, score) pairs, at most one pair per label.
RowLabels = list[tuple[str, float]]
# One row's labels with each one's margin, its distance from the model's decision: (label, score, margin).
RowDecisions = list[tuple[str, float, float]]


class Labeler(Protocol):
    kind: str

    @property
    def multi_label(self) -> bool:
        """False: at most one label per text (single-label models); true: any number (rule models)."""
        ...

    @property
    def labels_(self) -> list[str]: ...

    @property
    def takes_utf8(self) -> bool:
        """Whether predict() takes the texts as UTF-8 bytes too (`utils.text.utf8_of`): a labeler that
        searches bytes spares the reader decoding them."""
        ...

    def predict(self, texts: list[str]) -> list[RowLabels]:
        """Labels for each text, in order; an empty list where nothing applies."""
        ...

    def to_bytes(self) -> bytes: ...
