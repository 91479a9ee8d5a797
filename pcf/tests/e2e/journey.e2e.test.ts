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
import { type LocalApp, customerSays, customerSendsFile, sentToCustomer, startLocalApp } from "./localApp";
import { minimalPdf, parcelPng } from "./files";

const OUTPUT = path.resolve(__dirname, "../../test-output");
const SCREENSHOT = path.join(OUTPUT, "chat-panel.png");
// A customer of this run only: +1 555 then seven digits of the clock.
const CUSTOMER = `1555${String(Date.now()).slice(-7)}`;
const WINDOW_CLOSED = "You can only reply within 24 hours of the customer's last message.";
// The record the harness puts the panel on (harness/main.ts), as the API's `regarding` parameter.
const RECORD = "contact:3f2504e0-4f89-11d3-9a0c-0305e82c3301";

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
    await customerSays(app.sandboxUrl, CUSTOMER, "Hi, where is my parcel?");
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
    expect(await messageBox().inputValue()).toBe("");
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
    await customerSays(app.sandboxUrl, CUSTOMER, "Great, thank you!");
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

  it("looks right: the whole conversation in one screenshot", async () => {
    await page.getByRole("button", { name: "Dismiss" }).click({ timeout: 2_000 }).catch(() => undefined);
    await panel().screenshot({ path: SCREENSHOT });
    expect(pageErrors).toEqual([]);
  });

  it("named the record the panel sits on in every call to the API: session, history, send and upload", () => {
    const routes = new Set(apiRequests.map((r) => `${r.method} ${new URL(r.url).pathname.replace(CUSTOMER, "{customer}")}`));
    expect([...routes].sort()).toEqual([
      "GET /api/conversations/{customer}/messages",
      "GET /api/conversations/{customer}/session",
      "POST /api/conversations/{customer}/messages",
      "POST /api/media",
    ]);
    const unnamed = apiRequests.filter((r) => new URL(r.url).searchParams.get("regarding") !== RECORD);
    expect(unnamed).toEqual([]);
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
