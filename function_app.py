"""The Function App: one Blueprint per job, so each shows as its own function in the portal."""

import azure.functions as func

from functions import agent_signals, conversations, health, inbox, media, mirror, openapi, templates, webhook
from shared.config import get_settings
from shared.dataverse import announce_mirror_state
from shared.startup_checks import announce_security_state
from shared.telemetry import configure_telemetry

configure_telemetry()  # Application Insights where APPLICATIONINSIGHTS_CONNECTION_STRING is set; else nothing
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
