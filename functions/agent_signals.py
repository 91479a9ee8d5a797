"""The chat panel's read receipts and typing indicator: the agent has read, the agent is typing."""

import azure.functions as func

from functions.http import query, to_http
from shared.services import get_services

bp = func.Blueprint()  # type: ignore[no-untyped-call]
ROUTE = "conversations/{customerId}"
# Anonymous to the Functions host, as the other agent routes: the agent's Entra ID token is checked in code.
AUTH = func.AuthLevel.ANONYMOUS


def _customer(req: func.HttpRequest) -> str:
    return str(req.route_params.get("customerId", ""))


@bp.function_name("mark_read")
@bp.route(route=f"{ROUTE}/read", methods=["POST"], auth_level=AUTH)
def mark_read(req: func.HttpRequest) -> func.HttpResponse:
    from shared.api import agent_signals  # on first use: sign-in and Dataverse are not the webhook's

    authorization = req.headers.get("Authorization")
    return to_http(agent_signals.mark_read(_customer(req), query(req), authorization, get_services()))


@bp.function_name("send_typing")
@bp.route(route=f"{ROUTE}/typing", methods=["POST"], auth_level=AUTH)
def send_typing(req: func.HttpRequest) -> func.HttpResponse:
    from shared.api import agent_signals

    authorization = req.headers.get("Authorization")
    return to_http(agent_signals.typing(_customer(req), query(req), authorization, get_services()))
