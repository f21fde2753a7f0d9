"""The administration CLI, against the test output schema in MariaDB."""

from pathlib import Path

import pytest
from sqlalchemy import inspect

from settings import Settings
from utils.db.engines import output_engine, source_engine
from utils.db.model_store import latest_models
from workers.cli import main


def test_register_keywords_stores_a_new_version_each_time(services: Settings, tmp_path: Path, capsys) -> None:
    rules = tmp_path / "rules.csv"
    rules.write_text("label,keyword,weight\n体育,足球,2\n财经,股票,\n", encoding="utf-8")
    assert main(["register-keywords", "cli_rules", str(rules)]) == 0
    assert main(["register-keywords", "cli_rules", str(rules)]) == 0
    assert "version 2 stored" in capsys.readouterr().out
    with output_engine(services).connect() as conn:
        model = latest_models(conn, ["cli_rules"])["cli_rules"]
    assert model.version == 2 and model.labels == ["体育", "财经"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("name,word\n体育,足球\n", "header must name the columns label and keyword"),
        ("label,keyword\n体育,\n", "line 2: label and keyword must not be empty"),
        ("label,keyword,weight\n体育,足球,heavy\n", "line 2: weight 'heavy' is not a number"),
        ("label,keyword\n", "no rules"),
    ],
)
def test_register_keywords_refuses_a_bad_csv(
    services: Settings, tmp_path: Path, capsys, content: str, reason: str
) -> None:
    rules = tmp_path / "bad.csv"
    rules.write_text(content, encoding="utf-8")
    assert main(["register-keywords", "cli_bad", str(rules)]) == 2
    assert reason in capsys.readouterr().err
    with output_engine(services).connect() as conn:
        assert latest_models(conn, ["cli_bad"]) == {}


def test_run_never_seeds_a_configured_source(services: Settings, capsys) -> None:
    assert services.input_host  # the suite's source is MariaDB, as in production
    assert main(["demo", "--if-missing", "--table", "cli_demo_posts"]) == 0
    assert "no demo table seeded" in capsys.readouterr().out
    assert not inspect(source_engine(services)).has_table("cli_demo_posts")
