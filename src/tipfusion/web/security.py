"""Security the whole application shares: response headers, the session cookie, and bounded uploads.

The headers go on every response (pages, static files, errors, the API) from one ASGI middleware, so no route can
forget them. The policy allows scripts and styles from this server only — no inline script, no `style=""`, no CDN —
and no framing. Pages carrying personal data are not cached by the browser (`Cache-Control: no-store`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import HTTPException, UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from collections.abc import MutableMapping

SESSION_COOKIE = "tf_session"
LOGIN_CSRF_COOKIE = "tf_login_csrf"  # the login form's token, before there is a session (double submit)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UPLOAD_LIMIT = 512 * 1024 * 1024  # a batch zip; the ingest's own limits still apply to what is inside

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
)


def secure_cookies_default() -> bool:
    """`TIPFUSION_SECURE_COOKIES=1` when the app is served behind TLS (a reverse proxy): cookies get `Secure` and
    responses `Strict-Transport-Security`. Off by default: plain http on 127.0.0.1 would otherwise never log in."""
    return os.environ.get("TIPFUSION_SECURE_COOKIES", "").strip().lower() in ("1", "true", "yes", "on")


class SecurityHeaders:
    """Adds the security headers to every HTTP response; `no-store` on everything but the vendored static files."""

    def __init__(self, app: ASGIApp, *, secure: bool = False) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() not in _OURS
                ]
                headers.extend(HEADERS)
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                if self.secure:
                    headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


_OURS = {name for name, _ in HEADERS} | {b"cache-control", b"strict-transport-security"}


class BodyLimit:
    """Refuses a request body larger than `limit` bytes (413) before a route reads it: by its Content-Length, and
    while streaming when it has none."""

    def __init__(self, app: ASGIApp, *, limit: int = UPLOAD_LIMIT) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: MutableMapping[bytes, bytes] = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(send, self.limit)
            return
        seen = 0

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(413, f"the upload is larger than {self.limit // (1024 * 1024)} MiB")
            return message

        await self.app(scope, bounded, send)


async def _too_large(send: Send, limit: int) -> None:
    body = f"The upload is larger than the limit of {limit // (1024 * 1024)} MiB.".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def save_upload(upload: UploadFile, folder: Path, *, limit: int = UPLOAD_LIMIT) -> Path:
    """Write an uploaded file into `folder` (under a safe name) while counting its bytes; past `limit` the partial file
    is removed and the request answered 413. The caller hands the path to the same ingest and quarantine as the CLI.
    """
    name = Path(upload.filename or "upload").name.replace("\x00", "") or "upload"
    folder.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    written = 0
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := await upload.read(1024 * 1024):
                written += len(chunk)
                if written > limit:
                    raise HTTPException(413, f"{name}: larger than the limit of {limit // (1024 * 1024)} MiB")
                out.write(chunk)
        target = folder / name
        shutil.move(temp, target)
        return target
    finally:
        Path(temp).unlink(missing_ok=True)
