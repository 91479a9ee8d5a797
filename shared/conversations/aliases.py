"""Which conversation a D365 record's number means, when WhatsApp knows the customer by another
spelling: the conversation document remembers an alias once a send has revealed it, and the usual
rewrites (Brazil's ninth digit, Mexico's "1") are tried before any message exists."""

from __future__ import annotations

from shared.conversations.customer_id import whatsapp_variants
from shared.conversations.documents import CONVERSATION_DOCUMENT_ID, conversation_id
from shared.conversations.ports import ConversationStore


def known_customer(store: ConversationStore, phone_number_id: str, customer_id: str) -> str:
    """The customer id the conversation is kept under; one point read when nothing is aliased."""
    own = store.read(conversation_id(phone_number_id, customer_id), CONVERSATION_DOCUMENT_ID)
    if own is not None:
        return str(own.get("aliasOf") or customer_id)
    for variant in whatsapp_variants(customer_id):
        if store.read(conversation_id(phone_number_id, variant), CONVERSATION_DOCUMENT_ID) is not None:
            return variant
    return customer_id
