"""The dashboard: static HTML, CSS and JavaScript served at `/`, drawn in the browser from the JSON API.

No build step and nothing from a CDN, so it works offline and behind a firewall. The files carry no
data and need no API key; every figure they show comes from the API, with the key the user gives.
"""

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"
# What the dashboard serves without a key (apis.auth lets these through): the page and its files.
PUBLIC_PATHS = ("/",)
PUBLIC_PREFIXES = ("/static/",)
# Scripts and styles only from this origin and never inline: a post's text can hold markup, and the
# page writes every text as text, but the policy stops a slip from running anything.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Revalidated on each load, so a new version of the service shows its new page.
    "Cache-Control": "no-cache",
}


class _StaticFiles(StaticFiles):
    """The static files, answered with HEADERS."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update(HEADERS)
        return response


def install_dashboard(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    async def dashboard() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers=HEADERS)

    app.mount("/static", _StaticFiles(directory=STATIC), name="static")
