"""The FastAPI application factory."""

import logging

from fastapi import Depends, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from apis import documenting, modeling, predicting, preprocessing
from apis.auth import ApiKeyGuard
from apis.dashboard import PUBLIC_PATHS, PUBLIC_PREFIXES, install_dashboard
from apis.deps import OutputEngine, require_api_key, settings_dep
from apis.errors import AudienceError, database_error, install_error_handlers
from apis.limits import BodyLimit
from apis.metrics import metrics_text
from apis.schemas.common import error_responses
from apis.status_cache import StatusCache
from models.literals import keep_compiled_in
from settings import Settings, get_settings
from utils.db.migrating import check_output_schema

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API; `settings` replaces the environment's (tests, embedding)."""
    given = settings
    settings = settings or get_settings()
    if settings.env == "production" and not settings.api_keys:
        raise RuntimeError("ENV=production needs API_KEYS: refusing to serve without authentication")
    if settings.env == "production" and not settings.model_signing_key.get_secret_value():
        raise RuntimeError("ENV=production needs MODEL_SIGNING_KEY: stored models would not be protected")
    # Refuse to serve on tables of another revision (the error says what to run).
    check_output_schema(settings)
    # Models made here compile their matchers once for the workers of this host too.
    keep_compiled_in(settings.compiled_dir)
    app = FastAPI(
        title="Audience",
        version="3.0.0",
        summary="Labeling ETL: run keyword and scikit-learn models over a source database.",
    )
    if given is not None:
        app.dependency_overrides[settings_dep] = lambda: given
    install_error_handlers(app)
    app.state.status_cache = StatusCache(predicting.STATUS_TTL_S)  # each app its own, so tests never share one
    app.add_middleware(BodyLimit, max_bytes=settings.upload_max_bytes)
    # Added last, so outermost: without a key the answer is 401 before the body is read or its size
    # judged (413). Public: the liveness probe, the dashboard's files and the API's documentation.
    docs = (app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url)
    app.add_middleware(
        ApiKeyGuard,
        keys=settings.api_keys,
        public_paths={"/healthz", *PUBLIC_PATHS, *(path for path in docs if path)},
        public_prefixes=PUBLIC_PREFIXES,
    )
    for router in (documenting.router, modeling.router, predicting.router, preprocessing.router):
        app.include_router(router, dependencies=[Depends(require_api_key)])

    @app.get(
        "/metrics",
        tags=["health"],
        dependencies=[Depends(require_api_key)],
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus' text format"}},
        summary="metrics: tasks by status, rows read and labeled, task durations, running tasks' rows/s",
    )
    def metrics(out: OutputEngine) -> Response:
        try:
            body = metrics_text(out)
        except SQLAlchemyError as exc:
            raise database_error(exc, 500, "cannot read the output schema") from exc
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", tags=["health"], responses=error_responses(503))
    def healthz(out: OutputEngine) -> dict:
        try:
            with out.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            # Anyone may ask: the answer names the dependency, never its cause (which names the host,
            # account and schema); the cause goes to the log.
            log.warning("healthz: cannot connect to output schema: %s", exc)
            raise AudienceError(503, "cannot connect to output schema") from exc
        return {"error_code": 200, "error_message": "OK", "status": "ok"}

    install_dashboard(app)
    return app
