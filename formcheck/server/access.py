"""Who may talk to the server: the Host and Origin of every request, and a bearer token.

- **Host** (while bound to loopback): only loopback names and ``allowed_hosts``. A web page
  that points its own domain at 127.0.0.1 (DNS rebinding) sends its own name here, so it
  is refused before its requests could pass as "same origin".
- **Origin**, on every state-changing request (POST, PUT, PATCH, DELETE) and on the live
  socket: the server's own origin or one of ``allowed_origins``; a browser request from any
  other page (or a sandboxed ``null`` origin) gets 403. Clients that send no Origin
  (curl, scripts) are not browsers and pass, unless ``Sec-Fetch-Site`` says cross-site.
- **Token**, whenever the server is bound beyond loopback (or ``require_token``): every
  route except the page, its static files and public descriptions needs
  ``Authorization: Bearer <token>``, or the cookie a browser gets by POSTing the token to
  ``/api/auth`` (HttpOnly, SameSite=Strict; it holds a keyed hash of the token, not the
  token), or a signed-in account's cookie or API token (formcheck.people). The page does
  this itself when opened with ``#token=...`` in its address: the link ``formcheck serve``
  prints.

The token is generated at the first start that needs one and kept in the data directory
(``token``, 0600); ``FORMCHECK_TOKEN`` sets it instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from formcheck.errors import FormcheckError
from formcheck.jobs.datadir import DataDir
from formcheck.jobs.durable import write_durably
from formcheck.server.config import MIN_TOKEN_CHARS, ServerConfig, is_loopback

TOKEN_BYTES = 32  # 256 random bits, URL-safe text
COOKIE_NAME = "formcheck_auth"
COOKIE_MAX_AGE_S = 30 * 86_400  # a browser stays signed in for a month
COOKIE_KEY_LABEL = b"formcheck cookie v1"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Routes anyone may read: the page and its files, and descriptions with nothing private.
PUBLIC_PATHS = frozenset(
    {
        "/",
        "/favicon.ico",
        "/api/health",
        "/api/exercises",
        "/api/messages",
        "/api/schema/report",
        "/api/auth",
        "/openapi.json",
        "/people",  # the people page (its data needs a signed-in account)
        "/api/account/login",  # signing in to an account (formcheck.people.routes)
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
    }
)
# The page's files include what it runs pose with: tasks-vision's module and WebAssembly, and
# the model bundle (formcheck.server.web); nothing in them is private.
PUBLIC_PREFIXES = ("/static/", "/vendor/tasks-vision/", "/models/", "/people/static/")
WS_POLICY_VIOLATION = 1008
HTTP_BAD_REQUEST = 400
HTTP_UNAUTHORIZED = 401
HTTP_FORBIDDEN = 403
UNAUTHORIZED = "unauthorized"
NEEDS_TOKEN = (
    "This server needs its access token: open the link `formcheck serve` printed (it ends "
    "in #token=...), or send the header 'Authorization: Bearer <token>'."
)


class TokenMissingError(FormcheckError):
    """The server would be reachable beyond loopback without a token."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class ResolvedToken:
    value: str | None  # None: no token needed
    source: str  # "none", "setting", "data dir" or "generated"
    path: Path | None = None  # where it is kept, when in the data directory


def resolve_token(config: ServerConfig) -> ResolvedToken:
    """The token this server requires (None when it requires none).

    Given (FORMCHECK_TOKEN): used, also on loopback. Else, when one is required: read from
    the data directory, generated there at the first start. Raises TokenMissingError when
    one is required and there is no data directory to keep it in, or the given one is short.
    """
    if config.token is not None:
        value = config.token.get_secret_value()
        if len(value) < MIN_TOKEN_CHARS:
            raise TokenMissingError(
                f"The access token is {len(value)} characters long; give one of at least "
                f"{MIN_TOKEN_CHARS} (or leave FORMCHECK_TOKEN unset to have one generated)."
            )
        return ResolvedToken(value, "setting")
    if not config.token_required:
        return ResolvedToken(None, "none")
    if config.jobs is None:
        raise TokenMissingError(
            f"The server would listen on {config.host}, beyond this machine, without an access "
            "token: set FORMCHECK_TOKEN or give a data directory to keep a generated one in."
        )
    path = DataDir(config.jobs.data_dir).create().token_path
    if path.is_file():
        value = path.read_text(encoding="utf-8").strip()
        if len(value) >= MIN_TOKEN_CHARS:
            return ResolvedToken(value, "data dir", path)
    value = secrets.token_urlsafe(TOKEN_BYTES)
    write_durably(path, value.encode() + b"\n")
    return ResolvedToken(value, "generated", path)


def _host_name(host_header: str) -> str:
    """The name part of a Host header ("[::1]:8000" -> "::1", "a.b:80" -> "a.b")."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class AccessPolicy:
    """The checks, for one server (see the module's docstring)."""

    def __init__(
        self,
        token: str | None,
        allowed_origins: Iterable[str] = (),
        allowed_hosts: Iterable[str] | None = None,
        signed_in: Callable[[Headers], bool] | None = None,
    ) -> None:
        self.token = token
        # A signed-in account (formcheck.people: its cookie or API token) also passes.
        self.signed_in = signed_in
        self.allowed_origins = frozenset(o.rstrip("/").lower() for o in allowed_origins)
        self.allowed_hosts = (
            None if allowed_hosts is None else frozenset(h.lower() for h in allowed_hosts)
        )
        key = token.encode() if token else b""
        self._cookie = hmac.new(key, COOKIE_KEY_LABEL, hashlib.sha256).hexdigest()

    @classmethod
    def from_config(
        cls,
        config: ServerConfig,
        token: str | None,
        signed_in: Callable[[Headers], bool] | None = None,
    ) -> AccessPolicy:
        hosts = list(config.allowed_hosts) if is_loopback(config.host) else None
        return cls(token, config.allowed_origins, hosts, signed_in)

    @property
    def cookie_value(self) -> str:
        return self._cookie

    def host_allowed(self, host_header: str) -> bool:
        if self.allowed_hosts is None:
            return True
        name = _host_name(host_header)
        return is_loopback(name) or name in self.allowed_hosts

    def origin_allowed(self, origin: str, own_origin: str) -> bool:
        origin = origin.strip().rstrip("/").lower()
        return origin == own_origin.lower() or origin in self.allowed_origins

    def authenticated(self, headers: Headers, *, accounts: bool = True) -> bool:
        """Whether the request carries the token (header) or the cookie; True without one.
        ``accounts``: also ask whether it carries an account's sign-in (a database query)."""
        if self.token is None:
            return True
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), self.token.encode()
        ):
            return True
        cookie = _cookie(headers, COOKIE_NAME)
        if cookie is not None and hmac.compare_digest(cookie.encode(), self._cookie.encode()):
            return True
        return accounts and self.signed_in is not None and self.signed_in(headers)

    def check(self, scope: Scope, *, accounts: bool = True) -> tuple[int, str, str] | None:
        """(status, code, reason) of a refusal, or None when the request may go on.
        ``accounts=False``: without asking the accounts (AccessMiddleware asks them itself,
        off the event loop)."""
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if not self.host_allowed(host):
            return (
                HTTP_BAD_REQUEST,
                "bad_host",
                f"This server does not answer to the name '{_host_name(host)}'; open it as "
                "http://127.0.0.1 or add the name to FORMCHECK_ALLOWED_HOSTS.",
            )
        websocket = scope["type"] == "websocket"
        if websocket or scope.get("method", "GET") not in SAFE_METHODS:
            refusal = self._origin_refusal(scope, headers, host)
            if refusal is not None:
                return refusal
        path = scope.get("path", "")
        if not _is_public(path) and not self.authenticated(headers, accounts=accounts):
            return HTTP_UNAUTHORIZED, UNAUTHORIZED, NEEDS_TOKEN
        return None

    def _origin_refusal(
        self, scope: Scope, headers: Headers, host: str
    ) -> tuple[int, str, str] | None:
        origin = headers.get("origin")
        scheme = "https" if scope.get("scheme") in ("https", "wss") else "http"
        if origin is None:
            if headers.get("sec-fetch-site", "") in ("cross-site", "same-site"):
                return HTTP_FORBIDDEN, "bad_origin", _FOREIGN_PAGE
            return None  # not a browser
        if not self.origin_allowed(origin, f"{scheme}://{host}"):
            return HTTP_FORBIDDEN, "bad_origin", _FOREIGN_PAGE
        return None


_FOREIGN_PAGE = (
    "Requests from another web page are refused: use the page this server serves, or add "
    "that page's origin to FORMCHECK_ALLOWED_ORIGINS."
)


def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def _cookie(headers: Headers, name: str) -> str | None:
    for part in headers.get("cookie", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


class AccessMiddleware:
    """Applies an AccessPolicy to every HTTP request and websocket handshake."""

    def __init__(self, app: ASGIApp, policy: AccessPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = self.policy.check(scope, accounts=False)
        # An account's sign-in is a database query: asked in a worker thread, so a slow
        # database never stalls the event loop (and every live socket with it).
        signed_in = self.policy.signed_in
        if (
            refusal is not None
            and refusal[1] == UNAUTHORIZED
            and signed_in is not None
            and await run_in_threadpool(signed_in, Headers(scope=scope))
        ):
            refusal = None
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, code, reason = refusal
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": WS_POLICY_VIOLATION, "reason": code})
            return
        headers = {"WWW-Authenticate": "Bearer"} if status == HTTP_UNAUTHORIZED else {}
        response = JSONResponse({"detail": reason, "code": code}, status, headers=headers)
        await response(scope, receive, send)


class AuthStatusOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token_required: bool = Field(description="whether this server needs its access token")
    authenticated: bool = Field(description="whether this request carried it (or its cookie)")


def auth_router(policy: AccessPolicy) -> APIRouter:
    """``/api/auth``: whether a token is needed; trade it for a cookie; forget the cookie."""
    router = APIRouter()
    responses: dict[int | str, dict[str, Any]] = {HTTP_UNAUTHORIZED: {"description": NEEDS_TOKEN}}

    @router.get("/api/auth", summary="Whether this server needs its token, and whether it has it")
    def auth_status(request: Request) -> AuthStatusOut:
        return AuthStatusOut(
            token_required=policy.token is not None,
            authenticated=policy.token is not None and policy.authenticated(request.headers),
        )

    @router.post(
        "/api/auth",
        status_code=204,
        summary="Trade the bearer token for a browser cookie (HttpOnly, SameSite=Strict)",
        responses=responses,
        response_class=Response,
    )
    def sign_in(request: Request) -> Response:
        if policy.token is None:
            return Response(status_code=204)
        if not policy.authenticated(request.headers):
            return JSONResponse(
                {"detail": NEEDS_TOKEN, "code": "unauthorized"},
                HTTP_UNAUTHORIZED,
                headers={"WWW-Authenticate": "Bearer"},
            )
        response = Response(status_code=204)
        response.set_cookie(
            COOKIE_NAME,
            policy.cookie_value,
            max_age=COOKIE_MAX_AGE_S,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @router.delete(
        "/api/auth", status_code=204, summary="Forget the cookie", response_class=Response
    )
    def sign_out() -> Response:
        response = Response(status_code=204)
        response.delete_cookie(COOKIE_NAME, httponly=True, samesite="strict")
        return response

    return router
