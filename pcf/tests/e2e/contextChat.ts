/**
 * A day and a half of a realistic chat with everything the history can say about a message: the ad
 * the customer came from, a product they asked about, photos both ways, replies quoting a photo, an
 * edited and a deleted message, reactions, and a WhatsApp system line. The browser answers the API
 * with it (a Playwright route), since the local app may not give these fields yet.
 */
import type { ChatMessage, MessagesPage, SessionStatus } from "../../WhatsAppChat/api/contract";

/** Where the chat's photos are served from (answered by the route too). */
export const MEDIA_ORIGIN = "https://media.example.test";
export const PRODUCT_PHOTO = `${MEDIA_ORIGIN}/media/outbound/box-l-42.png`;
export const DAMAGED_PHOTO = `${MEDIA_ORIGIN}/media/inbound/damaged.png`;
export const AD_URL = "https://fb.me/parcelbox-spring";

export interface ContextChat {
  session: SessionStatus;
  /** Newest first, as the API pages it. */
  page: MessagesPage;
  /** The messages the checks look for, by role. */
  ids: {
    fromAd: string;
    productPhoto: string;
    damagedPhoto: string;
    replyToDamaged: string;
    system: string;
    edited: string;
    deleted: string;
    bothLiked: string;
    quotesDeleted: string;
    quotesProductPhoto: string;
  };
}

export function contextChat(customer: string, now: Date): ContextChat {
  const phoneNumberId = "106540352242922";
  let seq = 0;
  const at = (minutesAgo: number): string => new Date(Math.floor((now.getTime() - minutesAgo * 60_000) / 1000) * 1000).toISOString().replace(".000Z", "Z");
  const inbound = (minutesAgo: number, rest: Partial<ChatMessage>): ChatMessage => ({
    id: `ctx-${++seq}`,
    wamid: `wamid.ctx-${seq}`,
    phoneNumberId,
    customerId: customer,
    direction: "inbound",
    kind: "text",
    timestamp: at(minutesAgo),
    status: "received",
    statusTimes: {},
    ...rest,
  });
  const outbound = (minutesAgo: number, rest: Partial<ChatMessage>): ChatMessage => ({
    ...inbound(minutesAgo, rest),
    direction: "outbound",
    status: "read",
    statusTimes: { sent: at(minutesAgo), delivered: at(minutesAgo - 1), read: at(minutesAgo - 2) },
    sentBy: "agent@contoso.example",
    ...rest,
  });
  const reaction = (emoji: string, from: "customer" | "business", minutesAgo: number) => ({ emoji, from, at: at(minutesAgo) });

  // Yesterday afternoon (about 26 hours ago) and this morning: two day separators.
  const fromAd = inbound(1570, {
    text: "Hi! I saw your ad. Do you deliver to Leeds?",
    referral: {
      sourceType: "ad",
      sourceUrl: AD_URL,
      sourceId: "120210987654321",
      headline: "Parcel boxes, 20% off this spring",
      body: "Sturdy double-wall boxes in six sizes, from mailers to moving boxes. Order on WhatsApp and get free next-day delivery across the UK.",
      mediaType: "image",
      imageUrl: "https://scontent.example.test/ad.jpg",
      ctwaClid: "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMXCAVQ",
    },
  });
  const weDeliver = outbound(1566, { text: "Yes, we deliver all over the UK, usually the next working day.", reactions: [reaction("👍", "customer", 1565)] });
  const askProduct = inbound(1562, { text: "Do you have the large box in stock?", referredProduct: { catalogId: "194836987003835", productRetailerId: "BOX-L-42" } });
  const productPhoto = outbound(1560, {
    kind: "image",
    media: { url: PRODUCT_PHOTO, blobName: "outbound/box-l-42.png", mimeType: "image/png", status: "stored" },
  });
  const productText = outbound(1559, { text: "That's the large double-wall box, 60 × 40 × 40 cm." });
  const order = inbound(1555, { text: "Perfect, I'll take three." });
  const done = outbound(1552, { text: "Done! Order #40213 ships tomorrow morning.", reactions: [reaction("🙏", "customer", 1550)] });
  // This morning.
  const damagedPhoto = inbound(95, {
    kind: "image",
    caption: "One of them arrived like this 😕",
    media: { url: DAMAGED_PHOTO, blobName: "inbound/damaged.png", mimeType: "image/png", status: "stored" },
  });
  const replyToDamaged = outbound(92, {
    text: "I'm so sorry! A replacement goes out today, no need to send that one back.",
    context: damagedPhoto.wamid,
    quoted: { id: damagedPhoto.id, wamid: damagedPhoto.wamid, direction: "inbound", kind: "image", text: "One of them arrived like this 😕" },
    reactions: [reaction("❤️", "customer", 90)],
  });
  const system = inbound(80, { kind: "system", text: "The customer's security code changed." });
  const edited = inbound(61, { text: "Thank you! Could it arrive before 12 tomorrow?", edited: true });
  const deleted = inbound(58, { deleted: true });
  const bothLiked = outbound(55, {
    text: "Yes, it's booked for delivery before 12.",
    context: edited.wamid,
    quoted: { id: edited.id, wamid: edited.wamid, direction: "inbound", kind: "text", text: edited.text },
    reactions: [reaction("👍", "customer", 54), reaction("👍", "business", 53)],
  });
  const quotesDeleted = inbound(50, {
    text: "Sorry, that was meant for someone else 🙈",
    context: deleted.wamid,
    quoted: { id: deleted.id, wamid: deleted.wamid, direction: "inbound", kind: "text", deleted: true },
  });
  const quotesProductPhoto = inbound(12, {
    text: "Is the replacement this same box?",
    context: productPhoto.wamid,
    quoted: { id: productPhoto.id, wamid: productPhoto.wamid, direction: "outbound", kind: "image" },
  });
  const last = outbound(10, { text: "Yes, exactly that one.", status: "delivered", statusTimes: { sent: at(10), delivered: at(9) } });

  const oldestFirst = [fromAd, weDeliver, askProduct, productPhoto, productText, order, done, damagedPhoto, replyToDamaged, system, edited, deleted, bothLiked, quotesDeleted, quotesProductPhoto, last];
  return {
    session: { active: true, expiresAt: new Date(now.getTime() + (24 * 60 - 12) * 60_000).toISOString(), lastInboundAt: quotesProductPhoto.timestamp, marketingOptOut: true },
    page: { messages: [...oldestFirst].reverse(), next: null, pollCursor: "ctx-cursor-1" },
    ids: {
      fromAd: fromAd.id,
      productPhoto: productPhoto.id,
      damagedPhoto: damagedPhoto.id,
      replyToDamaged: replyToDamaged.id,
      system: system.id,
      edited: edited.id,
      deleted: deleted.id,
      bothLiked: bothLiked.id,
      quotesDeleted: quotesDeleted.id,
      quotesProductPhoto: quotesProductPhoto.id,
    },
  };
}
