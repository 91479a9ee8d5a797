import { describe, expect, it } from "vitest";
import { type RawProperties, readSettings } from "../../WhatsAppChat/host/settings";
import { regardingRecord } from "../../WhatsAppChat/host/recordContext";
import { apiScope } from "../../WhatsAppChat/auth/msalTokenSource";

const none: RawProperties = {
  apiBaseUrl: null,
  apiApplicationId: null,
  clientId: null,
  tenantId: null,
  redirectUri: null,
  businessPhoneNumberId: null,
  pollSeconds: null,
  panelHeight: null,
  devMode: null,
};

describe("the control's properties", () => {
  it("in dev mode talk to make run without sign-in", () => {
    expect(readSettings({ ...none, devMode: "on" })).toEqual({
      settings: { mode: "dev", apiBaseUrl: "http://127.0.0.1:7071/api", phoneNumberId: undefined, pollIntervalMs: 5000, panelHeight: 560 },
    });
  });

  it("otherwise need the API's audience and the control's client id", () => {
    const missing = readSettings({ ...none, apiBaseUrl: "https://wa.azurewebsites.net/api" });
    expect(missing).toMatchObject({ problem: { title: "This chat panel isn't configured yet." } });
    const configured = readSettings({
      ...none,
      apiBaseUrl: "https://wa.azurewebsites.net/api",
      apiApplicationId: "api://whatsapp-api",
      clientId: "11111111-2222-3333-4444-555555555555",
      pollSeconds: 1,
      businessPhoneNumberId: "106540352242922",
    });
    expect(configured).toEqual({
      settings: {
        mode: "signed-in",
        apiBaseUrl: "https://wa.azurewebsites.net/api",
        apiAudience: "api://whatsapp-api",
        clientId: "11111111-2222-3333-4444-555555555555",
        tenant: "organizations",
        redirectUri: undefined,
        phoneNumberId: "106540352242922",
        pollIntervalMs: 2000,
        panelHeight: 560,
      },
    });
  });

  it("take a sign-in redirect URI only on https", () => {
    const signedIn = { ...none, apiBaseUrl: "https://wa.azurewebsites.net/api", apiApplicationId: "api://wa", clientId: "c" };
    expect(readSettings({ ...signedIn, redirectUri: "https://contoso.crm.dynamics.com/WebResources/wa_/blank.html" })).toMatchObject({
      settings: { redirectUri: "https://contoso.crm.dynamics.com/WebResources/wa_/blank.html" },
    });
    expect(readSettings({ ...signedIn, redirectUri: "http://contoso.crm.dynamics.com/" })).toHaveProperty("problem");
  });

  it("refuse a plain-http API outside this machine, and a phone number where Meta's id belongs", () => {
    expect(readSettings({ ...none, devMode: "on", apiBaseUrl: "http://wa.example.com/api" })).toHaveProperty("problem");
    expect(readSettings({ ...none, devMode: "on", apiBaseUrl: "not a url" })).toHaveProperty("problem");
    expect(readSettings({ ...none, devMode: "on", businessPhoneNumberId: "+1 555 000" })).toHaveProperty("problem");
  });

  it("ask for the API's access_as_user scope, from its application id or its URI", () => {
    expect(apiScope("11111111-2222-3333-4444-555555555555")).toBe("api://11111111-2222-3333-4444-555555555555/access_as_user");
    expect(apiScope("api://whatsapp-api/")).toBe("api://whatsapp-api/access_as_user");
  });
});

describe("the form's record", () => {
  it("is a contact or a lead the messages are about", () => {
    expect(regardingRecord({ contextInfo: { entityTypeName: "lead", entityId: "{3F2504E0-4F89-11D3-9A0C-0305E82C3301}" } })).toEqual({
      entity: "lead",
      id: "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
    });
  });

  it("is left out for other tables, new records and hosts that do not say", () => {
    expect(regardingRecord({ contextInfo: { entityTypeName: "account", entityId: "3f2504e0-4f89-11d3-9a0c-0305e82c3301" } })).toBeUndefined();
    expect(regardingRecord({ contextInfo: { entityTypeName: "contact", entityId: "" } })).toBeUndefined();
    expect(regardingRecord({})).toBeUndefined();
    expect(regardingRecord(undefined)).toBeUndefined();
  });
});
