"""Translation between the Functions HTTP types and the app's plain ApiResponse."""

from __future__ import annotations

import azure.functions as func

from shared.api.responses import ApiResponse


def to_http(response: ApiResponse) -> func.HttpResponse:
    return func.HttpResponse(
        body=response.body,
        status_code=response.status,
        headers=response.headers,
        mimetype=response.content_type,
        charset="utf-8",
    )


def query(req: func.HttpRequest) -> dict[str, str]:
    return dict(req.params)
