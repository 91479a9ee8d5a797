"""Application Insights through OpenTelemetry, and the app's own metrics; nothing at all where unconfigured.

`configure_telemetry()` is called once when `function_app` is imported. Without
`APPLICATIONINSIGHTS_CONNECTION_STRING` (tests, `make run`) it returns at once and imports nothing, and
every `record_*` call is a no-op. In Azure, infra sets `PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY=true`,
so the Functions Python worker has already run `configure_azure_monitor()` before this module's caller
is imported (which also correlates our log lines with the host's invocation); this module then only
creates its instruments. Anywhere else with a connection string it configures Azure Monitor itself.

Log records keep their `extra={...}` fields: each becomes a customDimension of the same name
(`customDimensions.wamid`, `customDimensions.conversationId`, `customDimensions.metaErrorCode`, values as
strings; `None` values are dropped). The metrics land in `customMetrics` under the names below.
docs/monitoring.md has the KQL; infra/app/alerts.bicep alerts on `META_ERRORS`. Meta's account, number
and template events are log lines, not metrics (`shared/whatsapp/account_events.py`).

Meta's verification handshake carries our verify token in its query string: the root logger's handlers
get a filter that redacts it (always, telemetry or not), and request spans get their URL attributes
redacted as they start (`shared/log_redaction.py`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from shared.log_redaction import install_log_redaction, redacted_url_attributes

if TYPE_CHECKING:
    from opentelemetry.metrics import Counter, Histogram, Meter, MeterProvider
    from opentelemetry.sdk.trace import SpanProcessor
    from opentelemetry.trace import TracerProvider

CONNECTION_STRING_SETTING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
METER_NAME = "whatsapp_d365"

# Metric names as they appear in customMetrics.name.
MESSAGES = "whatsapp.messages"  # counter; direction, kind
WINDOW_REFUSALS = "whatsapp.window_refusals"  # counter; source
META_ERRORS = "whatsapp.meta_errors"  # counter; code, operation
MIRROR_LAG = "whatsapp.mirror_lag_seconds"  # histogram; seconds from a message's write to Dataverse
REJECTED_ITEMS = "whatsapp.rejected_items"  # counter; reason, field

# Loggers that would otherwise send a trace per HTTP request the SDKs make (Cosmos DB, queues, token
# refreshes, the exporter's own uploads). Their warnings and errors still go through.
CHATTY_LOGGERS = (
    "azure.core.pipeline.policies.http_logging_policy",
    "azure.identity",
    "azure.monitor.opentelemetry.exporter",
)

WindowRefusalSource = Literal["session", "meta"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Instruments:
    messages: Counter
    window_refusals: Counter
    meta_errors: Counter
    mirror_lag: Histogram
    rejected_items: Counter


_instruments: _Instruments | None = None
_redacting_provider: object | None = None  # the tracer provider that already has the URL redaction


def configure_telemetry(
    environ: Mapping[str, str] | None = None,
    meter_provider: MeterProvider | None = None,
    tracer_provider: TracerProvider | None = None,
) -> bool:
    """Turns telemetry on where Application Insights is configured; True when it is on. Safe to call twice.

    `meter_provider` and `tracer_provider` replace the global ones (tests read what is recorded in
    memory).
    """
    global _instruments
    install_log_redaction()  # the worker's and the exporter's handlers are on the root logger by now
    if _instruments is not None:
        return True
    env = os.environ if environ is None else environ
    connection_string = env.get(CONNECTION_STRING_SETTING, "").strip()
    if not connection_string:
        return False

    try:
        # Imported only here: the OpenTelemetry SDK and the exporter cost cold-start time.
        from opentelemetry import metrics, trace

        if meter_provider is None:
            if not _sdk_meter_provider_installed():
                from azure.monitor.opentelemetry import configure_azure_monitor

                configure_azure_monitor(connection_string=connection_string)
                install_log_redaction()  # configure_azure_monitor added its log handler just now
            meter_provider = metrics.get_meter_provider()
        install_span_redaction(trace.get_tracer_provider() if tracer_provider is None else tracer_provider)
    except Exception:  # telemetry must never keep the app from starting
        log.exception("Application Insights telemetry is off: it could not be configured")
        return False
    for name in CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.level, logging.WARNING))
    _instruments = _create_instruments(meter_provider.get_meter(METER_NAME))
    return True


def install_span_redaction(provider: object) -> bool:
    """Registers `redacting_span_processor()` on an SDK tracer provider (once); False for any other."""
    global _redacting_provider
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider

    if not isinstance(provider, SdkTracerProvider):
        return False
    if provider is not _redacting_provider:
        provider.add_span_processor(redacting_span_processor())
        _redacting_provider = provider
    return True


def redacting_span_processor() -> SpanProcessor:
    """A span processor that redacts the verify token from a span's URL attributes when it starts.

    A processor may still set attributes in `on_start`, and exporters only read them at the end, so
    the order among processors does not matter. Attributes set after the start are not seen: HTTP
    server instrumentations pass the URL when they start the span. Built here so that OpenTelemetry is
    imported only where telemetry is on.
    """
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import Span
    from opentelemetry.sdk.trace import SpanProcessor as SdkSpanProcessor

    class RedactVerifyTokenInUrls(SdkSpanProcessor):
        def on_start(self, span: Span, parent_context: Context | None = None) -> None:
            for key, value in redacted_url_attributes(span.attributes or {}).items():
                span.set_attribute(key, value)

    return RedactVerifyTokenInUrls()


def reset_telemetry() -> None:
    """Back to no-op recording (tests)."""
    global _instruments
    _instruments = None


def record_message(direction: str, kind: str) -> None:
    """A message stored for the first time: inbound from a customer, or outbound and accepted by Meta."""
    if _instruments is not None:
        _instruments.messages.add(1, {"direction": direction, "kind": kind})


def record_window_refusal(source: WindowRefusalSource = "session") -> None:
    """A send refused because the 24-hour window is closed: by our own check, or by Meta (131047)."""
    if _instruments is not None:
        _instruments.window_refusals.add(1, {"source": source})


def record_meta_error(code: int | None, operation: str = "send") -> None:
    """Meta answered a Graph API call with an error (`code` None: no answer or no error object)."""
    if _instruments is not None:
        _instruments.meta_errors.add(
            1, {"code": "none" if code is None else str(code), "operation": operation}
        )


def record_mirror_lag(seconds: float) -> None:
    """Seconds between a message's write in Cosmos DB and its row in Dataverse."""
    if _instruments is not None:
        _instruments.mirror_lag.record(max(seconds, 0.0))


def record_rejected_item(reason: str, field: str) -> None:
    """A webhook update kept as a `rejected` document instead of being stored where it belongs:
    `reason` is invalid, no_customer or no_business_number; `field` is where it sat (messages, ...)."""
    if _instruments is not None:
        _instruments.rejected_items.add(1, {"reason": reason, "field": field})


def _sdk_meter_provider_installed() -> bool:
    """True when something (the Functions worker) has already installed the OpenTelemetry SDK."""
    from opentelemetry import metrics
    from opentelemetry.sdk.metrics import MeterProvider as SdkMeterProvider

    return isinstance(metrics.get_meter_provider(), SdkMeterProvider)


def _create_instruments(meter: Meter) -> _Instruments:
    return _Instruments(
        messages=meter.create_counter(MESSAGES, unit="{message}", description="Messages stored"),
        window_refusals=meter.create_counter(
            WINDOW_REFUSALS, unit="{send}", description="Sends refused: the 24-hour window is closed"
        ),
        meta_errors=meter.create_counter(
            META_ERRORS, unit="{error}", description="Errors answered by Meta's Graph API, by code"
        ),
        mirror_lag=meter.create_histogram(
            MIRROR_LAG, unit="s", description="Delay from a message's write to its Dataverse row"
        ),
        rejected_items=meter.create_counter(
            REJECTED_ITEMS, unit="{item}", description="Webhook updates that could not be placed, by reason"
        ),
    )
