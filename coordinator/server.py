"""The gRPC server: binds (port 0 picks a free port) and maps our errors to status codes.

The interceptor is the one place where Tradewind exceptions become gRPC statuses; a bug in a
handler becomes INTERNAL with its message, and the coordinator keeps serving.
"""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from coordinator.validation import check_request
from tradewind.config import parse_address
from tradewind.exceptions import ApiError, InvalidArgument, TradewindError

log = logging.getLogger("tradewind.coordinator")

_CODES = {code.name: code for code in grpc.StatusCode}
CONTROL_SERVICE = "/tradewind.v1.ControlService/"


def status_for(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    if isinstance(exc, ApiError):
        return _CODES.get(exc.code, grpc.StatusCode.UNKNOWN), str(exc)
    if isinstance(exc, TradewindError):
        return grpc.StatusCode.INVALID_ARGUMENT, str(exc)
    return grpc.StatusCode.INTERNAL, f"internal error: {type(exc).__name__}: {exc}"


class Malformed:
    """What the request deserializer returns for bytes that are not the request message.

    gRPC would answer a deserializer's exception with INTERNAL; the handler wrappers below
    turn this into INVALID_ARGUMENT naming the message type instead.
    """

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def error(self) -> InvalidArgument:
        return InvalidArgument(f"request is not a valid {self.type_name}")


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None
    message_type = getattr(deserializer, "__self__", None)
    type_name = message_type.DESCRIPTOR.full_name if message_type is not None else "request message"

    def deserialize(data: bytes) -> Any:
        try:
            return deserializer(data)
        except DecodeError:
            return Malformed(type_name)

    return deserialize


def _checked(request: Any, check: Callable[[Any], None] | None) -> Any:
    if isinstance(request, Malformed):
        raise request.error()
    if check is not None:
        check(request)
    return request


async def _checked_stream(requests: AsyncIterator[Any], check: Callable[[Any], None] | None) -> AsyncIterator[Any]:
    async for request in requests:
        yield _checked(request, check)


class ErrorInterceptor(grpc.aio.ServerInterceptor):
    """Maps our errors to statuses; refuses undecodable messages, and ControlService requests
    that break control.proto's input rules, with INVALID_ARGUMENT before any handler runs."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None:
            return handler
        method = details.method
        check = check_request if method.startswith(CONTROL_SERVICE) else None
        handler = handler._replace(request_deserializer=_tolerant(handler.request_deserializer))
        if handler.unary_unary is not None:
            inner_uu = handler.unary_unary

            async def unary_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
                try:
                    return await inner_uu(_checked(request, check), context)
                except Exception as exc:  # noqa: BLE001 - the error boundary
                    await _abort(context, exc, method)

            return handler._replace(unary_unary=unary_unary)
        if handler.unary_stream is not None:
            inner_us = handler.unary_stream

            async def unary_stream(request: Any, context: grpc.aio.ServicerContext) -> Any:
                try:
                    async for item in inner_us(_checked(request, check), context):
                        yield item
                except Exception as exc:  # noqa: BLE001
                    await _abort(context, exc, method)

            return handler._replace(unary_stream=unary_stream)
        if handler.stream_stream is not None:
            inner_ss = handler.stream_stream

            async def stream_stream(requests: Any, context: grpc.aio.ServicerContext) -> Any:
                try:
                    async for item in inner_ss(_checked_stream(requests, check), context):
                        yield item
                except Exception as exc:  # noqa: BLE001
                    await _abort(context, exc, method)

            return handler._replace(stream_stream=stream_stream)
        return handler


async def _abort(context: grpc.aio.ServicerContext, exc: Exception, method: str) -> None:
    if isinstance(exc, grpc.aio.AbortError):
        raise exc
    code, message = status_for(exc)
    if code is grpc.StatusCode.INTERNAL:
        log.error("%s failed", method, exc_info=exc)
    await context.abort(code, message)


OPTIONS = [
    ("grpc.max_receive_message_length", 16 * 1024 * 1024),
    ("grpc.max_send_message_length", 16 * 1024 * 1024),
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.http2.min_ping_interval_without_data_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 1),
    # Without this, a second coordinator on the same port would share it silently.
    ("grpc.so_reuseport", 0),
]


def create_server(*first: grpc.aio.ServerInterceptor) -> grpc.aio.Server:
    """A server whose calls pass `first` (the auth interceptor), then ErrorInterceptor."""
    return grpc.aio.server(interceptors=[*first, ErrorInterceptor()], options=OPTIONS)


def bind(server: grpc.aio.Server, address: str, tls: grpc.ServerCredentials | None = None) -> int:
    """Listen on HOST:PORT and return the port; OSError with one line when that is impossible.

    The address is tried with a plain socket first because gRPC only says "Failed to bind"
    and prints its own lines to stderr. With `tls`, the port speaks only TLS.
    """
    host, port = parse_address(address, "bind")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError):
        raise OSError(f"{address} is not a valid address to listen on") from None
    family, kind, proto, _, sockaddr = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(sockaddr)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise OSError(f"{address} is in use") from None
            if exc.errno == errno.EADDRNOTAVAIL:
                raise OSError(f"{address} is not an address of this machine") from None
            raise OSError(f"cannot listen on {address}: {exc.strerror}") from None
    try:
        if tls is not None:
            return int(server.add_secure_port(address, tls))
        return int(server.add_insecure_port(address))
    except RuntimeError:
        raise OSError(f"cannot listen on {address}: the address is in use or not local") from None
