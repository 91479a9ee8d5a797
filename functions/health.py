"""GET /api/health."""

import azure.functions as func

from functions.http import to_http
from shared.api.health import health as check_health
from shared.services import get_services

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@bp.function_name("health")
@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    return to_http(check_health(get_services()))
