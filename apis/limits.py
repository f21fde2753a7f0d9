"""A cap on request bodies, enforced while they arrive.

Multipart uploads are spooled to disk before a route runs, so the size check cannot wait for the
route: a body over the cap is refused from its Content-Length, or stopped once that many bytes came.
"""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apis.errors import envelope

# Room for the form's other fields and multipart boundaries around the file itself.
FORM_OVERHEAD = 64 * 1024


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes + FORM_OVERHEAD
        self.message = f"file: the request is over the limit of {max_bytes:,} bytes (UPLOAD_MAX_BYTES)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await envelope(413, self.message, {"Connection": "close"})(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI passes an HTTPException from body parsing through; the envelope renders it.
                    raise HTTPException(413, self.message)
            return message

        await self.app(scope, limited, send)
