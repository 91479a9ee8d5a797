"""Media: the control's upload button, and copying customers' files from Meta into Blob Storage."""

import azure.functions as func

from functions.http import query, to_http
from shared.services import get_services
from shared.storage.names import MEDIA_INBOUND_QUEUE

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@bp.function_name("upload_media")
@bp.route(route="media", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)  # Entra ID, in code
def upload_media(req: func.HttpRequest) -> func.HttpResponse:
    from shared.api.media import upload_media as handle_upload  # on first use, not with the webhook

    # The request's headers look up names case-insensitively, as HTTP wants: pass them as they are.
    return to_http(
        handle_upload(
            req.get_body(), req.headers, query(req), req.headers.get("Authorization"), get_services()
        )
    )


@bp.function_name("copy_inbound_media")
@bp.queue_trigger(arg_name="msg", queue_name=MEDIA_INBOUND_QUEUE, connection="AzureWebJobsStorage")
def copy_inbound_media(msg: func.QueueMessage) -> None:
    from shared.conversations.queue_messages import MediaCopyRequest
    from shared.media.inbound_copy import CopyInboundMedia

    services = get_services()
    request = MediaCopyRequest.model_validate_json(msg.get_body())
    CopyInboundMedia(
        services.store,
        services.media,
        services.sender,
        services.queue,
        services.mirror_timing,
        services.clock,
    )(request)
