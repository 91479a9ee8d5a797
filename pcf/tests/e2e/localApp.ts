/**
 * The real local app, started as `make run` starts it but isolated: `python -m devhost run --isolated`
 * from the repository root (in-memory emulators, the Functions app on 127.0.0.1:27071, the WhatsApp
 * sandbox on 127.0.0.1:27072 and, where DATAVERSE_URL is set, the local Dataverse stand-in on
 * 127.0.0.1:27073, all moved by TEST_PORT_OFFSET), so the journey runs beside `make run`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "../../..");
const PYTHON = path.join(REPO_ROOT, ".venv/bin/python");
const OFFSET = Number(process.env.TEST_PORT_OFFSET ?? "0");
export const APP_PORT = 27071 + OFFSET;
export const SANDBOX_PORT = APP_PORT + 1;
const DATAVERSE_PORT = APP_PORT + 2;

export interface LocalApp {
  apiUrl: string;
  sandboxUrl: string;
  /** The business number the app serves (the sandbox's); any other is refused with 403 not_allowed. */
  businessNumber: string;
  stop(): Promise<void>;
}

/** A setting as the app reads it: the environment, else local.settings.json, else the sample (devhost/local_settings.py). */
function localSetting(name: string): string {
  const own = path.join(REPO_ROOT, "local.settings.json");
  const file = existsSync(own) ? own : path.join(REPO_ROOT, "local.settings.sample.json");
  const values = (JSON.parse(readFileSync(file, "utf8")) as { Values: Record<string, string> }).Values;
  return process.env[name] ?? values[name] ?? "";
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function healthy(apiUrl: string): Promise<boolean> {
  try {
    return (await fetch(`${apiUrl}/health`)).status === 200;
  } catch {
    return false;
  }
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Starts the app with the harness's origin allowed by CORS; resolves once /api/health answers 200. */
export async function startLocalApp(options: { allowedOrigin: string; logFile: string }): Promise<LocalApp> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run \`make install\` in ${REPO_ROOT} first.`);
  for (const port of [APP_PORT, SANDBOX_PORT, DATAVERSE_PORT]) {
    if (await portAnswers(port)) {
      throw new Error(`Something already listens on 127.0.0.1:${port}: another journey? Set TEST_PORT_OFFSET to move this one.`);
    }
  }
  const log = createWriteStream(options.logFile);
  // Serve only the sandbox's number, as a deployment does, so another number is refused (403 not_allowed).
  const businessNumber = localSetting("WHATSAPP_PHONE_NUMBER_ID");
  const served = localSetting("WHATSAPP_PHONE_NUMBER_IDS") || businessNumber;
  const child = spawn(PYTHON, ["-m", "devhost", "run", "--isolated"], {
    cwd: REPO_ROOT,
    env: { ...process.env, ALLOWED_ORIGINS: options.allowedOrigin, WHATSAPP_PHONE_NUMBER_IDS: served, PYTHONUNBUFFERED: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const apiUrl = `http://127.0.0.1:${APP_PORT}/api`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM"); // devhost stops the sandbox, the host and the emulators it started
      if (!(await exited(child, 20_000))) child.kill("SIGKILL");
    }
    log.end();
  };
  const deadline = Date.now() + 120_000;
  while (!(await healthy(apiUrl))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      const tail = readFileSync(options.logFile, "utf8").split("\n").slice(-25).join("\n");
      throw new Error(`The local app did not become healthy (exit code ${child.exitCode}). Log ${options.logFile}:\n${tail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return { apiUrl, sandboxUrl: `http://127.0.0.1:${SANDBOX_PORT}`, businessNumber, stop };
}

/** The customer writes, as `make customer-says` plays it: the sandbox posts Meta's signed webhook.
 * Resolves to the message's wamid. */
export async function customerSays(sandboxUrl: string, wa: string, text: string): Promise<string> {
  const answer = await fetch(`${sandboxUrl}/sandbox/customers/${wa}/messages`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ text }),
  });
  const body = (await answer.json()) as { app_status?: number; wamid?: string };
  if (answer.status !== 200 || body.app_status !== 200 || !body.wamid) {
    throw new Error(`the sandbox could not deliver the customer's message: ${answer.status} ${JSON.stringify(body)}`);
  }
  return body.wamid;
}

/**
 * The customer deletes a message they sent ("Delete for everyone"): Meta's `revoke` webhook, signed
 * with the app secret as Meta signs it (the sandbox has no endpoint for it).
 */
export async function customerDeletes(app: LocalApp, wa: string, wamid: string): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const message = { from: wa, id: `wamid.e2e-revoke-${now}-${wa}`, timestamp: String(now), type: "revoke", revoke: { original_message_id: wamid } };
  const body = JSON.stringify({
    object: "whatsapp_business_account",
    entry: [
      {
        id: "102290129340398", // the sandbox's WhatsApp Business Account
        changes: [
          {
            field: "messages",
            value: {
              messaging_product: "whatsapp",
              metadata: { display_phone_number: "15550783881", phone_number_id: app.businessNumber },
              contacts: [{ profile: { name: "E2E customer" }, wa_id: wa }],
              messages: [message],
            },
          },
        ],
      },
    ],
  });
  const signature = `sha256=${createHmac("sha256", localSetting("WHATSAPP_APP_SECRET")).update(body).digest("hex")}`;
  const answer = await fetch(`${app.apiUrl}/whatsapp/webhook`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Hub-Signature-256": signature },
    body,
  });
  if (answer.status !== 200) throw new Error(`the app refused the revoke webhook: ${answer.status} ${await answer.text()}`);
}

/** The customer sends a file (`make customer-says FILE=`): Meta keeps it, the webhook names its media id. */
export async function customerSendsFile(
  sandboxUrl: string,
  wa: string,
  file: { bytes: Buffer; mimeType: string; filename: string; caption?: string },
): Promise<void> {
  const headers: Record<string, string> = { "Content-Type": file.mimeType, "X-Filename": file.filename };
  if (file.caption) headers["X-Caption"] = file.caption;
  const answer = await fetch(`${sandboxUrl}/sandbox/customers/${wa}/media`, { method: "POST", headers, body: new Uint8Array(file.bytes) });
  const body = (await answer.json()) as { app_status?: number };
  if (answer.status !== 200 || body.app_status !== 200) {
    throw new Error(`the sandbox could not deliver the customer's file: ${answer.status} ${JSON.stringify(body)}`);
  }
}

/** What the sandbox (standing in for Meta) received for this customer. */
export async function sentToCustomer(sandboxUrl: string, wa: string): Promise<{ type: string; request: Record<string, unknown> }[]> {
  const answer = await fetch(`${sandboxUrl}/sandbox/messages`);
  const body = (await answer.json()) as { messages: { to: string; type: string; request: Record<string, unknown> }[] };
  return body.messages.filter((message) => message.to === wa);
}

/** The read receipts and typing indicators the sandbox received for this customer (`GET /sandbox/receipts`), oldest first. */
export async function receiptsFor(sandboxUrl: string, wa: string): Promise<{ message_id: string; typing_indicator: boolean; at: number }[]> {
  const answer = await fetch(`${sandboxUrl}/sandbox/receipts`);
  if (answer.status !== 200) throw new Error(`the sandbox did not list its receipts: ${answer.status}`);
  const body = (await answer.json()) as { conversations: { wa_id?: string; receipts: { message_id: string; typing_indicator: boolean; at: number }[] }[] };
  return body.conversations.filter((conversation) => conversation.wa_id === wa).flatMap((conversation) => conversation.receipts);
}
