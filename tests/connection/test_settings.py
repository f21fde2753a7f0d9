from pathlib import Path

from pydantic import SecretStr

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
    assert s.output_url == "mysql+pymysql://u%40x:p%2Fw%3Ad@db:3306/out?charset=utf8mb4"
    assert not s.embedded


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
