"""The D365 control's conversation routes: session status, chat history, and Send."""

import azure.functions as func

from functions.http import query, to_http
from shared.services import get_services

bp = func.Blueprint()  # type: ignore[no-untyped-call]
ROUTE = "conversations/{customerId}"
# Anonymous to the Functions host: the control runs in the agent's browser, where a function key could
# not be kept secret. Every call is authenticated in code with the agent's Entra ID token (shared/auth).
AUTH = func.AuthLevel.ANONYMOUS


def _customer(req: func.HttpRequest) -> str:
    return str(req.route_params.get("customerId", ""))


@bp.function_name("get_session")
@bp.route(route=f"{ROUTE}/session", methods=["GET"], auth_level=AUTH)
def get_session(req: func.HttpRequest) -> func.HttpResponse:
    # The API modules are imported on first use, not with the app: sign-in (PyJWT, cryptography),
    # Dataverse and the send pipeline are no part of the webhook, whose cold start they would slow.
    from shared.api import conversations

    authorization = req.headers.get("Authorization")
    return to_http(conversations.session_status(_customer(req), query(req), authorization, get_services()))


@bp.function_name("get_messages")
@bp.route(route=f"{ROUTE}/messages", methods=["GET"], auth_level=AUTH)
def get_messages(req: func.HttpRequest) -> func.HttpResponse:
    from shared.api import conversations

    authorization = req.headers.get("Authorization")
    return to_http(conversations.history(_customer(req), query(req), authorization, get_services()))


@bp.function_name("send_message")
@bp.route(route=f"{ROUTE}/messages", methods=["POST"], auth_level=AUTH)
def send_message(req: func.HttpRequest) -> func.HttpResponse:
    from shared.api import send

    authorization = req.headers.get("Authorization")
    return to_http(
        send.send_message(_customer(req), query(req), req.get_body(), authorization, get_services())
    )
