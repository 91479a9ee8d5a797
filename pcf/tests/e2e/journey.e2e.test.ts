/**
 * The seed's journey in headless Chromium, against the real local app (`make run`'s stack): an agent
 * opens the chat for a customer who never wrote, the customer writes, the agent replies, attaches a
 * photo, and sees it all delivered and read.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Locator, Page } from "playwright-core";
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

let app: LocalApp;
let harness: Awaited<ReturnType<typeof serveHarness>>;
let browser: Chromium;
let page: Page;
const pageErrors: string[] = [];

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
});
