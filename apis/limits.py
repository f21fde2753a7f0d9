"""Caps on request bodies, enforced while they arrive.

Multipart uploads are spooled to disk before a route runs, so the size check cannot wait for the
route: a body over the cap is refused from its Content-Length, or stopped once that many bytes came.
Every other route takes JSON, read whole into memory (whatever the Content-Type says), so it gets
a smaller cap, chosen by the route and never by a header the client sets.
"""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apis.errors import envelope

# Room for the form's other fields and multipart boundaries around the file itself.
FORM_OVERHEAD = 64 * 1024
# The largest JSON body. The largest valid one is a pattern set of 1,000 patterns of 2,000 characters,
# 24 MB when every character is sent as a \uXXXX surrogate pair (JSON's ASCII-only form).
JSON_MAX_BYTES = 32 * 1024 * 1024
UPLOAD_ROUTES = {("POST", "/documenting/datasets"), ("POST", "/documenting/rule-sets")}


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, json_max_bytes: int = JSON_MAX_BYTES) -> None:
        self.app = app
        self.form_limit = (
            max_bytes + FORM_OVERHEAD,
            f"file: the request is over the limit of {max_bytes:,} bytes (UPLOAD_MAX_BYTES)",
        )
        self.json_limit = (json_max_bytes, f"body: the request is over the limit of {json_max_bytes:,} bytes")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = (scope["method"], scope["path"].rstrip("/")) in UPLOAD_ROUTES
        max_bytes, message_text = self.form_limit if upload else self.json_limit
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > max_bytes:
            await envelope(413, message_text, {"Connection": "close"})(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    # FastAPI passes an HTTPException from body parsing through; the envelope renders it.
                    raise HTTPException(413, message_text)
            return message

        await self.app(scope, limited, send)
