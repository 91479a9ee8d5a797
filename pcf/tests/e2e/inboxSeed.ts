/**
 * Conversations for the inbox's browser check, made through the local app as they happen: the
 * customer writes through the WhatsApp sandbox (the app links the conversation to the stand-in's
 * contact or lead with that number), the agent replies, an agent's panel reads one, and a customer
 * who wrote two days ago (Meta's signed webhook with that timestamp), so one window is closed.
 */
import { createHmac } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { type LocalApp, REPO_ROOT } from "./localApp";

// The local Dataverse stand-in's demo records (devhost/dataverse_standin.py: local_dataverse): the app
// links a conversation to the contact or lead whose phone column has the customer's number. The
// isolated app starts empty each run, so these fixed numbers are new to it.
export const CONTACT_ID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"; // Ada Lovelace, +1 555-123-4567
export const CONTACT_NUMBER = "15551234567";
export const LEAD_ID = "8c1b6a2e-5d4f-4a3b-9e2c-7f6d5e4c3b2a"; // Grace Hopper, +15552345678
export const LEAD_NUMBER = "15552345678";

/** A setting as the app reads it: the environment, else local.settings.json, else the sample. */
function setting(name: string): string {
  const own = path.join(REPO_ROOT, "local.settings.json");
  const file = existsSync(own) ? own : path.join(REPO_ROOT, "local.settings.sample.json");
  const values = (JSON.parse(readFileSync(file, "utf8")) as { Values: Record<string, string> }).Values;
  return process.env[name] ?? values[name] ?? "";
}

export async function sandboxSays(app: LocalApp, wa: string, name: string, text: string): Promise<void> {
  const answer = await fetch(`${app.sandboxUrl}/sandbox/customers/${wa}/messages`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ text, name }),
  });
  const body = (await answer.json()) as { app_status?: number };
  if (answer.status !== 200 || body.app_status !== 200) throw new Error(`the sandbox could not deliver: ${answer.status} ${JSON.stringify(body)}`);
}

/** The agent's reply from a record's form: the API links the conversation to that record. */
async function agentReplies(app: LocalApp, wa: string, record: { entity: "contact" | "lead"; id: string }, text: string): Promise<void> {
  const answer = await fetch(`${app.apiUrl}/conversations/${wa}/messages?regarding=${record.entity}:${record.id}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ type: "text", text, regarding: record, clientMessageId: `inbox-e2e-${wa}-${Date.now()}` }),
  });
  if (answer.status >= 300) throw new Error(`the reply was refused: ${answer.status} ${await answer.text()}`);
}

async function agentReads(app: LocalApp, wa: string, record: { entity: "contact" | "lead"; id: string }): Promise<void> {
  const answer = await fetch(`${app.apiUrl}/conversations/${wa}/read?regarding=${record.entity}:${record.id}`, { method: "POST" });
  if (answer.status >= 300) throw new Error(`the read was refused: ${answer.status} ${await answer.text()}`);
}

/** A text the customer sent `secondsAgo` ago: Meta's webhook, signed with the app secret. */
async function customerWroteEarlier(app: LocalApp, wa: string, name: string, text: string, secondsAgo: number): Promise<void> {
  const at = Math.floor(Date.now() / 1000) - secondsAgo;
  const body = JSON.stringify({
    object: "whatsapp_business_account",
    entry: [
      {
        id: "102290129340398",
        changes: [
          {
            field: "messages",
            value: {
              messaging_product: "whatsapp",
              metadata: { display_phone_number: "15550783881", phone_number_id: app.businessNumber },
              contacts: [{ profile: { name }, wa_id: wa }],
              messages: [{ from: wa, id: `wamid.inbox-e2e-${wa}-${at}`, timestamp: String(at), type: "text", text: { body: text } }],
            },
          },
        ],
      },
    ],
  });
  const signature = `sha256=${createHmac("sha256", setting("WHATSAPP_APP_SECRET")).update(body).digest("hex")}`;
  const answer = await fetch(`${app.apiUrl}/whatsapp/webhook`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Hub-Signature-256": signature },
    body,
  });
  if (answer.status !== 200) throw new Error(`the app refused the webhook: ${answer.status} ${await answer.text()}`);
}

export interface Seeded {
  /** Wrote two days ago, no record: window closed, 1 unread. */
  old: string;
  /** The stand-in's lead; replied to, read by the agent: nothing unread. */
  lead: string;
  /** The stand-in's contact; replied to, then wrote twice more: 3 unread (a reply reads nothing). */
  contact: string;
  /** A new customer, no record yet: 1 unread. */
  newcomer: string;
}

/** Four conversations, oldest activity first; numbers new on each run. */
export async function seedInbox(app: LocalApp): Promise<Seeded> {
  const stem = String(Date.now()).slice(-6);
  const seeded: Seeded = { old: `4420${stem}1`, lead: LEAD_NUMBER, contact: CONTACT_NUMBER, newcomer: `4420${stem}4` };
  const step = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1100)); // distinct times

  await customerWroteEarlier(app, seeded.old, "Olga Okafor", "Is the shop open on Sunday?", 2 * 86_400);
  await sandboxSays(app, seeded.lead, "Grace Hopper", "Could you send me a quote for 20 units?");
  await agentReplies(app, seeded.lead, { entity: "lead", id: LEAD_ID }, "Of course, the quote is on its way.");
  await agentReads(app, seeded.lead, { entity: "lead", id: LEAD_ID });
  await step();
  await sandboxSays(app, seeded.contact, "Ada Lovelace", "Hi, where is my parcel?");
  await agentReplies(app, seeded.contact, { entity: "contact", id: CONTACT_ID }, "It ships today!");
  await step();
  await sandboxSays(app, seeded.contact, "Ada Lovelace", "Great, thank you!");
  await sandboxSays(app, seeded.contact, "Ada Lovelace", "Can I change the address?");
  await step();
  await sandboxSays(app, seeded.newcomer, "Sam Patel", "Hello, I saw your ad. Do you deliver to Leeds?");
  return seeded;
}
