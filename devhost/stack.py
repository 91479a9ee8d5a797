"""Starts the local emulators (Azurite, cosmosdb-server) when they are not already listening,
creates the database, container, queues and blob container, and stops only what it started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
NODE_BIN = ROOT / "node_modules" / ".bin"

AZURITE_ACCOUNT = "devstoreaccount1"
# Azurite's and the Cosmos emulator's published well-known development keys, not secrets.
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
COSMOS_EMULATOR_KEY = (
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU9DsaqMe/kbfQpx2Udu+9jE8tyjbz1a8j6Nf4mL7Lp+bnaVg=="
)


@dataclass(frozen=True)
class StackPorts:
    blob: int
    queue: int
    table: int
    cosmos: int


DEV_PORTS = StackPorts(blob=10000, queue=10001, table=10002, cosmos=8081)
# Tests use their own ports and in-memory emulators, so `make test` never touches `make run`'s data.
# TEST_PORT_OFFSET moves them, so that two test runs on one machine keep out of each other's way.
_OFFSET = int(os.environ.get("TEST_PORT_OFFSET", "0"))
TEST_PORTS = StackPorts(
    blob=20000 + _OFFSET, queue=20001 + _OFFSET, table=20002 + _OFFSET, cosmos=28081 + _OFFSET
)
# `python -m devhost run --isolated` (the chat panel's browser journey): in memory, on ports of its
# own, so it runs beside `make run` and beside the Python tests.
ISOLATED_PORTS = StackPorts(
    blob=20050 + _OFFSET, queue=20051 + _OFFSET, table=20052 + _OFFSET, cosmos=28131 + _OFFSET
)
# The WhatsApp sandbox listens on the next port, the local Dataverse stand-in on the one after.
ISOLATED_APP_PORT = 27071 + _OFFSET


def storage_connection_string(ports: StackPorts) -> str:
    if ports == DEV_PORTS:
        return "UseDevelopmentStorage=true"
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{ports.blob}/{AZURITE_ACCOUNT};"
        f"QueueEndpoint=http://127.0.0.1:{ports.queue}/{AZURITE_ACCOUNT};"
    )


def is_listening(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_for_port(port: int, process: subprocess.Popen[bytes], name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not is_listening(port):
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with code {process.returncode}; see .local/logs/")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} did not listen on port {port} within {timeout:.0f}s")
        time.sleep(0.1)


@dataclass
class LocalStack:
    """Context manager around the two emulators; `data_dir=None` keeps everything in memory."""

    ports: StackPorts = DEV_PORTS
    data_dir: Path | None = ROOT / ".local" / "azurite"
    log_dir: Path = ROOT / ".local" / "logs"
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def environment(self) -> dict[str, str]:
        """The settings that point the app at this stack."""
        return {
            "AzureWebJobsStorage": storage_connection_string(self.ports),
            "COSMOS_ENDPOINT": f"https://127.0.0.1:{self.ports.cosmos}/",
            "COSMOS_KEY": COSMOS_EMULATOR_KEY,
        }

    def start(self) -> None:
        if not (NODE_BIN / "azurite").exists():
            raise RuntimeError("node_modules is missing: run `npm ci` (the Makefile does it for you)")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if not (is_listening(self.ports.blob) and is_listening(self.ports.queue)):
            persistence = ["--inMemoryPersistence"]
            if self.data_dir is not None:
                self.data_dir.mkdir(parents=True, exist_ok=True)
                persistence = ["--location", str(self.data_dir)]
            process = self._spawn(
                "azurite",
                [
                    str(NODE_BIN / "azurite"),
                    "--silent",
                    "--disableTelemetry",
                    "--skipApiVersionCheck",
                    "--blobHost", "127.0.0.1", "--blobPort", str(self.ports.blob),
                    "--queueHost", "127.0.0.1", "--queuePort", str(self.ports.queue),
                    "--tableHost", "127.0.0.1", "--tablePort", str(self.ports.table),
                    *persistence,
                ],
            )  # fmt: skip
            wait_for_port(self.ports.blob, process, "azurite")
            wait_for_port(self.ports.queue, process, "azurite")
        if not is_listening(self.ports.cosmos):
            process = self._spawn(
                "cosmosdb-server",
                ["node", str(ROOT / "devhost" / "cosmosdb-server.js")],
                env={"COSMOS_PORT": str(self.ports.cosmos)},
            )
            wait_for_port(self.ports.cosmos, process, "cosmosdb-server")

    def _spawn(
        self, name: str, argv: list[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}-{self.ports.cosmos}.log").open("ab")
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        self.started.append(process)
        return process

    def stop(self) -> None:
        for process in reversed(self.started):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        self.started.clear()

    def __enter__(self) -> LocalStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
