"""Authentication at the edge: the API key is checked before a byte of the request body is read.

A FastAPI dependency runs only after the body has been received and parsed (a multipart upload spooled
to disk, JSON decoded), so an anonymous client could make the server take an 80 MB upload, or learn
how its JSON is parsed, before its 401. This middleware sits outside everything else: it reads the
headers only and answers 401 (no key) or 403 (a key not accepted) without calling the app, so the
body is never received. `apis.deps.require_api_key` stays on the routers as defence in depth and so
the OpenAPI schema declares the security schemes (Swagger UI's "Authorize").

Deny by default: every path is protected except those given as public (the liveness probe, the
dashboard's files, the API's own documentation), so a route added later needs no opt-in, and an
anonymous client cannot tell an unknown path (404) from a protected one.
"""

import hashlib
import hmac
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from apis.errors import envelope

MISSING = "missing API key: send X-API-Key or Authorization: Bearer"
NOT_ACCEPTED = "API key not accepted"


def _digest(key: bytes) -> bytes:
    # Keys compared as fixed-length digests: the time taken says nothing about a key's length either.
    return hashlib.sha256(key).digest()


def given_key(headers: Iterable[tuple[bytes, bytes]]) -> bytes | None:
    """The key a request carries: X-API-Key, else an `Authorization: Bearer` token (as FastAPI's
    APIKeyHeader and HTTPBearer read them: the first of each header, an empty value is none)."""
    api_key = authorization = None
    for name, value in headers:
        if name == b"x-api-key" and api_key is None:
            api_key = value
        elif name == b"authorization" and authorization is None:
            authorization = value
    if api_key:
        return api_key
    if authorization:
        scheme, _, token = authorization.strip().partition(b" ")
        if scheme.lower() == b"bearer" and token.strip():
            return token.strip()
    return None


class ApiKeyGuard:
    """Pure ASGI middleware: refuses a request without an accepted key, from its headers alone."""

    def __init__(
        self,
        app: ASGIApp,
        keys: Iterable[str],
        public_paths: Iterable[str] = (),
        public_prefixes: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.digests = [_digest(key.encode()) for key in keys]
        self.public_paths = frozenset(public_paths)
        self.public_prefixes = tuple(public_prefixes)

    def is_public(self, path: str) -> bool:
        return path in self.public_paths or path.startswith(self.public_prefixes)

    def accepts(self, key: bytes) -> bool:
        digest = _digest(key)
        matched = False
        for known in self.digests:  # every key compared, none skipped: constant time in which one matched
            matched |= hmac.compare_digest(digest, known)
        return matched

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self.digests or self.is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        key = given_key(scope["headers"])
        if key is not None and self.accepts(key):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # policy violation; no websocket routes today
            return
        headers = {"WWW-Authenticate": "Bearer"} if key is None else {}
        if _has_body(scope):
            # The body stays unread; closing the connection keeps the server from receiving it to reach
            # the next request on it.
            headers["Connection"] = "close"
        response = envelope(401, MISSING, headers) if key is None else envelope(403, NOT_ACCEPTED, headers)
        await response(scope, receive, send)


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() not in (b"", b"0")):
            return True
    return False
