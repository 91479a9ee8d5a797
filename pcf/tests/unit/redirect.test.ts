import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { BLANK_REDIRECT_PATH, defaultRedirectUri } from "../../WhatsAppChat/auth/redirect";

const solution = resolve(__dirname, "../../solution/src");

describe("the sign-in redirect", () => {
  it("is the blank page on the D365 address, not the app itself", () => {
    expect(defaultRedirectUri("https://contoso.crm.dynamics.com")).toBe(
      "https://contoso.crm.dynamics.com/WebResources/wa_/auth/blank.html",
    );
    expect(defaultRedirectUri("https://contoso.crm.dynamics.com/")).toBe(
      "https://contoso.crm.dynamics.com/WebResources/wa_/auth/blank.html",
    );
  });

  it("is a page the solution ships, by the name the controls use", () => {
    const name = BLANK_REDIRECT_PATH.replace("/WebResources/", "");
    const page = readFileSync(resolve(solution, "WebResources", name), "utf8");
    expect(page).toContain("<body></body>");
    const data = readFileSync(resolve(solution, "WebResources", `${name}.data.xml`), "utf8");
    expect(data).toContain(`<Name>${name}</Name>`);
    expect(data).toContain(`<FileName>${BLANK_REDIRECT_PATH}</FileName>`);
    const manifest = readFileSync(resolve(solution, "Other", "Solution.xml"), "utf8");
    expect(manifest).toContain(`<RootComponent type="61" schemaName="${name}" behavior="0" />`);
  });
});
