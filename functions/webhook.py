"""Meta's webhook: anonymous at the Functions level, authenticated by the HMAC signature."""

import azure.functions as func

from functions.http import query, to_http
from shared.api import webhook
from shared.services import get_services
from shared.whatsapp.signature import SIGNATURE_HEADER

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@bp.function_name("whatsapp_webhook_verify")
@bp.route(route="whatsapp/webhook", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def whatsapp_webhook_verify(req: func.HttpRequest) -> func.HttpResponse:
    return to_http(webhook.verify(query(req), get_services()))


@bp.function_name("whatsapp_webhook")
@bp.route(route="whatsapp/webhook", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def whatsapp_webhook(req: func.HttpRequest) -> func.HttpResponse:
    return to_http(webhook.receive(req.get_body(), req.headers.get(SIGNATURE_HEADER), get_services()))
