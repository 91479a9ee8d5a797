"""The D365 control's reads: session status and chat history."""

import azure.functions as func

from functions.http import query, to_http
from shared.api import conversations
from shared.services import get_services

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@bp.function_name("get_session")
@bp.route(route="conversations/{customerId}/session", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def get_session(req: func.HttpRequest) -> func.HttpResponse:
    customer = req.route_params.get("customerId", "")
    return to_http(conversations.session_status(customer, query(req), get_services()))


@bp.function_name("get_messages")
@bp.route(route="conversations/{customerId}/messages", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def get_messages(req: func.HttpRequest) -> func.HttpResponse:
    customer = req.route_params.get("customerId", "")
    return to_http(conversations.history(customer, query(req), get_services()))
