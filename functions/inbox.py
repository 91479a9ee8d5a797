"""The agents' inbox: every conversation of a business number, newest activity first."""

import azure.functions as func

from functions.http import query, to_http
from shared.services import get_services

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@bp.function_name("get_inbox")
@bp.route(route="conversations", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)  # Entra ID, in code
def get_inbox(req: func.HttpRequest) -> func.HttpResponse:
    from shared.api.inbox import inbox  # on first use: sign-in and Dataverse are not the webhook's

    return to_http(inbox(query(req), req.headers.get("Authorization"), get_services()))
