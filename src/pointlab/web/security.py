"""The playground is a server on the user's machine; these checks keep other sites out of it.

- DNS rebinding: a web page elsewhere can make its own domain name resolve to 127.0.0.1 and then
  talk to this server as "itself". Its requests still carry its own name in the `Host` header, so
  every request whose Host is not the bound address or `localhost` is refused (400).
- Cross-site requests: a page on another origin may open a WebSocket to localhost (browsers allow
  it) or post a form to it. The WebSocket and every POST must come with `Origin` equal to this
  server's own origin (`http://` + the Host header), or they are refused (403).
- Uploads: the declared size is checked before anything is read, and reading stops at the limit.

Not here: limits on settings (`settings.py`), static files (Starlette's StaticFiles serves only
files inside the package's folder and refuses paths that leave it).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from pointlab.errors import UserError

MAX_UPLOAD = 5 * 1024 * 1024  # bytes
WILDCARDS = ("0.0.0.0", "::", "")


def host_name(host_header: str) -> str:
    """'127.0.0.1:8050' -> '127.0.0.1', '[::1]:8050' -> '::1', 'localhost' -> 'localhost'."""
    if host_header.startswith("["):
        return host_header[1 : host_header.find("]")].lower()
    return host_header.rsplit(":", 1)[0].lower() if ":" in host_header else host_header.lower()


def allowed_host(host_header: str, bound: str) -> bool:
    name = host_name(host_header)
    if name in ("localhost", bound.lower().strip("[]")):
        return True
    if bound in WILDCARDS:
        # Bound to every interface: any address of this machine is fine, and an IP literal cannot
        # be rebound (rebinding needs a domain name that the attacker controls).
        try:
            ipaddress.ip_address(name)
            return True
        except ValueError:
            return False
    return False


def same_origin(origin: str | None, host_header: str) -> bool:
    return origin is not None and origin.lower() == f"http://{host_header}".lower()


class GuardMiddleware:
    """Host check on every request, Origin check on WebSockets and POSTs."""

    def __init__(self, app: ASGIApp, bound: str) -> None:
        self.app, self.bound = app, bound

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if not allowed_host(host, self.bound):
            await self._refuse(scope, receive, send, 400, f"refused: unknown Host {host!r}")
            return
        checks_origin = scope["type"] == "websocket" or scope.get("method") == "POST"
        if checks_origin and not same_origin(headers.get("origin"), host):
            await self._refuse(scope, receive, send, 403, "refused: request from another origin")
            return
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, why: str):
        if scope["type"] == "websocket":
            # Closing before accepting: the server answers the handshake with 403.
            await send({"type": "websocket.close", "code": 1008, "reason": why})
            return
        await PlainTextResponse(why, status_code=status)(scope, receive, send)


async def read_limited(request: Request, limit: int = MAX_UPLOAD) -> bytes:
    """The request body, refused (UserError) when its declared or actual size passes `limit`."""
    declared = request.headers.get("content-length")
    too_big = f"the upload is larger than the limit of {limit // (1024 * 1024)} MB"
    if declared is not None:
        try:
            if int(declared) > limit:
                raise UserError(too_big)
        except ValueError:
            raise UserError("bad Content-Length") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise UserError(too_big)
        chunks.append(chunk)
    return b"".join(chunks)


def json_error(message: str, status: int = 400) -> Any:
    from starlette.responses import JSONResponse

    return JSONResponse({"error": message}, status_code=status)
