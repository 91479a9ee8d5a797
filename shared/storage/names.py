"""Names of the queues the app writes to; the infrastructure and the local stack create the same ones."""

DATAVERSE_MIRROR_QUEUE = "dataverse-mirror"
MEDIA_INBOUND_QUEUE = "media-inbound"
POISON_SUFFIX = "-poison"

APP_QUEUES = (DATAVERSE_MIRROR_QUEUE, MEDIA_INBOUND_QUEUE)
ALL_QUEUES = tuple(q for name in APP_QUEUES for q in (name, name + POISON_SUFFIX))
