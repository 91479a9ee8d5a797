import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const MANIFEST = readFileSync(path.resolve(__dirname, "../../WhatsAppChat/ControlManifest.Input.xml"), "utf8");

describe("the control's manifest", () => {
  it("names the chat API's domain and Entra ID as the external services it uses", () => {
    const usage = /<external-service-usage enabled="true">([\s\S]*?)<\/external-service-usage>/.exec(MANIFEST)?.[1] ?? "";
    const domains = [...usage.matchAll(/<domain>([^<]+)<\/domain>/g)].map((match) => match[1]);
    expect(domains).toEqual(["azurewebsites.net", "login.microsoftonline.com"]);
  });
});
