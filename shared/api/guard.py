"""The D365-facing routes accept only a valid Entra ID token (or anything, where AUTH_DISABLED is set)."""

from __future__ import annotations

from shared.api.responses import ApiResponse, error_response
from shared.auth.entra import AuthError, Principal, authenticate
from shared.config import Settings


def caller(authorization: str | None, settings: Settings) -> Principal | ApiResponse:
    """The authenticated agent, or the 401/403/503 answer to give instead."""
    try:
        return authenticate(authorization, settings)
    except AuthError as error:
        return error_response(error.status, error.code, error.message, dict(error.headers))
