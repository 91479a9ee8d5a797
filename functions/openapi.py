"""GET /api/openapi.json: the D365-facing API's contract, for the control's developers and tools."""

import azure.functions as func

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@bp.function_name("openapi")
@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    from shared.api.openapi import committed_document  # on first use: it imports every API model

    return func.HttpResponse(committed_document(), mimetype="application/json", charset="utf-8")
