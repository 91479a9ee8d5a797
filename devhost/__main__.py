"""`python -m devhost run` serves the app locally; `python -m devhost customer-says` plays the customer;
`smoke` checks a deployment; `meta-subscribe` points Meta's webhooks for a WABA at it."""

from __future__ import annotations

import argparse
import json
import logging
import mimetypes
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from devhost import meta_subscribe, smoke
from devhost.local_settings import load_local_settings, settings_file
from devhost.sandbox import (
    MARKETING_PREFERENCES,
    REFUSALS,
    WhatsAppSandbox,
    customer_key,
    identity_change_webhook,
    inbound_text_webhook,
    new_wamid,
    user_preferences_webhook,
)
from devhost.stack import DEV_PORTS, ISOLATED_APP_PORT, ISOLATED_PORTS, ROOT, LocalStack
from shared.config import LOOPBACK_HOSTS
from shared.whatsapp.signature import SIGNATURE_HEADER, sign


def _sandbox_address(graph_base_url: str) -> tuple[str, int] | None:
    """Where to start the WhatsApp sandbox: only when the Graph base URL points at this machine."""
    parts = urlsplit(graph_base_url)
    if parts.hostname in LOOPBACK_HOSTS and parts.port:
        return parts.hostname, parts.port
    return None


def _run(args: argparse.Namespace) -> int:
    # Locally the control runs without Entra ID (as Core Tools skips function keys); set
    # AUTH_DISABLED=false and the AUTH_* settings to try the real sign-in.
    os.environ.setdefault("AUTH_DISABLED", "true")
    load_local_settings()
    from devhost.dataverse_standin import start_local_dataverse
    from devhost.host import LocalFunctionsHost, QueueRules
    from devhost.provision import provision
    from shared.config import get_settings
    from shared.log_redaction import install_log_redaction

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_redaction()  # Meta's handshake URL carries the verify token
    logging.getLogger("azure").setLevel(logging.WARNING)
    stack = LocalStack(DEV_PORTS)
    port = args.port or 7071
    if args.isolated:
        # Its own in-memory emulators, app, sandbox and Dataverse ports: never `make run`'s, never the
        # tests'. A configured Dataverse becomes its own local stand-in: nothing leaves the machine.
        stack = LocalStack(ISOLATED_PORTS, data_dir=None)
        port = args.port or ISOLATED_APP_PORT
        os.environ.update(stack.environment)
        os.environ["WHATSAPP_GRAPH_BASE_URL"] = f"http://127.0.0.1:{port + 1}"
        if os.environ.get("DATAVERSE_URL", "").strip():
            os.environ["DATAVERSE_URL"] = f"http://127.0.0.1:{port + 2}"
    settings = get_settings()
    with stack:
        if stack.started:
            print(f"started {len(stack.started)} emulator(s); they stop when this command ends")
        provision(settings)
        # Like the sandbox: a DATAVERSE_URL on this machine gets the local stand-in, provisioned.
        dataverse = start_local_dataverse(settings)
        if dataverse is not None:
            print(
                f"local Dataverse (a stand-in, in memory) on {dataverse.url}, table "
                f"{dataverse.table.logical_name} provisioned; rows: {dataverse.url}/standin/rows"
            )
        from function_app import app

        host = LocalFunctionsHost(
            app,
            {"AzureWebJobsStorage": os.environ["AzureWebJobsStorage"]},
            QueueRules.from_host_json(ROOT / "host.json"),
            port=port,
            allowed_origins=settings.allowed_origins,
        )
        sandbox = None
        if address := _sandbox_address(settings.WHATSAPP_GRAPH_BASE_URL):
            sandbox = WhatsAppSandbox(
                webhook_url=f"{host.base_url}/api/whatsapp/webhook",
                app_secret=settings.WHATSAPP_APP_SECRET.get_secret_value(),
                access_token=settings.WHATSAPP_ACCESS_TOKEN.get_secret_value(),
                phone_number_id=settings.WHATSAPP_PHONE_NUMBER_ID,
            )
            sandbox.start_in_background(*address)
            print(f"WhatsApp sandbox (a local stand-in for Meta) on {sandbox.base_url}")

        def shutdown(signum: int, frame: FrameType | None) -> None:
            raise KeyboardInterrupt

        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop_signal, shutdown)
        print(f"settings: {settings_file().name}; serving {host.base_url}/api (Ctrl-C stops)")
        try:
            host.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            if sandbox is not None:
                sandbox.stop()
            host.stop()
            if dataverse is not None:
                dataverse.stop()
    return 0


def _post_json(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _app_answer(status: int, text: str) -> tuple[int, str]:
    """The sandbox relays the app's answer to the webhook it posted: show that, not the sandbox's own."""
    if status != 200:
        return status, text
    answer = json.loads(text)
    body = answer["app_body"]
    return answer["app_status"], body if isinstance(body, str) else json.dumps(body)


def _signed_to_app(url: str, payload: dict[str, object]) -> tuple[int, str]:
    """Straight to the app's webhook, signed as Meta signs, when no sandbox runs."""
    body = json.dumps(payload).encode()
    return _post_json(
        f"{url}/api/whatsapp/webhook", body, {SIGNATURE_HEADER: sign(body, os.environ["WHATSAPP_APP_SECRET"])}
    )


def _customer_says(args: argparse.Namespace) -> int:
    """Through the sandbox when it runs (it must know the customer wrote, to open its window), else
    straight to the app's webhook, signed as Meta signs. In order: the customer changes number or user
    id, says something (from the new id), stops or resumes marketing messages, and their window ends."""
    load_local_settings()
    new_id = args.changes_number_to or args.changes_user_id_to
    if not (args.text or args.file or new_id or args.marketing or args.expire_window):
        print(
            "say or do something: --text, --file, --changes-number-to, --changes-user-id-to, --marketing, "
            "--expire-window",
            file=sys.stderr,
        )
        return 2
    graph = os.environ.get("WHATSAPP_GRAPH_BASE_URL", "")
    in_sandbox = _sandbox_address(graph) is not None
    if (args.file or args.expire_window) and not in_sandbox:
        print(
            "--file and --expire-window need the sandbox (WHATSAPP_GRAPH_BASE_URL on this machine)",
            file=sys.stderr,
        )
        return 2
    customers = graph.rstrip("/") + "/sandbox/customers/"
    wa = args.wa
    if new_id:
        if in_sandbox:
            path = "change-number" if args.changes_number_to else "change-user-id"
            said = json.dumps({"to": new_id, "name": args.name}).encode()
            status, text = _app_answer(*_post_json(f"{customers}{wa}/{path}", said, {}))
        else:
            old, new = customer_key(wa), customer_key(new_id)
            if old is None or new is None or old.isdigit() != new.isdigit():
                print("a number changes to a number, a user id to a user id", file=sys.stderr)
                return 2
            change = identity_change_webhook(
                os.environ["WHATSAPP_PHONE_NUMBER_ID"], old, new, args.name, new_wamid(), int(time.time())
            )
            status, text = _signed_to_app(args.url, change)
        print(status, text)
        if status != 200:
            return 1
        wa = new_id  # what the customer says next comes from the new number or user id
    if args.text or args.file:
        status, text = _say(args, wa, customers, in_sandbox)
        print(status, text)
        if status != 200:
            return 1
    if args.marketing:
        status, text = _marketing(args, wa, customers, in_sandbox)
        print(status, text)
        if status != 200:
            return 1
    if args.expire_window:
        url = f"{customers}{wa}/expire-window?refusal={args.expire_window}"
        status, text = _post_json(url, b"", {})
        print(status, text)
        if status != 200:
            return 1
    return 0


def _say(args: argparse.Namespace, wa: str, customers: str, in_sandbox: bool) -> tuple[int, str]:
    if args.file:
        path = Path(args.file)
        mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        headers = {"Content-Type": mime_type, "X-Filename": path.name}
        if args.text:
            headers["X-Caption"] = args.text
        return _app_answer(*_post_json(f"{customers}{wa}/media", path.read_bytes(), headers))
    if in_sandbox:
        said = json.dumps({"text": args.text, "name": args.name}).encode()
        return _app_answer(*_post_json(f"{customers}{wa}/messages", said, {}))
    payload = inbound_text_webhook(
        os.environ["WHATSAPP_PHONE_NUMBER_ID"], wa, args.text, args.name, new_wamid(), int(time.time())
    )
    return _signed_to_app(args.url, payload)


def _marketing(args: argparse.Namespace, wa: str, customers: str, in_sandbox: bool) -> tuple[int, str]:
    """The customer stops or resumes marketing messages: Meta's user_preferences webhook."""
    if in_sandbox:
        said = json.dumps({"value": args.marketing, "name": args.name}).encode()
        return _app_answer(*_post_json(f"{customers}{wa}/marketing", said, {}))
    if customer_key(wa) is None:
        return 2, f"{wa!r} is neither a phone number nor a business-scoped user id"
    payload = user_preferences_webhook(
        os.environ["WHATSAPP_PHONE_NUMBER_ID"], wa, args.marketing, args.name, int(time.time())
    )
    return _signed_to_app(args.url, payload)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devhost")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start the emulators (if needed) and serve the app")
    run.add_argument(
        "--port",
        type=int,
        default=0,
        help="default 7071; with --isolated, 27071 (the sandbox and the Dataverse stand-in on the next two)",
    )
    run.add_argument(
        "--isolated",
        action="store_true",
        help="in-memory emulators and ports of its own (27071, sandbox 27072, Dataverse stand-in 27073 "
        "when DATAVERSE_URL is set; TEST_PORT_OFFSET moves them)",
    )
    run.set_defaults(handler=_run)
    says = commands.add_parser("customer-says", help="post a signed inbound text webhook, as Meta would")
    says.add_argument("--wa", required=True, help="the customer's WhatsApp number (digits) or user id")
    says.add_argument("--text", help="the message, or the caption of --file")
    says.add_argument("--file", help="a file the customer sends (image, document, audio, video)")
    moves = says.add_mutually_exclusive_group()
    moves.add_argument(
        "--changes-number-to",
        metavar="DIGITS",
        help="first the customer changes number: Meta's user_changed_number; the old number is then refused",
    )
    moves.add_argument(
        "--changes-user-id-to",
        metavar="USER_ID",
        help="first the customer's user id changes (user_changed_user_id)",
    )
    says.add_argument(
        "--marketing",
        choices=sorted(MARKETING_PREFERENCES),
        help="then the customer stops or resumes marketing messages in WhatsApp (Meta's user_preferences "
        "webhook); after a stop Meta refuses marketing templates to them (131050)",
    )
    says.add_argument(
        "--expire-window",
        choices=sorted(REFUSALS),
        help="last, the sandbox ends the customer's 24 hours: Meta then refuses a send in its answer "
        "(response) or with 200 and a failed status webhook (webhook)",
    )
    says.add_argument("--name", default="Local Customer")
    says.add_argument("--url", default="http://127.0.0.1:7071")
    says.set_defaults(handler=_customer_says)
    smoke_test = commands.add_parser("smoke", help="check that a deployment answers as Meta and D365 need")
    smoke.add_arguments(smoke_test)
    smoke_test.set_defaults(handler=smoke.run)
    subscribe = commands.add_parser(
        "meta-subscribe", help="subscribe the app to a WABA's webhooks, with the app as its callback"
    )
    meta_subscribe.add_arguments(subscribe)
    subscribe.set_defaults(handler=meta_subscribe.run)
    args = parser.parse_args(argv)
    os.chdir(Path(ROOT))
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
