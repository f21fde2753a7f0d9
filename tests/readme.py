"""Writing measured figures into the README, between `<!-- name:start -->` and `<!-- name:end -->`."""

from pathlib import Path


def write_section(readme: Path, name: str, body: str) -> None:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = readme.read_text(encoding="utf-8")
    if start not in text or end not in text:
        raise SystemExit(f"{readme} has no {start} … {end} section to write into")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(f"{head}{start}\n{body}\n{end}{tail}", encoding="utf-8")
