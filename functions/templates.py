"""The chat panel's template picker: the approved templates of a business number's account."""

import azure.functions as func

from functions.http import query, to_http
from shared.services import get_services

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@bp.function_name("get_templates")
@bp.route(route="templates", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)  # Entra ID, in code
def get_templates(req: func.HttpRequest) -> func.HttpResponse:
    from shared.api import templates  # on first use: sign-in and the catalog are not the webhook's

    authorization = req.headers.get("Authorization")
    return to_http(templates.list_templates(query(req), authorization, get_services()))
