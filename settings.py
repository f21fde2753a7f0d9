"""Audience settings: one typed class, read from the environment and `.env`.

With no `.env` the service runs on the embedded default: SQLite files under `var/`
for the source and the output schema, and Celery over kombu's SQLAlchemy transport.
"""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy import URL

ROOT = Path(__file__).resolve().parent


def _mariadb_url(host: str, port: int, user: str, password: SecretStr, schema: str) -> str:
    # URL.create escapes every part, so any character is safe in a password or a schema name.
    url = URL.create(
        "mysql+pymysql",
        username=user,
        password=password.get_secret_value(),
        host=host,
        port=port,
        database=schema,
        query={"charset": "utf8mb4"},
    )
    return url.render_as_string(hide_password=False)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=ROOT / ".env", env_file_encoding="utf-8", extra="ignore")

    env: Literal["development", "production"] = "development"
    # Where the embedded default keeps its SQLite files.
    var_dir: Path = ROOT / "var"

    # Source database (read only). Empty INPUT_HOST means the embedded demo source.
    input_host: str = ""
    input_port: int = 3306
    input_user: str = "root"
    input_password: SecretStr = SecretStr("")
    input_schema: str = "audience_source"
    # The zone of the source's time columns: request times with an offset are converted to it.
    input_timezone: str = "UTC"

    # Output schema: task state, chunks, labels, models. Empty OUTPUT_HOST means embedded.
    output_host: str = ""
    output_port: int = 3306
    output_user: str = "root"
    output_password: SecretStr = SecretStr("")
    output_schema: str = "audience"

    # Celery. Empty means kombu's SQLAlchemy transport and the database result backend.
    broker_url: str = ""
    result_backend: str = ""
    # Seconds before Redis hands an unacknowledged message to another worker.
    broker_visibility_timeout: int = 3600
    broker_restore_interval: int = 10
    # A predicting task with no heartbeat for this long lost its messages (a broker restarted without
    # them, say): workers send it again from its checkpoints. Longer than the slowest batch.
    stale_task_after_s: int = Field(default=3600, ge=5)
    worker_pool: Literal["prefork", "gevent", "threads", "solo"] = "prefork"
    worker_concurrency: int = Field(default=2, ge=1)
    worker_max_memory_per_child_kb: int = Field(default=1_000_000, ge=0)
    # Workers lower their CPU priority by this much, so the API answers status requests promptly while
    # a task keeps every core busy (0: same priority as everything else).
    worker_nice: int = Field(default=10, ge=0, le=19)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    api_keys: Annotated[list[str], NoDecode] = []
    # Signs stored model bytes (HMAC-SHA256): a worker unpickles only what a holder of this key stored,
    # not whatever someone with write access to the output schema put there. Required in production.
    model_signing_key: SecretStr = SecretStr("")

    # Uploads: the largest file accepted (413 above it) and the longest text kept (longer rows are rejected).
    upload_max_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
    max_text_chars: int = Field(default=50_000, ge=1)
    # Rows one dataset may store: a larger file is refused (413), so no upload holds memory without bound.
    max_dataset_rows: int = Field(default=1_000_000, ge=1)

    # Rows per keyset batch (one transaction each) and rows per chunk (one Celery task each).
    batch_size: int = Field(default=5_000, ge=1, le=100_000)
    chunk_rows: int = Field(default=100_000, ge=100)
    max_chunks_per_table: int = Field(default=2_000, ge=1)
    # Fewest chunks a task is split into, so that no pool process idles on a small task; 0 asks the
    # workers at planning how many pool processes serve the predicting queue.
    min_chunks: int = Field(default=0, ge=0)
    # Attempts a chunk gets after infrastructure errors before the task is failed.
    chunk_max_attempts: int = Field(default=5, ge=1)
    # Seconds a chunk or finalize keeps retrying while the output schema refuses it (down, or this
    # service's account refused); then its message is dropped, and recovery takes the task up again.
    output_outage_retry_s: int = Field(default=900, ge=1)
    # Seconds an output write waits for a row lock (MariaDB's innodb_lock_wait_timeout for this
    # service's sessions); a batch that times out or loses a deadlock is retried whole.
    output_lock_wait_timeout_s: int = Field(default=50, ge=1, le=3600)

    @model_validator(mode="before")
    @classmethod
    def _split_api_keys(cls, data: dict) -> dict:
        raw = data.get("api_keys") if isinstance(data, dict) else None
        if isinstance(raw, str):
            data["api_keys"] = [k.strip() for k in raw.split(",") if k.strip()]
        return data

    @field_validator("input_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}: use an IANA name such as Asia/Shanghai") from exc
        return value

    @property
    def source_zone(self) -> ZoneInfo:
        return ZoneInfo(self.input_timezone)

    @property
    def embedded(self) -> bool:
        return not self.output_host

    @property
    def compiled_dir(self) -> Path:
        """Compiled keyword matchers, shared by the processes of this host (`models.literals`)."""
        return self.var_dir / "compiled"

    @property
    def source_url(self) -> str:
        if not self.input_host:
            return f"sqlite:///{self.var_dir / 'source.sqlite'}"
        return _mariadb_url(self.input_host, self.input_port, self.input_user, self.input_password, self.input_schema)

    @property
    def output_url(self) -> str:
        if not self.output_host:
            return f"sqlite:///{self.var_dir / 'output.sqlite'}"
        return _mariadb_url(
            self.output_host, self.output_port, self.output_user, self.output_password, self.output_schema
        )

    @property
    def celery_broker_url(self) -> str:
        return self.broker_url or f"sqla+sqlite:///{self.var_dir / 'broker.sqlite'}"

    @property
    def celery_result_backend(self) -> str:
        return self.result_backend or f"db+sqlite:///{self.var_dir / 'results.sqlite'}"


@lru_cache
def get_settings() -> Settings:
    settings = Settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    return settings
