"""The workflow diagrams of `graph/`, drawn from the canvas builders themselves.

`python -m workers.graph` (`make graph`) rewrites the generated parts of `graph/*.md` and of the README:
the Mermaid flowchart of the Celery signatures `workers.canvas` builds for a task (three chunks stand
for N). A test fails when a committed diagram differs from what the code builds, so they cannot drift.
"""

import argparse
import sys
from pathlib import Path

from celery import chord, group
from celery.canvas import Signature, _chain

from workers.app import celery_app
from workers.canvas import (
    build_evaluation,
    build_label_chord,
    build_predicting_workflow,
    build_training,
)

ROOT = Path(__file__).resolve().parent.parent
TASK_ID = "task_id"
CHUNKS = [1, 2, 3]


class Flowchart:
    """Mermaid nodes and edges of one or more canvases."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._count = 0

    def node(self, text: str, shape: str = "rect") -> str:
        name = f"n{self._count}"
        self._count += 1
        left, right = {"rect": ("[", "]"), "round": ("([", "])"), "hexagon": ("{{", "}}")}[shape]
        self.lines.append(f'    {name}{left}"{text}"{right}')
        return name

    def edge(self, start: str, end: str, label: str = "", dotted: bool = False) -> None:
        arrow = "-.->" if dotted else "-->"
        self.lines.append(f"    {start} {arrow}{f'|{label}|' if label else ''} {end}")

    def canvas(self, sig: Signature) -> tuple[list[str], list[str]]:
        """Draw `sig`; its entry nodes and its exit nodes."""
        if isinstance(sig, chord):
            node = self.node(f"chord of {len(sig.tasks)} (N)", "hexagon")
            exits: list[str] = []
            for task in sig.tasks:
                entries, ends = self.canvas(task)
                for entry in entries:
                    self.edge(node, entry)
                exits += ends
            body_entries, body_exits = self.canvas(sig.body)
            for end in exits:
                for entry in body_entries:
                    self.edge(end, entry)
            return [node], body_exits
        if isinstance(sig, group):
            entries, exits = [], []
            for task in sig.tasks:
                first, last = self.canvas(task)
                entries += first
                exits += last
            return entries, exits
        if isinstance(sig, _chain):
            entries, exits = self.canvas(sig.tasks[0])
            for task in sig.tasks[1:]:
                first, last = self.canvas(task)
                for end in exits:
                    for entry in first:
                        self.edge(end, entry)
                exits = last
            return entries, exits
        args = ", ".join(TASK_ID if a == TASK_ID else str(a) for a in sig.args)
        node = self.node(f"{sig.task}({args})<br/>queue {queue_of(sig)}")
        for errback in sig.options.get("link_error") or []:
            entries, _ = self.canvas(Signature(errback))
            for entry in entries:
                self.edge(node, entry, "on error", dotted=True)
        return [node], [node]

    def text(self) -> str:
        return "```mermaid\nflowchart LR\n" + "\n".join(self.lines) + "\n```"


def queue_of(sig: Signature) -> str:
    """The queue the app's routes send the task to."""
    route = celery_app.amqp.router.route({}, sig.task)
    queue = route.get("queue")
    return getattr(queue, "name", None) or str(queue or celery_app.conf.task_default_queue)


def predicting() -> str:
    chart = Flowchart()
    client = chart.node("POST /predicting/tasks", "round")
    plan_entries, plan_exits = chart.canvas(build_predicting_workflow(TASK_ID))
    for entry in plan_entries:
        chart.edge(client, entry, "apply_async")
    chord_entries, chord_exits = chart.canvas(build_label_chord(TASK_ID, CHUNKS))
    for end in plan_exits:
        for entry in chord_entries:
            chart.edge(end, entry, "self.replace")
    done = chart.node("task row: SUCCESS, FAILURE or BREAK", "round")
    for end in chord_exits:
        chart.edge(end, done)
    return chart.text()


def modeling() -> str:
    chart = Flowchart()
    for route, build in (
        ("POST /modeling/tasks", build_training),
        ("POST /modeling/models/{name}/evaluate", build_evaluation),
    ):
        client = chart.node(route, "round")
        entries, _ = chart.canvas(build(TASK_ID))
        for entry in entries:
            chart.edge(client, entry, "apply_async")
    return chart.text()


DIAGRAMS = {"predicting": predicting, "modeling": modeling}
# Where each diagram is shown: its own page under graph/, and the README.
PLACES = {"graph/predicting.md": ["predicting"], "graph/modeling.md": ["modeling"], "README.md": list(DIAGRAMS)}


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name} workflow: drawn by `make graph` from workers/canvas.py -->", f"<!-- end of {name} workflow -->"


def rendered(current: str, name: str, diagram: str) -> str:
    """`current` with the generated part of diagram `name` replaced (added after the first line when
    it has none)."""
    start, end = markers(name)
    block = f"{start}\n{diagram}\n{end}"
    if start in current and end in current:
        head, rest = current.split(start, 1)
        return head + block + rest.split(end, 1)[1]
    title, _, body = current.partition("\n")
    return f"{title}\n\n{block}\n{body}"


def updated(root: Path = ROOT) -> dict[str, tuple[str, str]]:
    """Each place: (its text now, its text with every diagram as the code builds it)."""
    drawn = {name: draw() for name, draw in DIAGRAMS.items()}
    texts = {}
    for place, names in PLACES.items():
        path = root / place
        current = path.read_text(encoding="utf-8") if path.exists() else f"# The {names[0]} workflow\n"
        new = current
        for name in names:
            new = rendered(new, name, drawn[name])
        texts[place] = (current, new)
    return texts


def stale(root: Path = ROOT) -> list[str]:
    """The places whose diagrams differ from what the code builds."""
    return [place for place, (current, new) in updated(root).items() if current != new]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers.graph", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report diagrams that differ (exit 1)")
    args = parser.parse_args(argv)
    if args.check:
        differing = list(stale())
        for place in differing:
            print(f"{place}: a diagram is not what workers/canvas.py builds: run make graph", file=sys.stderr)
        return 1 if differing else 0
    for place, (current, new) in updated().items():
        if new != current:
            (ROOT / place).write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
