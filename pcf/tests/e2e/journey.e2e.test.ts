/**
 * The seed's journey in headless Chromium, against the real local app (`make run`'s stack): an agent
 * opens the chat for a customer who never wrote, the customer writes, the agent replies, attaches a
 * photo, and sees it all delivered and read.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Locator, Page, Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildHarness } from "../../harness/build.mjs";
import { type Chromium, launchChromium } from "./chromium";
import { serveHarness } from "../../harness/serve.mjs";
import { type LocalApp, customerDeletes, customerSays, customerSendsFile, receiptsFor, sentToCustomer, startLocalApp } from "./localApp";
import { damagedParcelPng, minimalPdf, parcelPng } from "./files";
import { AD_URL, MEDIA_ORIGIN, contextChat } from "./contextChat";
import { TEMPLATE_LIST, fakeTemplateApi } from "./templateChat";
import { FAILED_INDEX, type LongChatApi, fakeLongChatApi, longChat } from "./longChat";
import { englishIn, uiTexts } from "./language";
import type { ChatMessage } from "../../WhatsAppChat/api/contract";

const OUTPUT = path.resolve(__dirname, "../../test-output");
const SCREENSHOT = path.join(OUTPUT, "chat-panel.png");
// A customer of this run only: +1 555 then seven digits of the clock.
const CUSTOMER = `1555${String(Date.now()).slice(-7)}`;
const WINDOW_CLOSED = "You can only reply within 24 hours of the customer's last message.";
// The record the harness puts the panel on (harness/main.ts), as the API's `regarding` parameter.
const RECORD = "contact:3f2504e0-4f89-11d3-9a0c-0305e82c3301";

/** The wamid of the customer's first message, and of one the journey later deletes. */
let questionWamid = "";
let thanksWamid = "";
let app: LocalApp;
let harness: Awaited<ReturnType<typeof serveHarness>>;
let browser: Chromium;
let page: Page;
const pageErrors: string[] = [];
/** Every request the panel made to the API: method and URL. */
const apiRequests: { method: string; url: string }[] = [];

const panel = (): Locator => page.getByTestId("whatsapp-chat");
const bubbles = (direction: "inbound" | "outbound", text: string): Locator => panel().locator(`[data-direction=${direction}]`, { hasText: text });
const messageBox = (): Locator => page.getByRole("textbox", { name: "Message" });
const sendButton = (): Locator => page.getByRole("button", { name: "Send", exact: true });

/** How far a bubble sits from the list's left and right edges: the customer's hug the left, ours the right. */
async function margins(row: Locator): Promise<{ left: number; right: number }> {
  const list = await page.getByRole("log", { name: "Chat history" }).boundingBox();
  const bubble = await row.locator(":scope > div").boundingBox();
  if (!list || !bubble) throw new Error("the bubble is not on screen");
  return { left: bubble.x - list.x, right: list.x + list.width - (bubble.x + bubble.width) };
}

beforeAll(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  await buildHarness();
  harness = await serveHarness();
  app = await startLocalApp({ allowedOrigin: harness.origin, logFile: path.join(OUTPUT, "devhost.log") });
  browser = await launchChromium();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("request", (request) => {
    if (request.url().startsWith(app.apiUrl)) apiRequests.push({ method: request.method(), url: request.url() });
  });
  page.on("console", (message) => {
    if (message.type() === "error" && /CORS|Access-Control/i.test(message.text())) pageErrors.push(message.text());
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await harness?.close();
}, 60_000);

describe.sequential("an agent chats with a customer on WhatsApp from the D365 form", () => {
  it("opens the panel for a customer who never wrote: the validation message, and no composer", async () => {
    await page.goto(`${harness.origin}/?phone=${CUSTOMER}&api=${encodeURIComponent(app.apiUrl)}&poll=2&height=760`);
    await expect.poll(() => page.getByTestId("window-closed").textContent()).toContain(WINDOW_CLOSED);
    expect(await page.getByTestId("window-closed").textContent()).toContain("This customer hasn't written to you on WhatsApp yet.");
    expect(await page.getByTestId("composer").count()).toBe(0);
    expect(await panel().getByText("Session closed").isVisible()).toBe(true);
    await panel().screenshot({ path: path.join(OUTPUT, "chat-panel-window-closed.png") });
  });

  it("the customer writes; after Refresh their message shows on the left and the composer appears", async () => {
    questionWamid = await customerSays(app.sandboxUrl, CUSTOMER, "Hi, where is my parcel?");
    await page.getByRole("button", { name: "Refresh" }).click();
    const question = bubbles("inbound", "Hi, where is my parcel?");
    await question.waitFor();
    await page.getByTestId("composer").waitFor();
    expect(await page.getByTestId("window-closed").count()).toBe(0);
    const { left, right } = await margins(question);
    expect(left).toBeLessThan(right);
    expect(await panel().getByText(/Session open/).isVisible()).toBe(true);
  });

  it("the agent's reply shows on the right and reaches read ticks", async () => {
    await messageBox().fill("It ships today! You'll get it tomorrow.");
    await sendButton().click();
    const reply = bubbles("outbound", "It ships today!");
    await reply.waitFor();
    // Cleared once Send's answer is in (a poll may show the message a moment before).
    await expect.poll(() => messageBox().inputValue()).toBe("");
    await reply.locator("[data-delivery=read]").waitFor({ timeout: 20_000 });
    expect(await reply.getByRole("img", { name: "Read" }).isVisible()).toBe(true);
    const { left, right } = await margins(reply);
    expect(right).toBeLessThan(left);
  });

  it("a send the API refuses is explained, and nothing typed is lost", async () => {
    await page.getByRole("button", { name: "Use text URL" }).click();
    await page.getByRole("textbox", { name: "Media URL" }).fill("http://example.com/parcel.png");
    await page.getByRole("textbox", { name: "Caption" }).fill("Here is your parcel");
    await sendButton().click();
    await page.getByText("Something in this message isn't valid.").waitFor();
    expect(await page.getByText(/mediaUrl must be an https:\/\/ URL/).isVisible()).toBe(true);
    expect(await page.getByRole("textbox", { name: "Caption" }).inputValue()).toBe("Here is your parcel");
    expect(await page.getByRole("textbox", { name: "Media URL" }).inputValue()).toBe("http://example.com/parcel.png");
    await panel().screenshot({ path: path.join(OUTPUT, "chat-panel-send-refused.png") });
    expect(await sentToCustomer(app.sandboxUrl, CUSTOMER)).toHaveLength(1); // only the text reply reached WhatsApp
  });

  it("uploading a PNG fills the media URL box, and the photo is sent, shown inline and read", async () => {
    await page.locator("input[type=file]").setInputFiles({ name: "parcel.png", mimeType: "image/png", buffer: parcelPng() });
    const mediaUrl = page.getByRole("textbox", { name: "Media URL" });
    await expect.poll(() => mediaUrl.inputValue(), { timeout: 15_000 }).toContain("/media/outbound/");
    expect(await page.getByRole("combobox", { name: "Send as" }).inputValue()).toBe("image");
    expect(await page.getByRole("textbox", { name: "Caption" }).inputValue()).toBe("Here is your parcel");
    await sendButton().click();
    const photo = bubbles("outbound", "Here is your parcel");
    const image = photo.locator("img");
    await image.waitFor();
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: 15_000 }).toBe(240);
    await photo.locator("[data-delivery=read]").waitFor({ timeout: 20_000 });
    const sent = await sentToCustomer(app.sandboxUrl, CUSTOMER);
    expect(sent.map((message) => message.type)).toEqual(["text", "image"]);
  });

  it("a new customer message appears by itself while the panel is open", async () => {
    thanksWamid = await customerSays(app.sandboxUrl, CUSTOMER, "Great, thank you!");
    await bubbles("inbound", "Great, thank you!").waitFor({ timeout: 15_000 });
  });

  it("the customer's PDF appears as a download link once the app has copied it from WhatsApp", async () => {
    await customerSendsFile(app.sandboxUrl, CUSTOMER, { bytes: minimalPdf(), mimeType: "application/pdf", filename: "receipt.pdf", caption: "My receipt" });
    const file = bubbles("inbound", "My receipt");
    const link = file.getByRole("link", { name: /receipt\.pdf/ });
    await link.waitFor({ timeout: 20_000 });
    expect(await link.getAttribute("href")).toContain("/media/inbound/");
  });

  it("a double click on Send sends the message once", async () => {
    await messageBox().fill("You're welcome!");
    await sendButton().dblclick();
    const welcome = bubbles("outbound", "You're welcome!");
    await welcome.locator("[data-delivery=read]").waitFor({ timeout: 20_000 });
    expect(await welcome.count()).toBe(1);
    const texts = (await sentToCustomer(app.sandboxUrl, CUSTOMER)).filter((message) => message.type === "text");
    expect(texts).toHaveLength(2);
  });

  it("told WhatsApp that each customer message shown was read, once, and that the agent was typing, at most every 20 s", async () => {
    const receipts = await receiptsFor(app.sandboxUrl, CUSTOMER);
    const reads = receipts.filter((receipt) => !receipt.typing_indicator).map((receipt) => receipt.message_id);
    expect(reads).toContain(questionWamid); // shown on Refresh
    expect(reads).toContain(thanksWamid); // shown by a poll while the panel was on screen
    expect(new Set(reads).size).toBe(reads.length);
    const typing = receipts.filter((receipt) => receipt.typing_indicator).map((receipt) => receipt.at);
    expect(typing.length).toBeGreaterThan(0);
    for (let i = 1; i < typing.length; i++) expect((typing[i] ?? 0) - (typing[i - 1] ?? 0)).toBeGreaterThanOrEqual(20);
  });

  it("looks right: the whole conversation in one screenshot", async () => {
    await page.getByRole("button", { name: "Dismiss" }).click({ timeout: 2_000 }).catch(() => undefined);
    await panel().screenshot({ path: SCREENSHOT });
    expect(pageErrors).toEqual([]);
  });

  it("named the record the panel sits on in every call to the API: session, history, send, upload, read and typing", () => {
    const routes = new Set(apiRequests.map((r) => `${r.method} ${new URL(r.url).pathname.replace(CUSTOMER, "{customer}")}`));
    expect([...routes].sort()).toEqual([
      "GET /api/conversations/{customer}/messages",
      "GET /api/conversations/{customer}/session",
      "POST /api/conversations/{customer}/messages",
      "POST /api/conversations/{customer}/read",
      "POST /api/conversations/{customer}/typing",
      "POST /api/media",
    ]);
    const unnamed = apiRequests.filter((r) => new URL(r.url).searchParams.get("regarding") !== RECORD);
    expect(unnamed).toEqual([]);
  });

  // The app stored a customer's deletion as a `system` message; the API that attaches it to the deleted
  // message (`deleted: true`) may or may not be in the app this journey starts: either shows right.
  it("the customer deletes a message: it shows as deleted, or as a centred system line", async () => {
    const thanks = bubbles("inbound", "Great, thank you!");
    const id = await thanks.getAttribute("data-message-id");
    await customerDeletes(app, CUSTOMER, thanksWamid);
    const deleted = panel().locator(`[data-message-id="${id}"][data-deleted]`);
    const systemLine = panel().locator("[data-kind=system]", { hasText: /deleted/i });
    await expect.poll(async () => (await deleted.count()) + (await systemLine.count()), { timeout: 15_000 }).toBeGreaterThan(0);
    if ((await deleted.count()) > 0) {
      expect(await deleted.textContent()).toContain("This message was deleted");
      expect(await deleted.textContent()).not.toContain("Great, thank you!");
    } else {
      const { left, right } = await margins(systemLine.first());
      expect(Math.abs(left - right)).toBeLessThan(3);
      expect(await systemLine.first().locator("[data-delivery]").count()).toBe(0);
    }
    expect(pageErrors).toEqual([]);
  });
});

// Issue 14: outside the 24-hour window an agent can still send an approved template. Against the real
// app and the sandbox's templates (devhost/sandbox_templates.py), for a customer who never wrote.
describe.sequential("an agent sends an approved template while the customer's window is closed", () => {
  const customer = `1556${String(Date.now()).slice(-7)}`;
  const picker = (): Locator => page.getByTestId("template-picker");

  it("closed window → pick a template → fill → send → it appears with its rendered text", async () => {
    const from = apiRequests.length;
    await page.goto(`${harness.origin}/?phone=${customer}&api=${encodeURIComponent(app.apiUrl)}&poll=2&height=760&firstName=Ada`);
    await expect.poll(() => page.getByTestId("window-closed").textContent()).toContain(WINDOW_CLOSED);
    const open = page.getByTestId("window-closed").getByRole("button", { name: "Send a template" });
    await panel().screenshot({ path: path.join(OUTPUT, "template-window-closed.png") });

    // Pick: the sandbox's approved templates, found by name.
    await open.click();
    const search = picker().getByRole("searchbox", { name: "Search templates by name" });
    await search.waitFor();
    expect(await search.evaluate((node) => node === document.activeElement)).toBe(true);
    await picker().getByRole("list", { name: "Approved templates" }).waitFor();
    const listed = await picker().locator("[data-template]").evaluateAll((rows) => rows.map((row) => `${row.getAttribute("data-template")} ${row.getAttribute("data-language")}`));
    expect(listed).toContain("order_confirmation en_US");
    expect(listed).not.toContain("2023_april_promo en_US"); // rejected in review: never offered
    expect(listed).not.toContain("order_update de_DE"); // pending
    await search.fill("order conf");
    await expect.poll(() => picker().locator("[data-template]").count()).toBe(1);
    await picker().getByRole("button", { name: "order_confirmation, English (United States), Utility" }).click();

    // Fill: the record's first name is there already (editable); Send waits for the order number.
    const firstName = picker().getByRole("textbox", { name: "First name" });
    expect(await firstName.inputValue()).toBe("Ada");
    const send = picker().getByRole("button", { name: "Send template" });
    expect(await send.getAttribute("aria-disabled")).toBe("true");
    const orderNumber = picker().getByRole("textbox", { name: "Order number" });
    expect(await orderNumber.evaluate((node) => node === document.activeElement)).toBe(true); // the first field left to fill
    await orderNumber.fill("860198-230332");
    expect(await send.getAttribute("aria-disabled")).toBe(null);
    const preview = await picker().getByTestId("template-preview").innerText();
    expect(preview).toContain("Order 860198-230332 confirmed");
    expect(preview).toContain("Thank you, Ada! Your order 860198-230332 is confirmed and we will tell you when it ships.");
    await panel().screenshot({ path: path.join(OUTPUT, "template-filled.png") });

    // Send: it shows on the right with its rendered text and the template's name; the window stays closed.
    await send.click();
    const sent = bubbles("outbound", "Thank you, Ada! Your order 860198-230332 is confirmed");
    await sent.waitFor({ timeout: 20_000 });
    expect(await sent.locator("[data-template-label]").textContent()).toContain("Template: order_confirmation");
    expect(await sent.textContent()).toContain("Order 860198-230332 confirmed");
    expect(await picker().count()).toBe(0);
    expect(await page.getByTestId("window-closed").textContent()).toContain(WINDOW_CLOSED);
    expect(await page.getByTestId("composer").count()).toBe(0);
    // Focus is back on what opened the picker.
    expect(await open.evaluate((node) => node === document.activeElement)).toBe(true);
    await sent.locator("[data-delivery=read]").waitFor({ timeout: 20_000 });

    // What reached WhatsApp: that template, in that language, with the values.
    const received = await sentToCustomer(app.sandboxUrl, customer);
    expect(received.map((message) => message.type)).toEqual(["template"]);
    const template = received[0]?.request.template as { name: string; language: { code: string }; components: unknown[] };
    expect(template.name).toBe("order_confirmation");
    expect(template.language.code).toBe("en_US");
    expect(JSON.stringify(template.components)).toContain("860198-230332");
    expect(JSON.stringify(template.components)).toContain("Ada");
    await panel().screenshot({ path: path.join(OUTPUT, "template-sent.png") });

    // Every call named the record, the template list included.
    const asked = apiRequests.slice(from);
    expect(asked.some((r) => new URL(r.url).pathname === "/api/templates")).toBe(true);
    expect(asked.filter((r) => new URL(r.url).searchParams.get("regarding") !== RECORD)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

// The API refuses a conversation with 403 not_allowed (issue 10: record-level authorisation). The
// local app serves only the sandbox's business number, so asking about another is a real refusal; a
// record the agent may not read needs Dataverse, so there the browser answers as the API would.
describe.sequential("an agent on a record they may not use", () => {
  const refused = (): Locator => page.getByTestId("chat-refused");

  /** Requests the panel makes from now on for this customer (and, if given, about this business number). */
  function countRequests(customer: string, businessNumber?: string): () => number {
    const from = apiRequests.length;
    const about = (url: string): boolean =>
      url.includes(`/conversations/${customer}/`) && (!businessNumber || new URL(url).searchParams.get("phoneNumberId") === businessNumber);
    return () => apiRequests.slice(from).filter((r) => about(r.url)).length;
  }

  it("on opening, refused by the real app: its reason instead of the chat, no spinner, no composer, and no polling", async () => {
    const notServed = "999000111222333";
    expect(notServed).not.toBe(app.businessNumber);
    const asked = countRequests(CUSTOMER, notServed);
    const url = `${harness.origin}/?phone=${CUSTOMER}&api=${encodeURIComponent(app.apiUrl)}&poll=2&height=480&phoneNumberId=${notServed}`;
    await page.goto(url);
    await refused().waitFor();
    expect(await refused().textContent()).toContain("You can't use WhatsApp chat on this record.");
    expect(await refused().textContent()).toContain(`This app does not serve the business number ${notServed}.`);
    expect(await refused().locator("[data-problem-code]").getAttribute("data-problem-code")).toBe("not_allowed");
    expect(await panel().getByText("Not available").isVisible()).toBe(true);
    expect(await page.getByTestId("composer").count()).toBe(0);
    expect(await page.getByRole("log", { name: "Chat history" }).count()).toBe(0);
    expect(await page.getByText("Loading the chat…").count()).toBe(0);
    const afterRefusal = asked();
    expect(afterRefusal).toBe(2); // the session and the first page, together
    await page.waitForTimeout(5_000); // two and a half poll intervals
    expect(asked()).toBe(afterRefusal);
    await panel().screenshot({ path: path.join(OUTPUT, "chat-panel-refused.png") });

    await page.goto(`${url}&theme=dark`);
    await refused().waitFor();
    await panel().screenshot({ path: path.join(OUTPUT, "chat-panel-refused-dark.png") });
  });

  it("refused mid-chat (access to the contact taken away): the chat goes, the unsent message stays readable, polling stops", async () => {
    const reason = "You can't read this contact in Dynamics 365 (it isn't shared with you).";
    const refusal = (route: Route): Promise<void> =>
      route.fulfill({
        status: 403,
        contentType: "application/json",
        headers: { "Access-Control-Allow-Origin": harness.origin },
        body: JSON.stringify({ error: { code: "not_allowed", message: reason } }),
      });
    await page.goto(`${harness.origin}/?phone=${CUSTOMER}&api=${encodeURIComponent(app.apiUrl)}&poll=2&height=560`);
    await page.getByTestId("composer").waitFor();
    await messageBox().fill("One more thing about your parcel");
    const toRefuse = (url: URL): boolean => url.pathname.includes(`/conversations/${CUSTOMER}/`);
    await page.route(toRefuse, refusal);
    const asked = countRequests(CUSTOMER);
    await sendButton().click();
    await refused().waitFor();
    expect(await refused().textContent()).toContain(reason);
    expect(await refused().textContent()).toContain("Your message wasn't sent.");
    expect(await page.getByRole("textbox", { name: "Your unsent message" }).inputValue()).toBe("One more thing about your parcel");
    expect(await page.getByTestId("composer").count()).toBe(0);
    expect(await panel().locator("[data-direction]").count()).toBe(0);
    const afterRefusal = asked();
    await page.waitForTimeout(5_000);
    expect(asked()).toBe(afterRefusal);
    await panel().screenshot({ path: path.join(OUTPUT, "chat-panel-refused-send.png") });
    await page.unroute(toRefuse, refusal);
    expect(pageErrors).toEqual([]);
  });
});

type Rgba = [number, number, number, number];

function rgba(css: string): Rgba {
  const parts = /rgba?\(([^)]+)\)/.exec(css)?.[1]?.split(/[\s,/]+/).filter(Boolean).map(Number);
  if (!parts || parts.length < 3) throw new Error(`not an rgb() colour: ${css}`);
  return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0, parts[3] ?? 1];
}

function over(top: Rgba, below: [number, number, number]): [number, number, number] {
  const a = top[3];
  return [top[0] * a + below[0] * (1 - a), top[1] * a + below[1] * (1 - a), top[2] * a + below[2] * (1 - a)];
}

function luminance([r, g, b]: [number, number, number]): number {
  const channel = (c: number): number => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

/** WCAG's contrast ratio of an element's text against what is behind it (its own and its ancestors' backgrounds). */
async function contrast(element: Locator): Promise<number> {
  const chain = await element.evaluate((node: Element) => {
    const styles: { color: string; background: string }[] = [];
    for (let current: Element | null = node; current; current = current.parentElement) {
      const style = getComputedStyle(current);
      styles.push({ color: style.color, background: style.backgroundColor });
    }
    return styles;
  });
  let behind: [number, number, number] = [255, 255, 255];
  for (const layer of [...chain].reverse()) behind = over(rgba(layer.background), behind);
  const text = over(rgba(chain[0]?.color ?? "rgb(0, 0, 0)"), behind);
  const [light, dark] = [luminance(text), luminance(behind)].sort((a, b) => b - a) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

// Replies, edits, deletions, reactions, the ad a customer came from and the marketing opt-out: the
// local app may not answer these fields yet, so the browser answers the API for this customer (a
// Playwright route, as above) and serves the chat's photos.
describe.sequential("an agent reads a chat with replies, edits, deletions, reactions and an ad", () => {
  const customer = `1444${String(Date.now()).slice(-7)}`;
  const chat = contextChat(customer, new Date());
  const url = (height: number, extra = ""): string => `${harness.origin}/?phone=${customer}&api=${encodeURIComponent(app.apiUrl)}&poll=2&height=${height}${extra}`;
  const row = (id: string): Locator => panel().locator(`[data-message-id="${id}"]`);
  const list = (): Locator => page.getByRole("log", { name: "Chat history" });
  const served = (url: URL): boolean => url.pathname.includes(`/conversations/${customer}/`);
  const media = (url: URL): boolean => url.origin === MEDIA_ORIGIN;

  beforeAll(async () => {
    await page.route(served, (route: Route) => {
      const asked = new URL(route.request().url());
      const body = asked.pathname.endsWith("/session")
        ? chat.session
        : asked.searchParams.has("changedSince")
          ? { messages: [], next: null, pollCursor: "ctx-cursor-2" }
          : chat.page;
      return route.fulfill({ status: 200, contentType: "application/json", headers: { "Access-Control-Allow-Origin": harness.origin }, body: JSON.stringify(body) });
    });
    // Photos arrive a moment after the history, uncached, as from blob storage.
    await page.route(media, async (route: Route) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const body = route.request().url().includes("damaged") ? damagedParcelPng() : parcelPng();
      await route.fulfill({ status: 200, contentType: "image/png", headers: { "Cache-Control": "no-store" }, body });
    });
  });

  afterAll(async () => {
    await page.unroute(served);
    await page.unroute(media);
    await page.setViewportSize({ width: 520, height: 900 });
  });

  /** Opens the whole chat on a panel tall enough to show all of it, photos loaded. */
  async function openWholeChat(theme = ""): Promise<void> {
    await page.setViewportSize({ width: 520, height: 2020 });
    await page.goto(url(1960, theme));
    await row(chat.ids.quotesProductPhoto).waitFor();
    for (const img of await list().locator("img").all()) {
      await expect.poll(() => img.evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth > 0)).toBe(true);
    }
  }

  it("shows each message's context, readably, in the light theme", async () => {
    await openWholeChat();
    // The header: the customer opted out of marketing (neutral: replies are fine).
    const optOut = panel().getByText("Opted out of marketing");
    expect(await optOut.isVisible()).toBe(true);
    expect(await optOut.getAttribute("title")).toContain("Replies in the chat are not affected.");

    // The ad the customer came from: a card above their text, its link opening a new tab safely.
    const fromAd = row(chat.ids.fromAd);
    const card = fromAd.getByRole("note", { name: "From ad: Parcel boxes, 20% off this spring" });
    expect(await card.isVisible()).toBe(true);
    const adLink = card.getByRole("link", { name: /Open the ad/ });
    expect(await adLink.getAttribute("href")).toBe(AD_URL);
    expect(await adLink.getAttribute("target")).toBe("_blank");
    expect(await adLink.getAttribute("rel")).toBe("noopener noreferrer");
    const cardBox = await card.boundingBox();
    const textBox = await fromAd.getByText("Hi! I saw your ad.").boundingBox();
    expect(cardBox && textBox && cardBox.y + cardBox.height <= textBox.y + 1).toBe(true);
    expect(await fromAd.textContent()).not.toContain("ARAkLk"); // the click id is not for agents

    expect(await panel().getByText("About product BOX-L-42").isVisible()).toBe(true);

    // Edited: the label sits on the time's line.
    const edited = row(chat.ids.edited);
    const label = edited.locator("[data-edited]");
    expect(await label.textContent()).toBe("edited");
    const [labelBox, timeBox] = [await label.boundingBox(), await edited.locator("time").boundingBox()];
    expect(labelBox && timeBox && Math.abs(labelBox.y + labelBox.height / 2 - (timeBox.y + timeBox.height / 2)) < 3 && labelBox.x < timeBox.x).toBe(true);

    // Deleted: a muted italic placeholder and nothing else.
    const deleted = row(chat.ids.deleted);
    expect(await deleted.textContent()).toMatch(/^⊘This message was deleted\d\d:\d\d$/);
    expect(await deleted.locator("span[data-deleted]").evaluate((node) => getComputedStyle(node).fontStyle)).toBe("italic");
    expect(await deleted.locator("img, a, button, [data-reaction]").count()).toBe(0);

    // Reactions: grouped chips hanging under the bubble, named for screen readers.
    const liked = row(chat.ids.bothLiked);
    const chip = liked.getByRole("img", { name: "👍 2 reactions, from the customer and you" });
    expect(await chip.textContent()).toBe("👍2");
    const [chipBox, bubbleBox] = [await chip.boundingBox(), await liked.locator(":scope > div > div").first().boundingBox()];
    expect(chipBox && bubbleBox && chipBox.y > bubbleBox.y + bubbleBox.height - chipBox.height && chipBox.y < bubbleBox.y + bubbleBox.height).toBe(true);
    expect(await row(chat.ids.replyToDamaged).getByRole("group", { name: "Reactions" }).getByRole("img", { name: "❤️ from the customer" }).isVisible()).toBe(true);

    // Quotes: a photo's caption, a photo by its kind, a deleted message; each at the top of its bubble.
    expect(await row(chat.ids.replyToDamaged).getByRole("button", { name: "Reply to the customer's message: One of them arrived like this 😕. Show it" }).isVisible()).toBe(true);
    const quotesPhoto = row(chat.ids.quotesProductPhoto).getByRole("button", { name: "Reply to your message: Photo. Show it" });
    expect(await quotesPhoto.textContent()).toBe("You📷Photo");
    expect(await row(chat.ids.quotesDeleted).getByRole("button", { name: "Reply to the customer's message: Deleted message. Show it" }).textContent()).toBe("Customer⊘Deleted message");

    // A WhatsApp system line: centred, nobody's bubble.
    const system = row(chat.ids.system);
    const { left, right } = await margins(system);
    expect(Math.abs(left - right)).toBeLessThan(3);
    expect(await system.getByText("The customer's security code changed.").isVisible()).toBe(true);

    await panel().screenshot({ path: path.join(OUTPUT, "chat-panel-context.png") });
    expect(pageErrors).toEqual([]);
  });

  it("stays readable in D365's dark theme: dark wallpaper and bubbles, every text in contrast", async () => {
    await openWholeChat("&theme=dark");
    const wallpaper = await list().evaluate((node) => getComputedStyle(node).backgroundColor);
    expect(luminance(over(rgba(wallpaper), [0, 0, 0]))).toBeLessThan(0.05);
    const outbound = panel().locator("[data-direction=outbound] > div > div").first();
    expect(luminance(over(rgba(await outbound.evaluate((node) => getComputedStyle(node).backgroundColor)), [0, 0, 0]))).toBeLessThan(0.2);
    await panel().screenshot({ path: path.join(OUTPUT, "chat-panel-context-dark.png") });
  });

  for (const theme of ["light", "dark"] as const) {
    it(`keeps every new text at WCAG AA contrast (${theme})`, async () => {
      await openWholeChat(theme === "dark" ? "&theme=dark" : "");
      const texts: [string, Locator][] = [
        ["opt-out badge", panel().getByText("Opted out of marketing")],
        ["ad card title", row(chat.ids.fromAd).getByText(/^From ad:/)],
        ["ad card body", row(chat.ids.fromAd).getByText(/^Sturdy double-wall boxes/)],
        ["ad card link", row(chat.ids.fromAd).getByRole("link", { name: /Open the ad/ })],
        ["referred product", panel().locator("[data-referred-product]")],
        ["edited label", row(chat.ids.edited).locator("[data-edited]")],
        ["deleted placeholder", row(chat.ids.deleted).locator("span[data-deleted]")],
        ["reaction chip", row(chat.ids.bothLiked).locator("[data-reaction]")],
        ["quote author (customer)", row(chat.ids.replyToDamaged).locator("[data-quoted-id] > span").first()],
        ["quote text (in an outbound bubble)", row(chat.ids.replyToDamaged).locator("[data-quoted-id] > span").nth(1)],
        ["quote author (you)", row(chat.ids.quotesProductPhoto).locator("[data-quoted-id] > span").first()],
        ["quote text (in an inbound bubble)", row(chat.ids.quotesProductPhoto).locator("[data-quoted-id] > span").nth(1)],
        ["system line", row(chat.ids.system).getByRole("note")],
        ["outbound text", row(chat.ids.bothLiked).getByText("Yes, it's booked")],
        ["outbound time", row(chat.ids.bothLiked).locator("time")],
        ["inbound time", row(chat.ids.edited).locator("time")],
      ];
      const poor: string[] = [];
      for (const [what, locator] of texts) {
        const ratio = await contrast(locator);
        if (ratio < 4.5) poor.push(`${what}: ${ratio.toFixed(2)}`);
      }
      expect(poor).toEqual([]);
    });
  }

  it("opens at the newest message, also when the photos arriving after the text make the chat longer", async () => {
    // Tall enough for the chat without its photos, too short with them: the list only overflows once they load.
    await page.setViewportSize({ width: 520, height: 1760 });
    await page.goto(url(1700));
    await row(chat.ids.quotesProductPhoto).waitFor();
    for (const img of await list().locator("img").all()) {
      await expect.poll(() => img.evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth > 0)).toBe(true);
    }
    const below = (): Promise<number> => list().evaluate((node) => node.scrollHeight - node.scrollTop - node.clientHeight);
    expect(await list().evaluate((node) => node.scrollHeight - node.clientHeight)).toBeGreaterThan(100);
    await expect.poll(below).toBeLessThan(2);
  });

  it("a click on a quoted photo brings the photo into view and rings it", async () => {
    await page.setViewportSize({ width: 520, height: 900 });
    await page.goto(url(560));
    const quote = row(chat.ids.quotesProductPhoto).getByRole("button", { name: /Reply to your message: Photo/ });
    await quote.waitFor();
    const photo = row(chat.ids.productPhoto);
    // The photos load after the list first went to the bottom; it stays there.
    for (const img of await list().locator("img").all()) {
      await expect.poll(() => img.evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth > 0)).toBe(true);
    }
    const inView = async (): Promise<boolean> => {
      const [photoBox, listBox] = [await photo.boundingBox(), await list().boundingBox()];
      return !!photoBox && !!listBox && photoBox.y >= listBox.y - 1 && photoBox.y + photoBox.height <= listBox.y + listBox.height + 1;
    };
    await expect.poll(() => list().evaluate((node) => node.scrollHeight - node.scrollTop - node.clientHeight)).toBeLessThan(2);
    expect(await inView()).toBe(false);
    await quote.click();
    await expect.poll(inView).toBe(true);
    expect(await photo.getAttribute("data-highlighted")).toBe("");
    await expect.poll(() => photo.getAttribute("data-highlighted"), { timeout: 5_000 }).toBe(null);
    // From the keyboard too, and the page around the panel stays where it was.
    const pageScroll = await page.evaluate(() => window.scrollY);
    await list().evaluate((node) => node.scrollTo({ top: node.scrollHeight }));
    await expect.poll(inView).toBe(false);
    await quote.focus();
    await page.keyboard.press("Enter");
    await expect.poll(inView).toBe(true);
    expect(await page.evaluate(() => window.scrollY)).toBe(pageScroll);
    await panel().screenshot({ path: path.join(OUTPUT, "chat-panel-context-quote.png") });
    expect(pageErrors).toEqual([]);
  });
});

// The picker with a long list, a refusal, reactions and the dark theme: the browser answers the API for
// these customers (templateChat.ts), so the pictures do not depend on the sandbox's few templates.
describe.sequential("the template picker and reactions, with a business number of many templates", () => {
  const list = (): Locator => page.getByRole("log", { name: "Chat history" });
  const picker = (): Locator => page.getByTestId("template-picker");
  const search = (): Locator => picker().getByRole("searchbox", { name: "Search templates by name" });
  const url = (customer: string, extra = "", height = 720): string =>
    `${harness.origin}/?phone=${customer}&api=${encodeURIComponent(app.apiUrl)}&poll=2&height=${height}&firstName=Ada${extra}`;
  const media = (asked: URL): boolean => asked.origin === MEDIA_ORIGIN;

  beforeAll(async () => {
    await page.setViewportSize({ width: 520, height: 900 });
    await page.route(media, (route: Route) =>
      route.fulfill({ status: 200, contentType: "image/png", body: route.request().url().includes("damaged") ? damagedParcelPng() : parcelPng() }),
    );
  });
  afterAll(async () => {
    await page.unroute(media);
  });

  /** A customer who wrote two days ago (the window is closed). */
  async function closedChat(theme = "") {
    const customer = `1557${String(Date.now()).slice(-7)}`;
    const fake = await fakeTemplateApi(page, {
      customer,
      origin: harness.origin,
      session: { active: false, expiresAt: null, lastInboundAt: new Date(Date.now() - 2 * 86_400_000).toISOString() },
      messages: [],
    });
    await page.goto(url(customer, theme));
    await page.getByTestId("window-closed").getByRole("button", { name: "Send a template" }).waitFor();
    return fake;
  }

  it("searches a long list by name, narrows it by language, and goes by keyboard", async () => {
    const fake = await closedChat();
    await page.getByRole("button", { name: "Send a template" }).click();
    await search().waitFor();
    expect(await picker().getByText(`${TEMPLATE_LIST.length} of ${TEMPLATE_LIST.length} templates`).isVisible()).toBe(true);
    await panel().screenshot({ path: path.join(OUTPUT, "template-picker-list.png") });
    await search().fill("order");
    await expect.poll(() => picker().locator("[data-template]").count()).toBe(TEMPLATE_LIST.filter((t) => t.name.includes("order")).length);
    const orders = TEMPLATE_LIST.filter((t) => t.name.includes("order")).length;
    expect(await picker().getByText(/^\d+ of \d+ templates$/).textContent()).toBe(`${orders} of ${TEMPLATE_LIST.length} templates`);
    await panel().screenshot({ path: path.join(OUTPUT, "template-picker-search.png") });
    await picker().getByRole("combobox", { name: "Language" }).selectOption("fr_FR");
    await expect.poll(() => picker().locator("[data-template]").count()).toBe(1);
    await picker().getByRole("combobox", { name: "Language" }).selectOption("");
    await search().fill("zzz");
    expect(await picker().getByText("No template matches “zzz”.").isVisible()).toBe(true);
    // Tab into the list, arrows move along it, Enter chooses; Escape closes and focus goes back.
    await search().fill("appointment");
    await search().focus();
    await page.keyboard.press("Tab"); // the language
    await page.keyboard.press("Tab"); // the first template
    await page.keyboard.press("ArrowDown");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-language"))).toBe("en_GB");
    await page.keyboard.press("Enter");
    await picker().locator("[data-template-form=appointment_reminder]").waitFor();
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-field"))).toBe("header:1");
    await page.keyboard.press("Escape");
    await expect.poll(() => picker().count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Send a template");
    await fake.stop();
  });

  it("fills a template with a live preview, and explains a marketing template refused for an opted-out customer", async () => {
    const customer = `1558${String(Date.now()).slice(-7)}`;
    const chat = contextChat(customer, new Date()); // opted out of marketing; photos both ways
    const fake = await fakeTemplateApi(page, { customer, origin: harness.origin, session: chat.session, messages: chat.page.messages, mediaUrl: `${MEDIA_ORIGIN}/media/outbound/sale.png` });
    // Tall enough for the chat's photos to be in the last picture.
    await page.setViewportSize({ width: 520, height: 1400 });
    await page.goto(url(customer, "", 1300));
    await page.getByTestId("composer").waitFor();
    // Inside the window the picker is in the composer's menu.
    await page.getByRole("button", { name: "More ways to send" }).click();
    await page.getByRole("menuitem", { name: "Send a template" }).click();
    await search().fill("order_update");
    await picker().locator("[data-template=order_update]").click();
    const preview = picker().getByTestId("template-preview");
    expect(await preview.innerText()).toContain("Hi Ada, your order {{order_id}} ships today.");
    await picker().getByRole("textbox", { name: "Order id" }).fill("40213");
    await picker().getByRole("textbox", { name: "Arrival date" }).fill("Friday 14 March");
    await picker().getByRole("textbox", { name: "“Track order” button" }).fill("40213");
    expect(await preview.innerText()).toContain("Hi Ada, your order 40213 ships today. It should arrive by Friday 14 March.");
    expect(await picker().locator("[data-preview-field]:not([data-filled])").count()).toBe(0);
    await panel().screenshot({ path: path.join(OUTPUT, "template-picker-filled.png") });

    // A marketing template: warned before, refused by the API, explained, nothing lost.
    await picker().getByRole("button", { name: "Back to the templates" }).click();
    await search().fill("spring");
    await picker().locator("[data-template=spring_sale]").click();
    expect(await picker().locator("[data-opt-out-warning]").isVisible()).toBe(true);
    await picker().locator("input[type=file]").setInputFiles({ name: "sale.png", mimeType: "image/png", buffer: parcelPng() });
    await picker().getByText("Uploaded: photo.png").waitFor();
    await picker().getByRole("textbox", { name: "End date" }).fill("31 May");
    await picker().getByRole("button", { name: "Send template" }).click();
    const refusal = picker().locator("[data-problem-code=marketing_opt_out]");
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain("This customer opted out of marketing messages.");
    expect(await picker().getByRole("textbox", { name: "End date" }).inputValue()).toBe("31 May");
    await panel().screenshot({ path: path.join(OUTPUT, "template-marketing-opt-out.png") });

    // A utility one goes, and shows at the end of the long chat with its photos.
    await picker().getByRole("button", { name: "Back to the templates" }).click();
    await search().fill("delivery rem");
    await picker().locator("[data-template=delivery_reminder]").click();
    await picker().getByRole("textbox", { name: "Body {{2}}" }).fill("9 am and 12 pm");
    await picker().getByRole("button", { name: "Send template" }).click();
    const sent = panel().locator("[data-direction=outbound]", { hasText: "Hi Ada, your parcel arrives tomorrow between 9 am and 12 pm." });
    await sent.waitFor();
    expect(await sent.locator("[data-template-label]").textContent()).toContain("Template: delivery_reminder");
    for (const img of await list().locator("img").all()) {
      await expect.poll(() => img.evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth > 0)).toBe(true);
    }
    await expect.poll(() => list().evaluate((node) => node.scrollHeight - node.scrollTop - node.clientHeight)).toBeLessThan(2);
    await panel().screenshot({ path: path.join(OUTPUT, "template-sent-long-chat.png") });
    expect(fake.sent.map((command) => [command.type, command.template?.name])).toEqual([
      ["template", "spring_sale"],
      ["template", "delivery_reminder"],
    ]);
    expect(fake.sent[1]?.template?.parameters).toEqual({ body: ["Ada", "9 am and 12 pm"] });
    expect(pageErrors).toEqual([]);
    await fake.stop();
    await page.setViewportSize({ width: 520, height: 900 });
  });

  it("reacts to a customer's message from a picker on it, and the same emoji again takes the reaction away", async () => {
    const customer = `1559${String(Date.now()).slice(-7)}`;
    const chat = contextChat(customer, new Date());
    const fake = await fakeTemplateApi(page, { customer, origin: harness.origin, session: chat.session, messages: chat.page.messages });
    await page.goto(url(customer));
    await page.getByTestId("composer").waitFor();
    const question = panel().locator(`[data-message-id="${chat.ids.quotesProductPhoto}"]`);
    // By keyboard: the React button is in the tab order and shows when focused.
    const react = question.getByRole("button", { name: /^React to this message/ });
    await react.focus();
    await expect.poll(() => react.evaluate((node) => getComputedStyle(node).opacity)).toBe("1");
    await page.keyboard.press("Enter");
    const choices = page.getByRole("toolbar", { name: "Reactions" });
    await choices.waitFor();
    await page.waitForTimeout(300); // the popover's entrance
    await panel().screenshot({ path: path.join(OUTPUT, "reaction-picker.png") });
    await choices.getByRole("button", { name: "React with ❤️" }).click();
    const mine = question.getByRole("img", { name: "❤️ from you" });
    await mine.waitFor();
    expect(await react.getAttribute("aria-label")).toBe("React to this message. Your reaction: ❤️");
    await react.click();
    expect(await choices.getByRole("button", { name: "Remove your reaction ❤️" }).getAttribute("aria-pressed")).toBe("true");
    await choices.getByRole("button", { name: "Remove your reaction ❤️" }).click();
    await expect.poll(() => mine.count()).toBe(0);
    expect(fake.sent.map((command) => command.reaction)).toEqual([
      { messageId: chat.ids.quotesProductPhoto, emoji: "❤️" },
      { messageId: chat.ids.quotesProductPhoto, emoji: "" },
    ]);
    // No React button on the business's own messages.
    expect(await panel().locator("[data-direction=outbound] [data-react-button]").count()).toBe(0);
    // The customer's newest message was shown on a visible panel: one read receipt, however many polls.
    await page.waitForTimeout(4_500);
    expect(fake.reads).toBe(1);
    // Typing: one indicator for a burst of keystrokes.
    await page.getByRole("textbox", { name: "Message" }).pressSequentially("Let me check", { delay: 30 });
    expect(fake.typings).toBe(1);
    expect(pageErrors).toEqual([]);
    await fake.stop();
  });

  it("looks right in D365's dark theme, every new text readable in both themes", async () => {
    const customer = `1550${String(Date.now()).slice(-7)}`;
    const chat = contextChat(customer, new Date());
    const sentTemplate = {
      ...chat.page.messages[0],
      id: "tpl-dark",
      wamid: "wamid.tpl-dark",
      direction: "outbound" as const,
      kind: "template",
      text: "Hi Ada, your parcel arrives tomorrow between 9 am and 12 pm.",
      template: { name: "delivery_reminder", language: "en_US", category: "UTILITY" },
      status: "delivered" as const,
    };
    const fake = await fakeTemplateApi(page, { customer, origin: harness.origin, session: chat.session, messages: [sentTemplate, ...chat.page.messages] });
    for (const theme of ["light", "dark"] as const) {
      await page.goto(url(customer, theme === "dark" ? "&theme=dark" : ""));
      await page.locator("[data-template-label]").waitFor();
      const poor: string[] = [];
      const check = async (what: string, locator: Locator): Promise<void> => {
        const ratio = await contrast(locator);
        if (ratio < 4.5) poor.push(`${what} (${theme}): ${ratio.toFixed(2)}`);
      };
      await check("template label", panel().locator("[data-template-label]"));
      if (theme === "dark") await panel().screenshot({ path: path.join(OUTPUT, "template-sent-long-chat-dark.png") });
      await page.getByRole("button", { name: "More ways to send" }).click();
      await page.getByRole("menuitem", { name: "Send a template" }).click();
      await search().fill("a");
      await check("template count", picker().getByText(/^\d+ of \d+ templates$/));
      for (const category of ["UTILITY", "MARKETING", "AUTHENTICATION"]) await check(`${category} badge`, picker().locator(`[data-category=${category}]`).first());
      await check("template language", picker().locator("[data-template]").first().locator("span").nth(2));
      if (theme === "dark") await panel().screenshot({ path: path.join(OUTPUT, "template-picker-dark.png") });
      await search().fill("order_update");
      await picker().locator("[data-template=order_update]").click();
      await check("field hint", picker().getByText("From this record; you can change it."));
      await check("missing value in the preview", picker().locator("[data-preview-field]:not([data-filled])").first());
      await check("filled value in the preview", picker().locator("[data-preview-field][data-filled]").first());
      await check("preview footer", picker().getByText("Parcel & Co. · Reply STOP to opt out"));
      await check("preview button", picker().getByText("Track order", { exact: true }));
      await check("why Send waits", picker().getByText(/fields to fill in/));
      if (theme === "dark") await panel().screenshot({ path: path.join(OUTPUT, "template-picker-filled-dark.png") });
      await page.keyboard.press("Escape");
      const question = panel().locator(`[data-message-id="${chat.ids.quotesProductPhoto}"]`);
      await question.getByRole("button", { name: /^React to this message/ }).click();
      await page.getByRole("toolbar", { name: "Reactions" }).waitFor();
      await page.waitForTimeout(300);
      if (theme === "dark") await panel().screenshot({ path: path.join(OUTPUT, "reaction-picker-dark.png") });
      await page.keyboard.press("Escape");
      expect(poor).toEqual([]);
    }
    expect(pageErrors).toEqual([]);
    await fake.stop();
  });
});


// A long, real chat (issue 15): sixty messages with photos, answered by the browser (longChat.ts). The
// README's screenshots come from here (docs/images/).
describe.sequential("an agent in a long, real chat", () => {
  const DOCS_IMAGES = path.resolve(__dirname, "../../../docs/images");
  const list = (): Locator => page.getByRole("log", { name: "Chat history" });
  const url = (customer: string, extra = ""): string =>
    `${harness.origin}/?phone=${customer}&api=${encodeURIComponent(app.apiUrl)}&poll=1&height=720&firstName=Ada&name=Ada%20Lovelace${extra}`;
  const below = (): Promise<number> => list().evaluate((node) => node.scrollHeight - node.scrollTop - node.clientHeight);
  const media = (asked: URL): boolean => asked.origin === MEDIA_ORIGIN;
  const customer = `1558${String(Date.now()).slice(-7)}`;
  let chat: ReturnType<typeof longChat>;
  let fake: LongChatApi;

  async function photosLoaded(): Promise<void> {
    for (const img of await list().locator("img").all()) {
      await expect.poll(() => img.evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth > 0)).toBe(true);
    }
  }

  beforeAll(async () => {
    mkdirSync(DOCS_IMAGES, { recursive: true });
    await page.setViewportSize({ width: 520, height: 780 });
    // Photos arrive a moment after the history, uncached, as from blob storage.
    await page.route(media, async (route: Route) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await route.fulfill({ status: 200, contentType: "image/png", headers: { "Cache-Control": "no-store" }, body: route.request().url().includes("damaged") ? damagedParcelPng() : parcelPng() });
    });
    chat = longChat(customer, new Date());
    fake = await fakeLongChatApi(page, { customer, origin: harness.origin, chat });
  });
  afterAll(async () => {
    await fake?.stop();
    await page.unroute(media);
    await page.setViewportSize({ width: 520, height: 900 });
  });

  it("opens a 60-message chat with photos at the newest message, after the photos load; older ones come above on request", async () => {
    await page.goto(url(customer));
    await panel().locator(`[data-message-id="${chat.messages[0]?.id}"]`).waitFor();
    await photosLoaded();
    expect(await list().evaluate((node) => node.scrollHeight - node.clientHeight)).toBeGreaterThan(1000);
    await expect.poll(below).toBeLessThan(2);
    // Who the chat is with: the record's name (its full name column) above the number.
    expect(await panel().locator("[data-customer-name]").textContent()).toBe("Ada Lovelace");
    await panel().screenshot({ path: path.join(DOCS_IMAGES, "open-chat.png") });
    await page.getByRole("button", { name: "Show older messages" }).click();
    await panel().locator('[data-message-id="long-1"]').waitFor();
    expect(await panel().locator('[data-message-id^="long-"]').count()).toBe(60);
    // The messages the agent was reading stay where they were: the list did not jump to the top or bottom.
    expect(await list().evaluate((node) => node.scrollTop)).toBeGreaterThan(200);
    expect(await below()).toBeGreaterThan(200);
    expect(pageErrors).toEqual([]);
  });

  it("a message arriving while the agent reads further up: a 'New messages' divider and a jump button, no jump", async () => {
    await list().evaluate((node) => {
      node.scrollTop = 0;
    });
    const arrived = { ...chat.messages[1], id: "long-new", wamid: "wamid.long-new", direction: "inbound" as const, kind: "text", text: "Sorry, one more question about Friday.", caption: undefined, media: undefined, status: "received" as const, statusTimes: {}, timestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z") } as ChatMessage;
    fake.pending.push(arrived);
    await panel().locator('[data-message-id="long-new"]').waitFor({ state: "attached" });
    const divider = panel().locator("[data-unseen-divider]");
    await divider.waitFor({ state: "attached" });
    expect(await list().evaluate((node) => node.scrollTop)).toBeLessThan(50);
    const jump = panel().getByRole("button", { name: "New messages" });
    await jump.waitFor();
    await panel().screenshot({ path: path.join(DOCS_IMAGES, "long-chat-new-messages.png") });
    await jump.click();
    await expect.poll(below).toBeLessThan(2);
    await expect.poll(() => jump.count()).toBe(0);
  });

  it("a reply WhatsApp did not deliver: its reason, and 'Edit and resend' puts it back in the composer for Send", async () => {
    const failed = panel().locator(`[data-message-id="long-${FAILED_INDEX + 1}"]`);
    await failed.scrollIntoViewIfNeeded();
    expect(await failed.textContent()).toContain("Not delivered: Message undeliverable (131026)");
    await failed.getByRole("button", { name: "Edit and resend" }).click();
    const message = page.getByRole("textbox", { name: "Message" });
    await expect.poll(() => message.inputValue()).toBe(chat.messages.find((each) => each.id === `long-${FAILED_INDEX + 1}`)?.text ?? "?");
    expect(await message.evaluate((box) => box === document.activeElement)).toBe(true);
    await message.fill("");
    // Back to the newest message for what follows.
    await list().evaluate((node) => {
      node.scrollTop = node.scrollHeight;
    });
    await expect.poll(below).toBeLessThan(2);
  });

  it("a pasted image and a file dropped on the composer are uploaded like a picked one", async () => {
    const mediaUrl = page.getByRole("textbox", { name: "Media URL" });
    const message = page.getByRole("textbox", { name: "Message" });
    // A screenshot pasted into the message box.
    await message.evaluate((box) => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array([137, 80, 78, 71])], "pasted.png", { type: "image/png" }));
      box.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    });
    await expect.poll(() => mediaUrl.inputValue()).toContain("/media/outbound/");
    expect(await page.getByRole("textbox", { name: "Caption" }).inputValue()).toBe("");
    await page.getByRole("button", { name: "Remove media" }).click();
    await expect.poll(() => mediaUrl.count()).toBe(0);
    // A file dragged from the desktop onto the composer.
    await panel().getByTestId("composer").evaluate((composer) => {
      const data = new DataTransfer();
      data.items.add(new File(["%PDF-1.4"], "invoice.pdf", { type: "application/pdf" }));
      composer.dispatchEvent(new DragEvent("dragover", { dataTransfer: data, bubbles: true, cancelable: true }));
      composer.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    await expect.poll(() => page.getByRole("textbox", { name: "Media URL" }).inputValue()).toContain("/media/outbound/");
    expect(fake.uploads).toEqual(["pasted.png", "invoice.pdf"]);
    await page.getByRole("button", { name: "Remove media" }).click();
  });

  it("a refused upload's reason shows in full at the end of the long chat, once, in the agent's words", async () => {
    fake.uploadRefusal = { status: 415, code: "unsupported_media_type", message: "image/gif is not a type WhatsApp accepts (image/jpeg, image/png, application/pdf)." };
    await page.locator("input[type=file]").setInputFiles({ name: "animation.gif", mimeType: "image/gif", buffer: Buffer.from("GIF89a") });
    const bar = panel().locator("[data-problem-code=unsupported_media_type]");
    await bar.waitFor();
    const text = (await bar.textContent()) ?? "";
    expect(text).toContain("WhatsApp can't carry this kind of file.");
    expect(text).not.toMatch(/image\/|application\//);
    expect(text.match(/JPEG or PNG/g)).toHaveLength(1);
    // Nothing of it is cut: the bar is as tall as what it says, and so is the area around it.
    const cut = await bar.evaluate((node) => {
      const area = node.closest("[data-notice-area]") as HTMLElement;
      return { bar: node.scrollHeight - node.clientHeight, area: area.scrollHeight - area.clientHeight, height: node.getBoundingClientRect().height };
    });
    expect(cut.bar).toBeLessThanOrEqual(1);
    expect(cut.area).toBeLessThanOrEqual(1);
    expect(cut.height).toBeGreaterThan(40);
    // The list gave way, and its newest message is still in view.
    await expect.poll(below).toBeLessThan(2);
    await panel().screenshot({ path: path.join(DOCS_IMAGES, "long-chat-upload-refused.png") });
    fake.uploadRefusal = undefined;
  });

  it("a failing API: the spinner ends, the error shows with Retry (never 'Checking session…' for ever), and Retry loads the chat", async () => {
    fake.failing = 503;
    await page.goto(url(customer));
    await panel().locator("[data-problem-code]").waitFor();
    await panel().getByText("The chat isn't loaded.").waitFor();
    expect(await panel().getByRole("progressbar").count()).toBe(0);
    expect(await panel().getByText("Checking session…").count()).toBe(0);
    expect(await panel().locator("[data-window=not-loaded]").count()).toBe(1);
    await panel().screenshot({ path: path.join(DOCS_IMAGES, "chat-panel-load-failed.png") });
    fake.failing = undefined;
    await panel().getByRole("button", { name: "Retry" }).click();
    await panel().locator('[data-message-id="long-new"]').waitFor();
    expect(await panel().locator("[data-problem-code]").count()).toBe(0);
  });

  it("the long chat in D365's dark theme: dark wallpaper and bubbles, every text readable", async () => {
    await page.goto(url(customer, "&theme=dark"));
    await panel().locator('[data-message-id="long-new"]').waitFor();
    await photosLoaded();
    await expect.poll(below).toBeLessThan(2);
    const poor: string[] = [];
    for (const [what, locator] of [
      ["customer's text", panel().locator("[data-direction=inbound]").last()],
      ["agent's text", panel().locator("[data-direction=outbound]").last()],
      ["day separator", panel().locator("[role=separator]").last()],
    ] as const) {
      const ratio = await contrast(locator);
      if (ratio < 4.5) poor.push(`${what}: ${ratio.toFixed(2)}`);
    }
    expect(poor).toEqual([]);
    await panel().screenshot({ path: path.join(DOCS_IMAGES, "dark-theme.png") });
  });

  it("the closed window with the template picker over the long chat; the picker in German; times in the D365 user's time zone and format", async () => {
    const closed = `1559${String(Date.now()).slice(-7)}`;
    const old = longChat(closed, new Date(Date.now() - 3 * 86_400_000));
    const templates = await fakeTemplateApi(page, {
      customer: closed,
      origin: harness.origin,
      session: { active: false, expiresAt: null, lastInboundAt: old.session.lastInboundAt },
      messages: old.messages,
    });
    await page.goto(url(closed));
    await page.getByTestId("window-closed").getByRole("button", { name: "Send a template" }).click();
    const picker = page.getByTestId("template-picker");
    await picker.getByRole("searchbox", { name: "Search templates by name" }).fill("order_update");
    await picker.locator("[data-template=order_update]").click();
    await picker.getByText("From this record; you can change it.").waitFor();
    await picker.getByRole("textbox", { name: "Order id" }).fill("40213");
    await picker.getByRole("textbox", { name: "Arrival date" }).fill("Friday");
    expect(await panel().locator("[data-window=closed]").count()).toBe(1);
    await panel().screenshot({ path: path.join(DOCS_IMAGES, "template-picker.png") });

    // The same for a German-speaking agent (WhatsAppChat.1031.resx, German patterns), with a German
    // template: every word on the panel is German.
    await page.goto(url(closed, "&lang=de&tzOffset=60"));
    const closedDe = page.getByTestId("window-closed");
    await closedDe.getByText("Sie können nur innerhalb von 24 Stunden nach der letzten Nachricht des Kunden antworten.").waitFor();
    expect(await closedDe.textContent()).toMatch(/Der Kunde hat zuletzt am \d{2}\.\d{2}\.\d{4} um \d{2}:\d{2} geschrieben\./);
    await closedDe.getByRole("button", { name: "Vorlage senden" }).click();
    await picker.getByRole("searchbox", { name: "Vorlagen nach Namen suchen" }).fill("appointment");
    await picker.locator("[data-template=appointment_reminder][data-language=de_DE]").click();
    await picker.getByText("Aus diesem Datensatz; Sie können es ändern.").waitFor();
    expect(await picker.getByText("Deutsch (Deutschland)").count()).toBeGreaterThan(0);
    await picker.getByRole("textbox", { name: "Kopfzeile {{1}}" }).fill("A-17");
    await picker.getByText(/^Noch \d+ von \d+ Feldern auszufüllen\.$/).waitFor();
    expect(await picker.getByTestId("template-preview").innerText()).toContain("Hallo Ada, wir sehen uns am");
    expect(englishIn(await uiTexts(panel()), "WhatsAppChat")).toEqual([]);
    await panel().screenshot({ path: path.join(DOCS_IMAGES, "template-picker-de.png") });

    // Times in the D365 user's own time zone and format (userSettings), whatever the browser's.
    await page.goto(url(customer, "&tzOffset=-300&timeFormat=h:mm%20tt"));
    const newest = panel().locator(`[data-message-id="${chat.messages[0]?.id}"] time`).first();
    await newest.waitFor();
    const iso = (await newest.getAttribute("datetime")) ?? "";
    const shifted = new Date(Date.parse(iso) - 300 * 60_000);
    const expected = `${shifted.getUTCHours() % 12 || 12}:${String(shifted.getUTCMinutes()).padStart(2, "0")} ${shifted.getUTCHours() < 12 ? "AM" : "PM"}`;
    expect(await newest.textContent()).toBe(expected);
    await templates.stop();
  });

  it("the long chat for a German user: every word German, days and times in the German patterns", async () => {
    const german = `1560${String(Date.now()).slice(-7)}`;
    // Three days, so a day before yesterday (a date, not a word) is always in the history.
    const deChat = longChat(german, new Date(), 60, { days: 3, language: "de" });
    const deFake = await fakeLongChatApi(page, { customer: german, origin: harness.origin, chat: deChat });
    await page.goto(url(german, "&lang=de&tzOffset=60"));
    await panel().locator(`[data-message-id="${deChat.messages[0]?.id}"]`).waitFor();
    await page.getByRole("button", { name: "Ältere Nachrichten anzeigen" }).click();
    await panel().locator('[data-message-id="long-1"]').waitFor();
    await photosLoaded();
    const separators = await panel().locator("[role=separator]").allInnerTexts();
    expect(separators.filter((text) => !/^(Heute|Gestern|\d{2}\.\d{2}\.\d{4})$/.test(text))).toEqual([]);
    expect(separators).toContain("Heute");
    expect(separators).toContain("Gestern");
    // The oldest day by its date, as a German user writes it: dd.MM.yyyy in Berlin's winter time (UTC+1).
    const oldest = new Date(Date.parse(deChat.messages.at(-1)?.timestamp ?? "") + 60 * 60_000);
    const day = `${String(oldest.getUTCDate()).padStart(2, "0")}.${String(oldest.getUTCMonth() + 1).padStart(2, "0")}.${oldest.getUTCFullYear()}`;
    expect(separators[0]).toBe(day);
    const times = await panel().locator("[data-message-id] time").allInnerTexts();
    expect(times.filter((text) => !/^\d{2}:\d{2}$/.test(text))).toEqual([]);
    // Longer German words: the header makes room, the name is not cut.
    expect(await panel().locator("[data-customer-name]").evaluate((node) => node.scrollWidth <= node.clientWidth)).toBe(true);
    // Meta's reason for the reply it did not deliver is Meta's own (English) words, shown as they came.
    const failed = deChat.messages.find((each) => each.status === "failed")?.error;
    expect(englishIn(await uiTexts(panel()), "WhatsAppChat", [failed?.title ?? "", failed?.detail ?? ""])).toEqual([]);
    // The newest dated day at the top of the list: its date, the messages after it, the German composer.
    await panel().getByRole("log", { name: "Chatverlauf" }).evaluate((node) => {
      const dated = Array.from(node.querySelectorAll("[role=separator]")).filter((each) => /\d/.test(each.textContent ?? "")).pop();
      if (dated) node.scrollTop += dated.getBoundingClientRect().top - node.getBoundingClientRect().top - 8;
    });
    await page.waitForTimeout(300);
    await panel().screenshot({ path: path.join(DOCS_IMAGES, "long-chat-de.png") });
    expect(pageErrors).toEqual([]);
    await deFake.stop();
  });

  it("the long chat in high contrast (the system forces its colours): the high-contrast theme, every bubble outlined, every text readable", async () => {
    await page.emulateMedia({ forcedColors: "active", colorScheme: "dark" });
    try {
      await page.goto(url(customer));
      await panel().locator('[data-message-id="long-new"]').waitFor();
      await photosLoaded();
      await expect.poll(below).toBeLessThan(2);
      // Wider badges in high contrast: the header makes room, the name is not cut.
      expect(await panel().locator("[data-customer-name]").evaluate((node) => node.scrollWidth <= node.clientWidth)).toBe(true);
      // The panel took Fluent's high-contrast theme (black, white text).
      expect(await panel().evaluate((node) => getComputedStyle(node).getPropertyValue("--colorNeutralBackground1").trim())).toBe("#000000");
      // Shadows are gone in forced colours: each bubble keeps a visible edge instead.
      for (const direction of ["inbound", "outbound"]) {
        const edge = await panel()
          .locator(`[data-direction=${direction}] > div > div`)
          .last()
          .evaluate((node) => {
            const style = getComputedStyle(node);
            return { width: style.borderTopWidth, style: style.borderTopStyle, color: style.borderTopColor, background: style.backgroundColor };
          });
        expect(edge.width).toBe("1px");
        expect(edge.style).toBe("solid");
        expect(rgba(edge.color)[3]).toBe(1);
        expect(edge.color).not.toBe(edge.background);
      }
      const poor: string[] = [];
      for (const [what, locator] of [
        ["customer's text", panel().locator("[data-direction=inbound]").last()],
        ["agent's text", panel().locator("[data-direction=outbound]").last()],
        ["day separator", panel().locator("[role=separator]").last()],
        ["header badge", panel().locator("[data-window]")],
        ["message time", panel().locator("[data-direction=outbound] time").last()],
      ] as const) {
        const ratio = await contrast(locator);
        if (ratio < 7) poor.push(`${what}: ${ratio.toFixed(2)}`);
      }
      expect(poor).toEqual([]);
      await panel().screenshot({ path: path.join(DOCS_IMAGES, "high-contrast.png") });
      expect(pageErrors).toEqual([]);
    } finally {
      await page.emulateMedia({ forcedColors: "none", colorScheme: null });
    }
  });
});
