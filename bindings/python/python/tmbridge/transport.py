"""Transports: how a session's requests reach the target.

A transport is any object with ``send(request) -> response`` (``AsyncTransport``:
``async def send``). ``request`` is a complete :class:`~tmbridge.types.HttpRequest`
(method, url, headers, body; binary bodies as ``body_base64``, see :func:`body_bytes`):
send it exactly as given, adding nothing and following
no redirect. Return an :class:`~tmbridge.types.HttpResponse`: for any answer of the
server ``{"kind": "answered", "status", "headers", "body"}``; when there was none,
``kind`` says what happened (``connect_failed``: not delivered; ``timeout`` or
``dropped``: the server may have acted). An exception raised by ``send`` counts as
``dropped``, the safe choice: the session then looks before it writes again.

:class:`UrllibTransport` is the built-in one, on the standard library alone.
"""

from __future__ import annotations

import base64

import http.client
import socket
import ssl
import urllib.error
import urllib.request
from typing import Any, Optional, Protocol


from .types import HttpRequest, HttpResponse, ResponseKind

__all__ = ["AsyncTransport", "Transport", "UrllibTransport", "body_bytes", "no_answer"]


class Transport(Protocol):
    """Sends one request and returns the answer (see the module's documentation)."""

    def send(self, request: HttpRequest) -> HttpResponse: ...


class AsyncTransport(Protocol):
    """:class:`Transport` for asyncio (an ``httpx.AsyncClient`` behind a 5-line adapter)."""

    async def send(self, request: HttpRequest) -> HttpResponse: ...


def body_bytes(request: HttpRequest) -> Optional[bytes]:
    """The request's body as bytes: ``body_base64`` decoded when the session sends binary
    data (a multipart upload), else ``body`` as UTF-8; ``None`` without a body."""
    binary = request.get("body_base64")
    if binary is not None:
        return base64.b64decode(binary)
    body = request["body"]
    return None if body is None else body.encode("utf-8")


def no_answer(kind: ResponseKind, why: str) -> HttpResponse:
    """The response for an exchange without an answer: ``connect_failed``, ``timeout``
    or ``dropped``, with ``why`` as text (it must not contain a secret)."""
    return {"kind": kind, "status": 0, "headers": [], "body": why}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect means a wrong URL: the session decides, and the API key must not
    # follow it to another host.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class UrllibTransport:
    """HTTP with ``urllib.request``: proxies from the environment (``HTTPS_PROXY``,
    ``NO_PROXY``) and TLS verification as the standard library does them, redirects
    never followed, ``timeout`` seconds for connecting and for each read."""

    def __init__(self, timeout: float = 60.0, ssl_context: Optional[ssl.SSLContext] = None) -> None:
        self.timeout = timeout
        handlers: list[urllib.request.BaseHandler] = [_NoRedirects()]
        if ssl_context is not None:
            handlers.append(urllib.request.HTTPSHandler(context=ssl_context))
        self._opener = urllib.request.build_opener(*handlers)

    def send(self, request: HttpRequest) -> HttpResponse:
        outgoing = urllib.request.Request(
            request["url"],
            data=body_bytes(request),
            headers={name: value for name, value in request["headers"]},
            method=request["method"],
        )
        try:
            with self._opener.open(outgoing, timeout=self.timeout) as answer:
                return _answered(answer.status, answer.headers.items(), answer.read())
        except urllib.error.HTTPError as error:  # 4xx, 5xx, 3xx: an answer all the same
            try:
                data = error.read()
            except (OSError, http.client.HTTPException) as broken:
                return _failed(broken)
            return _answered(error.code, error.headers.items(), data)
        except urllib.error.URLError as error:
            # Raised while connecting or sending: not delivered unless the
            # connection broke while the request went out.
            reason = error.reason
            if isinstance(reason, (socket.timeout, TimeoutError)):
                return no_answer("timeout", "no answer in time")
            if isinstance(reason, (ConnectionRefusedError, socket.gaierror, ssl.SSLError)):
                return no_answer("connect_failed", _why(reason))
            if isinstance(reason, BaseException):
                return _failed(reason)
            return no_answer("connect_failed", "the connection failed")
        except (OSError, http.client.HTTPException) as error:
            return _failed(error)


def _answered(status: int, headers: Any, data: bytes) -> HttpResponse:
    answer: HttpResponse = {
        "kind": "answered",
        "status": status,
        "headers": [(str(n), str(v)) for n, v in headers],
        "body": "",
    }
    try:
        answer["body"] = data.decode("utf-8")
    except UnicodeDecodeError:
        # Bytes the core must see as they are (a zip archive), not as text.
        answer["body_base64"] = base64.b64encode(data).decode("ascii")
    return answer


def _failed(error: BaseException) -> HttpResponse:
    if isinstance(error, (socket.timeout, TimeoutError)):
        return no_answer("timeout", "no answer in time")
    return no_answer("dropped", _why(error))


def _why(error: BaseException) -> str:
    # The exception's class and OS error text only: its str() may quote a URL.
    strerror = getattr(error, "strerror", None)
    return type(error).__name__ + (f": {strerror}" if strerror else "")
