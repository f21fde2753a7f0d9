"""The dashboard's files: served at / and /static without a key (they hold no data), with a policy
that runs only the service's own scripts, and kept out of the OpenAPI schema."""

import re

from fastapi.testclient import TestClient

from apis.app import create_app
from apis.dashboard import STATIC
from settings import Settings


def test_page_and_assets_are_served_with_their_policy_and_no_key(services: Settings) -> None:
    keyed = services.model_copy(update={"api_keys": ["s3cret"]})
    with TestClient(create_app(keyed)) as client:
        page = client.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff"
        # Every file the page names is served, with the same policy.
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
            answer = client.get(asset)
            assert answer.status_code == 200, asset
            assert answer.headers["content-security-policy"] == page.headers["content-security-policy"]
        assert (
            client.get("/static/app.js")
            .headers["content-type"]
            .startswith(("text/javascript", "application/javascript"))
        )
        # The data behind it still needs the key.
        assert client.get("/predicting/tasks").status_code == 401
        missing = client.get("/static/nothing.js")
        assert missing.status_code == 404 and missing.json()["error_code"] == 404


def test_the_page_writes_no_inline_script_or_style(services: Settings) -> None:
    # The policy forbids inline code, so any would silently not run.
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "style=" not in html and "onclick=" not in html
    assert ".innerHTML" not in (STATIC / "app.js").read_text(encoding="utf-8")  # texts are written as text


def test_dashboard_is_not_part_of_the_api_schema(services: Settings) -> None:
    paths = create_app().openapi()["paths"]
    assert "/" not in paths and not any(p.startswith("/static") for p in paths)
