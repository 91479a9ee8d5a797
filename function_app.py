"""The Function App: one Blueprint per job, so each shows as its own function in the portal."""

import azure.functions as func

from shared.config import get_settings
from shared.storage.clients import connect_cosmos_in_background
from shared.telemetry import configure_telemetry

configure_telemetry()  # Application Insights where APPLICATIONINSIGHTS_CONNECTION_STRING is set; else nothing
# The Cosmos DB client reads the account when built (and first gets a token in Azure): started now, that
# wait overlaps importing the rest of the app rather than adding to the first webhook.
connect_cosmos_in_background(get_settings())

from functions import (  # noqa: E402 - after the connection is under way
    agent_signals,
    conversations,
    health,
    inbox,
    media,
    mirror,
    openapi,
    templates,
    webhook,
)
from shared.dataverse import announce_mirror_state  # noqa: E402
from shared.startup_checks import announce_security_state  # noqa: E402

announce_mirror_state(get_settings())  # operators look for this line after a deploy
announce_security_state(get_settings())  # unresolved secrets, sign-in off, every number or record open

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (
    webhook.bp,
    conversations.bp,
    inbox.bp,
    agent_signals.bp,
    templates.bp,
    media.bp,
    mirror.bp,
    health.bp,
    openapi.bp,
):
    app.register_functions(blueprint)
