"""A local stand-in for the Functions host: serves `function_app`'s HTTP triggers on their routes and
runs its queue triggers against Azurite with host.json's retry and poison-queue rules.

Core Tools cannot be installed everywhere (and not here); this keeps `make run` honest by driving the
very functions the app registers, through the same `azure.functions` request and message types.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import azure.functions as func
from azure.functions.decorators.http import HttpTrigger
from azure.functions.decorators.queue import QueueTrigger
from azure.functions.queue import QueueMessage as TriggerQueueMessage
from azure.storage.queue import QueueClient, QueueMessage
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from shared.api.webhook import MAX_BODY_BYTES as WEBHOOK_MAX_BODY_BYTES
from shared.log_redaction import redact

log = logging.getLogger("devhost")
WsgiApp = Callable[..., Iterable[bytes]]
# Functions whose request bodies are capped here, before they are read (the app checks again).
BODY_LIMITS: Mapping[str, int] = {"whatsapp_webhook": WEBHOOK_MAX_BODY_BYTES}


def _timespan(value: str | None, default: float) -> float:
    """host.json time spans are `hh:mm:ss`."""
    if not value:
        return default
    hours, minutes, seconds = value.split(":")
    return timedelta(hours=int(hours), minutes=int(minutes), seconds=float(seconds)).total_seconds()


@dataclass(frozen=True)
class QueueRules:
    """The subset of host.json `extensions.queues` that decides retries and poison messages."""

    max_dequeue_count: int = 5
    visibility_timeout: float = 0.0
    max_polling_interval: float = 2.0
    batch_size: int = 16
    base64: bool = True

    @classmethod
    def from_host_json(cls, path: Path) -> QueueRules:
        queues = json.loads(path.read_text()).get("extensions", {}).get("queues", {})
        return cls(
            max_dequeue_count=int(queues.get("maxDequeueCount", 5)),
            visibility_timeout=_timespan(queues.get("visibilityTimeout"), 0.0),
            max_polling_interval=_timespan(queues.get("maxPollingInterval"), 2.0),
            batch_size=int(queues.get("batchSize", 16)),
            base64=queues.get("messageEncoding", "base64") == "base64",
        )


@cache  # never evict: a second get_functions() on an app raises
def functions_of(app: func.FunctionApp) -> tuple[Any, ...]:
    """`FunctionApp.get_functions()` refuses a second call (it re-validates names): ask once per app."""
    return tuple(app.get_functions())


def _call(function: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    result = function(**kwargs)
    if inspect.iscoroutine(result):
        result = asyncio.run(result)
    return result


def _werkzeug_route(route: str) -> str:
    """`conversations/{customerId}/session` -> `/api/conversations/<customerId>/session`."""

    def convert(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        if name.endswith("?"):
            raise ValueError(f"optional route parameters are not supported by the local host: {route}")
        return f"<path:{name[1:]}>" if name.startswith("*") else f"<{name}>"

    return "/api/" + re.sub(r"\{([^}]+)\}", convert, route.strip("/"))


def _json_error(status: int, code: str, message: str) -> Response:
    body = json.dumps({"error": {"code": code, "message": message}})
    return Response(body, status=status, mimetype="application/json")


class HttpFunctions:
    """WSGI application over the app's HTTP triggers. Function keys are not enforced (as with Core Tools)."""

    def __init__(self, functions: Iterable[Any], body_limits: Mapping[str, int] = BODY_LIMITS):
        self.body_limits = body_limits
        self.handlers: dict[str, tuple[Callable[..., Any], str]] = {}
        rules = []
        for function in functions:
            trigger = function.get_trigger()
            if not isinstance(trigger, HttpTrigger):
                continue
            name = function.get_function_name()
            methods = [str(getattr(m, "value", m)) for m in (trigger.methods or [])] or ["GET", "POST"]
            route = trigger.route or name
            rules.append(Rule(_werkzeug_route(route), endpoint=name, methods=methods))
            self.handlers[name] = (function.get_user_function(), trigger.name)
        self.url_map = Map(rules, strict_slashes=False)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, route_params = self.url_map.bind_to_environ(environ).match()
        except HTTPException as error:
            return _json_error(error.code or 404, "not_found", str(error.description))(
                environ, start_response
            )
        handler, arg_name = self.handlers[endpoint]
        # werkzeug refuses a longer Content-Length before reading a byte, and stops a chunked body at it.
        request.max_content_length = self.body_limits.get(endpoint)
        try:
            body = request.get_data()
        except RequestEntityTooLarge:
            too_large = f"The body is larger than {request.max_content_length} bytes."
            return _json_error(413, "payload_too_large", too_large)(environ, start_response)
        http_request = func.HttpRequest(
            method=request.method,
            url=request.url,
            headers=dict(request.headers),
            params=dict(request.args),
            route_params=route_params,
            body=body,
        )
        try:
            result: func.HttpResponse = _call(handler, {arg_name: http_request})
        except Exception:
            log.exception("function %s raised", endpoint)
            return Response("", status=500)(environ, start_response)
        headers = {k: v for k, v in result.headers.items() if k.lower() != "content-type"}
        content_type = result.mimetype or "text/plain"
        if result.charset:
            content_type += f"; charset={result.charset}"
        response = Response(
            result.get_body(), status=result.status_code, headers=headers, content_type=content_type
        )
        return response(environ, start_response)


class RedactingRequestHandler(WSGIRequestHandler):
    """werkzeug logs each request line with its query string; Meta's handshake puts our verify token
    there. Redacted here, whatever logging is configured (werkzeug may add a handler of its own)."""

    def log(self, type: str, message: str, *args: Any) -> None:
        super().log(type, "%s", redact(message % args if args else message))


class Cors:
    """What App Service's platform CORS does in Azure (infra sets `allowedOrigins`): only the D365
    org's origins may call the API from a browser."""

    ALLOWED_METHODS = "GET, POST, OPTIONS"

    def __init__(self, app: WsgiApp, allowed_origins: Iterable[str]):
        self.app = app
        self.allowed = frozenset(allowed_origins)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        if origin is None:
            return self.app(environ, start_response)
        allowed = origin in self.allowed
        if environ["REQUEST_METHOD"] == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            if not allowed:
                return Response(status=403)(environ, start_response)
            preflight = Response(status=204)
            preflight.headers.update(
                {
                    "Access-Control-Allow-Origin": origin,
                    "Access-Control-Allow-Methods": self.ALLOWED_METHODS,
                    "Access-Control-Allow-Headers": environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", ""),
                    "Access-Control-Max-Age": "3600",
                    "Vary": "Origin",
                }
            )
            return preflight(environ, start_response)

        def with_cors(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            if allowed:
                headers = [*headers, ("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
            return start_response(status, headers, *args)

        return self.app(environ, with_cors)


@dataclass
class QueueTriggerBinding:
    function_name: str
    handler: Callable[..., Any]
    arg_name: str
    queue_name: str
    connection: str


def queue_triggers(functions: Iterable[Any]) -> list[QueueTriggerBinding]:
    found = []
    for function in functions:
        trigger = function.get_trigger()
        if isinstance(trigger, QueueTrigger):
            found.append(
                QueueTriggerBinding(
                    function.get_function_name(),
                    function.get_user_function(),
                    trigger.name,
                    trigger.queue_name,
                    trigger.connection or "AzureWebJobsStorage",
                )
            )
    return found


class QueueWorker(threading.Thread):
    """Polls one queue like the Functions host: delete on success; on failure make the message visible
    again after `visibilityTimeout`; after `maxDequeueCount` attempts move it to `<queue>-poison`."""

    def __init__(self, binding: QueueTriggerBinding, connection_string: str, rules: QueueRules):
        super().__init__(name=f"queue:{binding.queue_name}", daemon=True)
        self.binding = binding
        self.rules = rules
        self.queue = QueueClient.from_connection_string(connection_string, binding.queue_name)
        self.poison = QueueClient.from_connection_string(connection_string, binding.queue_name + "-poison")
        self.stopping = threading.Event()

    def run(self) -> None:
        delay = 0.1
        while not self.stopping.is_set():
            try:
                handled = self.poll_once()
            except Exception:
                log.exception("polling %s failed", self.binding.queue_name)
                handled = 0
            delay = 0.1 if handled else min(delay * 2, self.rules.max_polling_interval)
            if not handled:
                self.stopping.wait(delay)

    def poll_once(self) -> int:
        visibility = max(int(self.rules.visibility_timeout), 30)
        messages = list(
            self.queue.receive_messages(
                messages_per_page=self.rules.batch_size, visibility_timeout=visibility
            )
        )
        for message in messages:
            self.process(message)
        return len(messages)

    def process(self, message: QueueMessage) -> None:
        raw = str(message.content)
        body = base64.b64decode(raw) if self.rules.base64 else raw.encode()
        trigger_message = TriggerQueueMessage(  # type: ignore[no-untyped-call]
            id=message.id,
            body=body,
            pop_receipt=message.pop_receipt,
            dequeue_count=message.dequeue_count,
            insertion_time=message.inserted_on,
            expiration_time=message.expires_on,
            time_next_visible=message.next_visible_on,
        )
        try:
            _call(self.binding.handler, {self.binding.arg_name: trigger_message})
        except Exception:
            attempts = message.dequeue_count or 1
            log.exception(
                "%s failed on message %s (attempt %d of %d)",
                self.binding.function_name, message.id, attempts, self.rules.max_dequeue_count,
            )  # fmt: skip
            if attempts >= self.rules.max_dequeue_count:
                self.poison.send_message(raw)
                self.queue.delete_message(message)
                log.error("moved message %s to %s-poison", message.id, self.binding.queue_name)
            else:
                self.queue.update_message(message, visibility_timeout=int(self.rules.visibility_timeout))
            return
        self.queue.delete_message(message)

    def stop(self) -> None:
        self.stopping.set()


class LocalFunctionsHost:
    """HTTP server plus queue workers for one FunctionApp."""

    def __init__(
        self,
        app: func.FunctionApp,
        connection_strings: dict[str, str],
        rules: QueueRules,
        host: str = "127.0.0.1",
        port: int = 7071,
        allowed_origins: Iterable[str] = (),
        run_queue_triggers: bool = True,
    ):
        functions = functions_of(app)
        self.server: BaseWSGIServer = make_server(
            host,
            port,
            Cors(HttpFunctions(functions), allowed_origins),
            threaded=True,
            request_handler=RedactingRequestHandler,
        )
        self.workers = [
            QueueWorker(binding, connection_strings[binding.connection], rules)
            for binding in (queue_triggers(functions) if run_queue_triggers else [])
        ]
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"

    def start_workers(self) -> None:
        for worker in self.workers:
            worker.start()

    def serve_forever(self) -> None:
        self.start_workers()
        self.server.serve_forever()

    def start_in_background(self) -> None:
        self.start_workers()
        self._thread = threading.Thread(target=self.server.serve_forever, name="devhost-http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.server.shutdown()
        for worker in self.workers:
            if worker.is_alive():
                worker.join(timeout=5)
