/**
 * The inbox control in headless Chromium against the real local app: conversations made through the
 * WhatsApp sandbox show with their records (or "No linked record"), unread badges and windows; the
 * tabs filter; a pick opens the contact or lead form (`context.navigation.openForm`, recorded by the
 * harness) or says there is no record; a new customer message shows by polling; a German user's inbox
 * is German; high contrast. Screenshots: docs/images/inbox.png, inbox-dark.png, inbox-de.png and
 * inbox-high-contrast.png.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildInboxHarness } from "../../harness-inbox/build.mjs";
import { serveInboxHarness } from "../../harness-inbox/serve.mjs";
import { type Chromium, launchChromium } from "./chromium";
import { type LocalApp, startLocalApp } from "./localApp";
import { CONTACT_ID, LEAD_ID, type Seeded, sandboxSays, seedInbox } from "./inboxSeed";
import { englishIn, uiTexts } from "./language";

const OUTPUT = path.resolve(__dirname, "../../test-output");
const DOCS_IMAGES = path.resolve(__dirname, "../../../docs/images");
const DOCS_IMAGE = path.join(DOCS_IMAGES, "inbox.png");

let app: LocalApp;
let harness: Awaited<ReturnType<typeof serveInboxHarness>>;
let browser: Chromium;
let page: Page;
let seeded: Seeded;
const pageErrors: string[] = [];
const inboxRequests: string[] = [];

const inbox = (): Locator => page.getByTestId("whatsapp-inbox");
const row = (customer: string): Locator => inbox().locator(`button[data-customer="${customer}"]`);
const customersShown = (): Promise<string[]> => inbox().locator("button[data-customer]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-customer") ?? ""));
const openedForms = (): Promise<{ entityName: string; entityId: string }[]> => page.evaluate(() => window.openedForms);

async function open(query: string): Promise<void> {
  await page.goto(`${harness.origin}/?api=${encodeURIComponent(app.apiUrl)}&${query}`);
  await inbox().waitFor();
}

beforeAll(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  mkdirSync(path.dirname(DOCS_IMAGE), { recursive: true });
  await buildInboxHarness();
  harness = await serveInboxHarness();
  app = await startLocalApp({ allowedOrigin: harness.origin, logFile: path.join(OUTPUT, "devhost-inbox.log") });
  seeded = await seedInbox(app);
  browser = await launchChromium();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("request", (request) => {
    if (request.url().startsWith(`${app.apiUrl}/conversations?`)) inboxRequests.push(request.url());
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await harness?.close();
}, 60_000);

describe.sequential("an agent works the WhatsApp inbox from a dashboard", () => {
  it("lists every conversation, newest first, with its record, unread badge and window", async () => {
    await open("state=all&poll=5&height=430");
    await row(seeded.newcomer).waitFor();
    expect(await customersShown()).toEqual([seeded.newcomer, seeded.contact, seeded.lead, seeded.old]);

    const contact = row(seeded.contact);
    expect(await contact.getAttribute("data-record")).toBe(`contact:${CONTACT_ID}`);
    expect(await contact.innerText()).toContain("Ada Lovelace");
    // The record's name shows when the mirror's phone lookup linked the conversation (it reads the
    // name) before the agent's reply did (a link from the panel carries none): either may come first.
    expect(await contact.getByTestId("record").innerText()).toMatch(/^Contact(: Ada Lovelace)?$/);
    // Every customer message since an agent's panel last read the chat: a reply reads nothing.
    expect(await contact.getByTestId("unread").innerText()).toBe("3");
    expect(await contact.innerText()).toContain("Can I change the address?");
    expect(await contact.locator("[data-window=open]").innerText()).toBe("Window open");

    const lead = row(seeded.lead);
    expect(await lead.getByTestId("record").innerText()).toMatch(/^Lead(: Grace Hopper)?$/);
    expect(await lead.getByTestId("unread").count()).toBe(0);
    expect(await lead.innerText()).toContain("You: Of course, the quote is on its way.");

    const newcomer = row(seeded.newcomer);
    expect(await newcomer.getByTestId("record").innerText()).toBe("No linked record");
    expect(await newcomer.getByTestId("unread").innerText()).toBe("1");

    const old = row(seeded.old);
    expect(await old.locator("[data-window=closed]").innerText()).toBe("Window closed");
    expect(await old.getByTestId("unread").innerText()).toBe("1");
    // Before yesterday: the date in the user's pattern (the harness's English user writes dd/MM/yyyy).
    expect(await old.locator("time").innerText()).toMatch(/^\d{2}\/\d{2}\/\d{4}$/);
    // What a screen reader hears for a row.
    expect(await contact.getAttribute("aria-label")).toMatch(/^Ada Lovelace, Contact, 3 unread, Window open, Can I change the address\?, /);
    expect(inboxRequests[0]).toContain("state=all");
    await inbox().screenshot({ path: DOCS_IMAGE });
  });

  it("the Waiting tab keeps the conversations with unread messages; Open those inside the window", async () => {
    await inbox().getByRole("tab", { name: "Waiting" }).click();
    await expect.poll(customersShown).toEqual([seeded.newcomer, seeded.contact, seeded.old]);
    expect(inboxRequests.at(-1)).toContain("state=waiting");
    await inbox().getByRole("tab", { name: "Open" }).click();
    await expect.poll(customersShown).toEqual([seeded.newcomer, seeded.contact, seeded.lead]);
    await inbox().getByRole("tab", { name: "All" }).click();
    await expect.poll(customersShown).toEqual([seeded.newcomer, seeded.contact, seeded.lead, seeded.old]);
  });

  it("picking a conversation opens its contact or lead form", async () => {
    await row(seeded.contact).click();
    await expect.poll(openedForms).toEqual([{ entityName: "contact", entityId: CONTACT_ID }]);
    // By keyboard: focus the lead's row and press Enter.
    await row(seeded.lead).focus();
    await page.keyboard.press("Enter");
    await expect.poll(openedForms).toEqual([
      { entityName: "contact", entityId: CONTACT_ID },
      { entityName: "lead", entityId: LEAD_ID },
    ]);
    expect(await inbox().getByTestId("inbox-notice").count()).toBe(0);
  });

  it("a conversation with no linked record says so, and opens nothing", async () => {
    await row(seeded.newcomer).click();
    const notice = inbox().getByTestId("inbox-notice");
    await notice.waitFor();
    expect(await notice.innerText()).toContain("Sam Patel has no linked contact or lead yet");
    expect(await openedForms()).toHaveLength(2);
    await notice.getByRole("button", { name: "Dismiss" }).click();
    await expect.poll(() => notice.count()).toBe(0);
  });

  it("the arrow keys move between conversations", async () => {
    await row(seeded.newcomer).focus();
    await page.keyboard.press("ArrowDown");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-customer"))).toBe(seeded.contact);
    await page.keyboard.press("ArrowDown");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-customer"))).toBe(seeded.lead);
  });

  it("a new customer message shows by itself (polling), the conversation first with its badge up", async () => {
    await sandboxSays(app, seeded.lead, "Grace Hopper", "One more question about the quote");
    await expect.poll(customersShown, { timeout: 20_000 }).toEqual([seeded.lead, seeded.newcomer, seeded.contact, seeded.old]);
    expect(await row(seeded.lead).getByTestId("unread").innerText()).toBe("1");
    expect(await row(seeded.lead).innerText()).toContain("One more question about the quote");
  });

  it("shows in D365's dark theme", async () => {
    await open("state=all&poll=5&height=560&theme=dark");
    await row(seeded.lead).waitFor();
    const background = await inbox().evaluate((element) => getComputedStyle(element).backgroundColor);
    expect(background).not.toBe("rgb(255, 255, 255)");
    await row(seeded.newcomer).click();
    await inbox().getByTestId("inbox-notice").waitFor();
    await inbox().screenshot({ path: path.join(DOCS_IMAGES, "inbox-dark.png") });
    expect(pageErrors).toEqual([]);
  });

  it("for a German user: every word German, times and dates in the German patterns", async () => {
    await open("state=all&poll=5&height=560&lang=de&tzOffset=60");
    await row(seeded.lead).waitFor();
    expect(await inbox().getByRole("tab").allInnerTexts()).toEqual(["Wartend", "Offen", "Alle"]);
    expect(await row(seeded.contact).getByTestId("record").innerText()).toMatch(/^Kontakt(: Ada Lovelace)?$/);
    expect(await row(seeded.old).locator("time").innerText()).toMatch(/^\d{2}\.\d{2}\.\d{4}$/);
    const times = await inbox().locator("time").allInnerTexts();
    expect(times.filter((text) => !/^(jetzt|\d+ Min\.|\d{2}:\d{2}|Gestern|\d{2}\.\d{2}\.\d{4})$/.test(text))).toEqual([]);
    await row(seeded.newcomer).click();
    await inbox().getByTestId("inbox-notice").waitFor();
    expect(await inbox().getByTestId("inbox-notice").innerText()).toContain("hat noch keinen verknüpften Kontakt oder Lead");
    expect(englishIn(await uiTexts(inbox()), "WhatsAppInbox")).toEqual([]);
    await inbox().screenshot({ path: path.join(DOCS_IMAGES, "inbox-de.png") });
  });

  it("in high contrast (the system forces its colours): the high-contrast theme, rows and the keyboard focus visible", async () => {
    await page.emulateMedia({ forcedColors: "active", colorScheme: "dark" });
    try {
      await open("state=all&poll=5&height=560");
      await row(seeded.lead).waitFor();
      expect(await inbox().evaluate((element) => getComputedStyle(element).getPropertyValue("--colorNeutralBackground1").trim())).toBe("#000000");
      // The rows' dividers and the focused row's outline are drawn in the system's colours.
      const [first = "", second = ""] = await customersShown();
      await row(first).focus();
      await page.keyboard.press("ArrowDown");
      const focused = row(second);
      expect(await focused.evaluate((element) => element === document.activeElement)).toBe(true);
      const look = await focused.evaluate((element) => {
        const style = getComputedStyle(element);
        return { outline: `${style.outlineStyle} ${style.outlineWidth}`, outlineColor: style.outlineColor, divider: style.borderBottomStyle, background: style.backgroundColor };
      });
      expect(look.outline).toBe("solid 2px");
      expect(look.outlineColor).not.toBe(look.background);
      expect(look.divider).toBe("solid");
      await inbox().screenshot({ path: path.join(DOCS_IMAGES, "inbox-high-contrast.png") });
      expect(pageErrors).toEqual([]);
    } finally {
      await page.emulateMedia({ forcedColors: "none", colorScheme: null });
    }
  });
});
