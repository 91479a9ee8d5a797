"""`python -m devhost run` serves the app locally; `python -m devhost customer-says` plays the customer."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from types import FrameType

from devhost.local_settings import load_local_settings, settings_file
from devhost.stack import DEV_PORTS, ROOT, LocalStack
from shared.whatsapp.signature import SIGNATURE_HEADER, sign


def _run(args: argparse.Namespace) -> int:
    # Locally the control runs without Entra ID (as Core Tools skips function keys); set
    # AUTH_DISABLED=false and the AUTH_* settings to try the real sign-in.
    os.environ.setdefault("AUTH_DISABLED", "true")
    load_local_settings()
    from devhost.host import LocalFunctionsHost, QueueRules
    from devhost.provision import provision
    from shared.config import get_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)
    with LocalStack(DEV_PORTS) as stack:
        if stack.started:
            print(f"started {len(stack.started)} emulator(s); they stop when this command ends")
        provision(get_settings())
        from function_app import app

        host = LocalFunctionsHost(
            app,
            {"AzureWebJobsStorage": os.environ["AzureWebJobsStorage"]},
            QueueRules.from_host_json(ROOT / "host.json"),
            port=args.port,
        )

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
            host.stop()
    return 0


def inbound_text_webhook(phone_number_id: str, wa_id: str, text: str, name: str) -> dict[str, object]:
    """The body Meta posts when a customer sends a text (see Meta's text message webhook reference)."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "0",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550000000",
                                "phone_number_id": phone_number_id,
                            },
                            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": f"wamid.local-{uuid.uuid4().hex}",
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def _customer_says(args: argparse.Namespace) -> int:
    load_local_settings()
    body = json.dumps(
        inbound_text_webhook(os.environ["WHATSAPP_PHONE_NUMBER_ID"], args.wa, args.text, args.name)
    ).encode()
    request = urllib.request.Request(
        f"{args.url}/api/whatsapp/webhook",
        data=body,
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(body, os.environ["WHATSAPP_APP_SECRET"]),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            print(response.status, response.read().decode())
    except urllib.error.HTTPError as error:
        print(error.code, error.read().decode(), file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devhost")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start the emulators (if needed) and serve the app")
    run.add_argument("--port", type=int, default=7071)
    run.set_defaults(handler=_run)
    says = commands.add_parser("customer-says", help="post a signed inbound text webhook, as Meta would")
    says.add_argument("--wa", required=True, help="the customer's WhatsApp number, digits")
    says.add_argument("--text", required=True)
    says.add_argument("--name", default="Local Customer")
    says.add_argument("--url", default="http://127.0.0.1:7071")
    says.set_defaults(handler=_customer_says)
    args = parser.parse_args(argv)
    os.chdir(Path(ROOT))
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
