"""Which conversation a D365 record's number means, when WhatsApp knows the customer by another
spelling: the conversation document remembers an alias once a send has revealed it, and the usual
rewrites (Brazil's ninth digit, Mexico's "1") are tried before any message exists."""

from __future__ import annotations

from shared.conversations.customer_id import whatsapp_variants
from shared.conversations.documents import CONVERSATION_DOCUMENT_ID, conversation_id
from shared.conversations.identity import HOME_DOCUMENTS
from shared.conversations.ports import ConversationStore


def known_customer(store: ConversationStore, phone_number_id: str, customer_id: str) -> str:
    """The customer id the conversation is kept under; one request when nothing is aliased (it reads
    the session with the conversation, for the route that follows: see read_cache.py)."""
    own = store.read_many(conversation_id(phone_number_id, customer_id), HOME_DOCUMENTS)
    if (found := own.get(CONVERSATION_DOCUMENT_ID)) is not None:
        home = str(found.get("aliasOf") or customer_id)
        if home != customer_id:
            store.read_many(conversation_id(phone_number_id, home), HOME_DOCUMENTS)
        return home
    for variant in whatsapp_variants(customer_id):
        if store.read(conversation_id(phone_number_id, variant), CONVERSATION_DOCUMENT_ID) is not None:
            return variant
    return customer_id
