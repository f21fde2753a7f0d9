from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import make_url

from settings import Settings


def test_embedded_default_uses_sqlite_files_and_sqla_broker(tmp_path: Path) -> None:
    s = Settings(_env_file=None, var_dir=tmp_path, output_host="", input_host="", broker_url="", result_backend="")
    assert s.embedded
    assert s.output_url == f"sqlite:///{tmp_path / 'output.sqlite'}"
    assert s.source_url == f"sqlite:///{tmp_path / 'source.sqlite'}"
    assert s.celery_broker_url.startswith("sqla+sqlite:///")
    assert s.celery_result_backend.startswith("db+sqlite:///")


def test_mariadb_urls_escape_credentials() -> None:
    s = Settings(
        _env_file=None, output_host="db", output_user="u@x", output_password=SecretStr("p/w:d"), output_schema="out"
    )
    url = make_url(s.output_url)
    assert (url.username, url.password, url.host, url.database) == ("u@x", "p/w:d", "db", "out")
    assert url.query == {"charset": "utf8mb4"}
    assert not s.embedded


@pytest.mark.parametrize("password", ["a b", "p+q", "100%", "x@y:z/w?#"])
def test_any_password_survives_the_url(password: str) -> None:
    s = Settings(_env_file=None, input_host="db", input_password=SecretStr(password))
    assert make_url(s.source_url).password == password


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'"):
        Settings(_env_file=None, input_timezone="Mars/Olympus")
    assert str(Settings(_env_file=None, input_timezone="Asia/Shanghai").source_zone) == "Asia/Shanghai"


def test_api_keys_from_a_comma_separated_value(monkeypatch) -> None:
    monkeypatch.setenv("API_KEYS", " k1, k2 ,,")
    assert Settings(_env_file=None).api_keys == ["k1", "k2"]


def test_env_example_lists_every_setting_and_loads(monkeypatch) -> None:
    example = Path(__file__).resolve().parents[2] / ".env.example"
    names = {
        line.split("=", 1)[0].strip()
        for line in example.read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    assert names == {field.upper() for field in Settings.model_fields}
    for name in names:
        monkeypatch.delenv(name, raising=False)
    loaded = Settings(_env_file=example)
    assert loaded.output_url.startswith("mysql+pymysql://")
    assert loaded.broker_url.startswith("redis://")
