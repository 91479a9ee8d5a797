"""HTTP answers as plain data, so the use cases stay testable without the Functions runtime."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: str
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> ApiResponse:
    return ApiResponse(status, json.dumps(payload, ensure_ascii=False), headers=headers or {})


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> ApiResponse:
    """The one error shape of the API: `{"error": {"code", "message"}}`."""
    return json_response(status, {"error": {"code": code, "message": message}}, headers)


def text_response(status: int, text: str) -> ApiResponse:
    return ApiResponse(status, text, content_type="text/plain")
