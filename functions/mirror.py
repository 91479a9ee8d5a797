"""Queue `dataverse-mirror`: each message's latest state onto the D365 Timeline, off the webhook's path."""

import azure.functions as func

from shared.storage.names import DATAVERSE_MIRROR_QUEUE

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@bp.function_name("mirror_to_dataverse")
@bp.queue_trigger(arg_name="msg", queue_name=DATAVERSE_MIRROR_QUEUE, connection="AzureWebJobsStorage")
def mirror_to_dataverse(msg: func.QueueMessage) -> None:
    # Imported on the first message, not at start-up: the HTTP client stack costs ~50 ms of cold start.
    from shared.dataverse import composition
    from shared.dataverse.queue_handler import handle_mirror_message
    from shared.services import get_services

    mirror = composition.get_mirror()
    if mirror is None:  # DATAVERSE_URL unset: the mirror is off; ack without calling anything
        return
    notifier = composition.get_notifier()
    handle_mirror_message(mirror, msg.get_body(), msg.dequeue_count, get_services().queue, notifier)
