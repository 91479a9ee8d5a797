/**
 * A long, real chat: sixty messages over two days with photos both ways, answered by the browser (a
 * Playwright route) as the API would, with polls that bring what the test adds, and a switch that makes
 * the API fail (the spinner must end) or refuse an upload with a long reason (the error area must not
 * be cut). The journey takes the README's screenshots from it.
 */
import type { Page, Route } from "playwright-core";
import type { ChatMessage, SessionStatus } from "../../WhatsAppChat/api/contract";
import { DAMAGED_PHOTO, PRODUCT_PHOTO } from "./contextChat";

const PHONE_NUMBER_ID = "106540352242922";

const CUSTOMER_LINES = [
  "Hi, is my parcel on its way?",
  "The tracking page hasn't changed since Monday.",
  "Order 40213, three large boxes.",
  "Could it come on Friday instead?",
  "I'm out until 5 pm most days.",
  "Can the driver leave it with my neighbour at number 12?",
  "Great, thanks!",
  "One more thing: do you sell packing tape?",
  "Brown, please, two rolls.",
  "Here it is, as it arrived.",
];
const AGENT_LINES = [
  "Hello! Let me check that for you.",
  "It left our Leeds depot this morning.",
  "Yes, Friday works. I've moved the delivery.",
  "The driver can leave it with a neighbour; I've added a note.",
  "We do: brown or clear, 66 m a roll.",
  "Added to your order at no extra charge.",
  "Here's the box we're sending.",
  "Anything else I can help with?",
];

// The same conversation with a German customer, for the German screenshots.
const CUSTOMER_LINES_DE = [
  "Hallo, ist mein Paket unterwegs?",
  "Die Sendungsverfolgung hat sich seit Montag nicht geändert.",
  "Bestellung 40213, drei große Kartons.",
  "Könnte es stattdessen am Freitag kommen?",
  "Ich bin meistens bis 17 Uhr nicht zu Hause.",
  "Kann der Fahrer es bei meinem Nachbarn in Nummer 12 abgeben?",
  "Super, danke!",
  "Noch etwas: Verkaufen Sie Packband?",
  "Braun, bitte, zwei Rollen.",
  "Hier ist es, so kam es an.",
];
const AGENT_LINES_DE = [
  "Hallo! Ich sehe gleich für Sie nach.",
  "Es hat heute Morgen unser Lager in Leipzig verlassen.",
  "Ja, Freitag geht. Ich habe die Zustellung verschoben.",
  "Der Fahrer kann es beim Nachbarn abgeben; ich habe es vermerkt.",
  "Ja: braun oder transparent, 66 m pro Rolle.",
  "Ohne Aufpreis zu Ihrer Bestellung hinzugefügt.",
  "Das ist der Karton, den wir schicken.",
  "Kann ich sonst noch etwas für Sie tun?",
];

/** Which of the sixty is the reply WhatsApp did not deliver (`long-23`). */
export const FAILED_INDEX = 22;

export interface LongChat {
  session: SessionStatus;
  /** Newest first, as the API pages it. */
  messages: ChatMessage[];
  /** How many of them are photos. */
  photos: number;
}

/** Sixty messages, oldest `days` ago (two), newest a few minutes ago; every seventh a photo; in English or German. */
export function longChat(customer: string, now: Date, count = 60, options: { days?: number; language?: "en" | "de" } = {}): LongChat {
  const days = options.days ?? 2;
  const [customerLines, agentLines] = options.language === "de" ? [CUSTOMER_LINES_DE, AGENT_LINES_DE] : [CUSTOMER_LINES, AGENT_LINES];
  const at = (minutesAgo: number): string => new Date(Math.floor((now.getTime() - minutesAgo * 60_000) / 1000) * 1000).toISOString().replace(".000Z", "Z");
  const messages: ChatMessage[] = [];
  let photos = 0;
  for (let i = 0; i < count; i += 1) {
    // Two days ago to now, with a gap each night.
    const minutesAgo = Math.round(((count - i) / count) * days * 24 * 60 * 0.9) + 3;
    const inbound = i % 3 !== 1;
    const photo = i % 7 === 5;
    if (photo) photos += 1;
    const timestamp = at(minutesAgo);
    const line = inbound ? customerLines[i % customerLines.length] : agentLines[i % agentLines.length];
    messages.push({
      id: `long-${i + 1}`,
      wamid: `wamid.long-${i + 1}`,
      phoneNumberId: PHONE_NUMBER_ID,
      customerId: customer,
      direction: inbound ? "inbound" : "outbound",
      kind: photo ? "image" : "text",
      ...(photo
        ? {
            caption: line,
            media: inbound
              ? { url: DAMAGED_PHOTO, blobName: "inbound/damaged.png", mimeType: "image/png", status: "stored" as const }
              : { url: PRODUCT_PHOTO, blobName: "outbound/box-l-42.png", mimeType: "image/png", status: "stored" as const },
          }
        : { text: line }),
      timestamp,
      // One reply WhatsApp did not deliver, well above the newest (the agent resends it).
      status: inbound ? "received" : i === FAILED_INDEX ? "failed" : "read",
      statusTimes: inbound ? {} : i === FAILED_INDEX ? { sent: timestamp, failed: timestamp } : { sent: timestamp, delivered: timestamp, read: timestamp },
      ...(i === FAILED_INDEX ? { error: { code: 131026, title: "Message undeliverable", detail: "The customer's phone could not be reached." } } : {}),
      ...(inbound ? {} : { sentBy: "agent@contoso.example" }),
    });
  }
  const lastInbound = [...messages].reverse().find((message) => message.direction === "inbound");
  const expiresAt = lastInbound ? new Date(Date.parse(lastInbound.timestamp) + 86_400_000).toISOString() : null;
  return {
    session: { active: true, expiresAt, lastInboundAt: lastInbound?.timestamp ?? null } as SessionStatus,
    messages: messages.reverse(),
    photos,
  };
}

export interface LongChatApi {
  /** Asked next by a poll (changedSince): newest first. */
  pending: ChatMessage[];
  /** While set, every call about the customer answers this status with a server error. */
  failing: number | undefined;
  /** What POST /api/media answers (a refused upload), when set. */
  uploadRefusal: { status: number; code: string; message: string } | undefined;
  /** The files uploaded (POST /api/media), by name. */
  uploads: string[];
  /** The history calls, as asked (path and query). */
  asked: string[];
  stop(): Promise<void>;
}

/** Answers the panel's calls about one customer from memory, as the API would. */
export async function fakeLongChatApi(page: Page, options: { customer: string; origin: string; chat: LongChat }): Promise<LongChatApi> {
  const state: LongChatApi = { pending: [], failing: undefined, uploadRefusal: undefined, uploads: [], asked: [], stop: () => Promise.resolve() };
  let cursor = 0;
  const answer = (route: Route, status: number, body: unknown): Promise<void> =>
    route.fulfill({ status, contentType: "application/json", headers: { "Access-Control-Allow-Origin": options.origin }, body: JSON.stringify(body) });
  const handler = (route: Route): Promise<void> => {
    const request = route.request();
    const url = new URL(request.url());
    if (state.failing !== undefined) {
      return answer(route, state.failing, { error: { code: "store_unavailable", message: "The message store is unavailable." } });
    }
    if (url.pathname.endsWith("/api/media") && request.method() === "POST") {
      const name = /filename="([^"]+)"/.exec(request.postDataBuffer()?.toString("latin1") ?? "")?.[1] ?? url.searchParams.get("filename") ?? "?";
      state.uploads.push(name);
      if (state.uploadRefusal) return answer(route, state.uploadRefusal.status, { error: { code: state.uploadRefusal.code, message: state.uploadRefusal.message } });
      return answer(route, 201, { mediaUrl: PRODUCT_PHOTO, blobName: "outbound/upload.png", mimeType: "image/png", kind: "image", size: 1, sha256: "x", filename: "photo.png" });
    }
    if (url.pathname.endsWith("/session")) return answer(route, 200, options.chat.session);
    if (url.pathname.endsWith("/read")) return answer(route, 200, { sent: true, messageId: null, agentReadAt: new Date().toISOString() });
    if (url.pathname.endsWith("/typing")) return answer(route, 202, { sent: true });
    if (url.pathname.endsWith("/messages") && request.method() === "GET") {
      state.asked.push(`${url.pathname.split("/").pop()}?${url.searchParams.toString()}`);
      if (url.searchParams.has("changedSince")) {
        const changes = state.pending.splice(0);
        options.chat.messages.unshift(...changes);
        if (changes.length > 0) cursor += 1;
        return answer(route, 200, { messages: changes, next: null, pollCursor: `long-${cursor}` });
      }
      const limit = Number(url.searchParams.get("limit") ?? "30");
      const before = url.searchParams.get("before");
      const start = before ? Number(before) : 0;
      const slice = options.chat.messages.slice(start, start + limit);
      const next = start + limit < options.chat.messages.length ? String(start + limit) : null;
      return answer(route, 200, { messages: slice, next, pollCursor: `long-${cursor}` });
    }
    return route.fallback();
  };
  const matches = (url: URL): boolean => url.pathname.endsWith("/api/media") || url.pathname.includes(`/conversations/${options.customer}/`);
  await page.route(matches, handler);
  state.stop = () => page.unroute(matches, handler);
  return state;
}
