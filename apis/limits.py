"""Caps on request bodies, enforced while they arrive.

Multipart uploads are spooled to disk before a route runs, so the size check cannot wait for the
route: a body over the cap is refused from its Content-Length, or stopped once that many bytes came.
Any other body (JSON) is parsed whole in memory, so it gets a far smaller cap.
"""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apis.errors import envelope

# Room for the form's other fields and multipart boundaries around the file itself.
FORM_OVERHEAD = 64 * 1024
# The largest JSON body: thousands of patterns fit, a body that would strain the API's memory does not.
JSON_MAX_BYTES = 8 * 1024 * 1024


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
        headers = dict(scope["headers"])
        multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
        max_bytes, message_text = self.form_limit if multipart else self.json_limit
        length = headers.get(b"content-length")
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
