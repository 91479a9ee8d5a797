import { describe, expect, it } from "vitest";
import { ApiError } from "../../WhatsAppChat/api/apiError";
import { ChatApi, apiRoot } from "../../WhatsAppChat/api/chatApi";
import type { TokenSource } from "../../WhatsAppChat/auth/tokenSource";
import { noSignIn } from "../../WhatsAppChat/auth/tokenSource";

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A fetch that answers from a list and records what it was asked. */
function fakeFetch(answers: (Response | Error)[]): { fetchImpl: typeof fetch; calls: Call[] } {
  const calls: Call[] = [];
  const fetchImpl = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    calls.push({ url: String(input), method: init?.method ?? "GET", headers: init?.headers as Record<string, string>, body: init?.body });
    const answer = answers.shift();
    if (!answer) throw new Error("no more answers");
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  };
  return { fetchImpl, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });

function tokens(...issued: string[]): TokenSource & { asked: boolean[] } {
  const asked: boolean[] = [];
  return {
    asked,
    getToken: (options) => {
      asked.push(options?.forceRefresh ?? false);
      return Promise.resolve(issued.shift() ?? "spent");
    },
  };
}

describe("the API client", () => {
  it("accepts the base URL with or without /api", () => {
    expect(apiRoot("https://wa.azurewebsites.net")).toBe("https://wa.azurewebsites.net/api");
    expect(apiRoot("https://wa.azurewebsites.net/api/")).toBe("https://wa.azurewebsites.net/api");
    expect(apiRoot(" http://127.0.0.1:7071/api ")).toBe("http://127.0.0.1:7071/api");
  });

  it("asks for the session and a page of history for the record's phone, as typed on the form", async () => {
    const { fetchImpl, calls } = fakeFetch([
      json(200, { active: false, expiresAt: null, lastInboundAt: null }),
      json(200, { messages: [], next: null }),
    ]);
    const api = new ChatApi({ baseUrl: "http://127.0.0.1:7071", tokens: noSignIn, fetchImpl, phoneNumberId: "106540352242922" });
    await api.session("+44 7700 900123");
    await api.messages("+44 7700 900123", { limit: 10, before: "cursor/1" });
    expect(calls.map((c) => c.url)).toEqual([
      "http://127.0.0.1:7071/api/conversations/%2B44%207700%20900123/session?phoneNumberId=106540352242922",
      "http://127.0.0.1:7071/api/conversations/%2B44%207700%20900123/messages?phoneNumberId=106540352242922&limit=10&before=cursor%2F1",
    ]);
  });

  describe("names the record the panel sits on", () => {
    const contact = { entity: "contact", id: "1b0c7d0e-5f2a-4c51-9f0e-6a3e2f1d2c11" } as const;
    const stored = { id: "pcf-1", direction: "outbound", status: "accepted" };

    /** The four agent routes, as the panel calls them, with or without a record. */
    async function allFour(regarding?: typeof contact | { entity: "lead"; id: string }): Promise<Call[]> {
      const { fetchImpl, calls } = fakeFetch([
        json(200, { active: true, expiresAt: null, lastInboundAt: null }),
        json(200, { messages: [], next: null }),
        json(202, stored),
        json(201, { mediaUrl: "u", kind: "image" }),
      ]);
      const api = new ChatApi({ baseUrl: "https://wa.example.com/api", tokens: noSignIn, fetchImpl, phoneNumberId: "106540352242922" });
      await api.session("15551234567", regarding);
      await api.messages("15551234567", { limit: 10, changedSince: "1700000000" }, regarding);
      await api.send("15551234567", { type: "text", text: "Hi", clientMessageId: "pcf-1", ...(regarding ? { regarding } : {}) });
      await api.upload(new Blob(["png"]), "photo.png", regarding);
      return calls;
    }

    it("puts regarding=contact:<id> on all four calls, and the same record in Send's body", async () => {
      const calls = await allFour(contact);
      expect(calls.map((c) => `${c.method} ${new URL(c.url).pathname}`)).toEqual([
        "GET /api/conversations/15551234567/session",
        "GET /api/conversations/15551234567/messages",
        "POST /api/conversations/15551234567/messages",
        "POST /api/media",
      ]);
      for (const call of calls) {
        expect(new URL(call.url).searchParams.getAll("regarding")).toEqual(["contact:1b0c7d0e-5f2a-4c51-9f0e-6a3e2f1d2c11"]);
        expect(call.url).toContain("regarding=contact:1b0c7d0e-5f2a-4c51-9f0e-6a3e2f1d2c11"); // as the API documents it
      }
      expect(JSON.parse(calls[2]?.body as string)).toMatchObject({ regarding: contact });
      // The other parameters are still there.
      expect(calls[1]?.url).toBe(
        "https://wa.example.com/api/conversations/15551234567/messages?phoneNumberId=106540352242922&regarding=contact:1b0c7d0e-5f2a-4c51-9f0e-6a3e2f1d2c11&limit=10&changedSince=1700000000",
      );
    });

    it("writes a lead as lead:<id>, its GUID in lower case", async () => {
      const calls = await allFour({ entity: "lead", id: "3F2504E0-4F89-11D3-9A0C-0305E82C3301" });
      for (const call of calls) expect(new URL(call.url).searchParams.get("regarding")).toBe("lead:3f2504e0-4f89-11d3-9a0c-0305e82c3301");
    });

    it("leaves regarding out when the panel has no record", async () => {
      const calls = await allFour(undefined);
      expect(calls).toHaveLength(4);
      for (const call of calls) expect(call.url).not.toContain("regarding");
      expect(JSON.parse(calls[2]?.body as string)).not.toHaveProperty("regarding");
    });
  });

  it("turns 403 not_allowed into its code and the API's reason", async () => {
    const { fetchImpl } = fakeFetch([json(403, { error: { code: "not_allowed", message: "You don't have access to this contact in Dynamics 365." } })]);
    await expect(new ChatApi({ baseUrl: "https://wa.example.com", tokens: noSignIn, fetchImpl }).session("1")).rejects.toMatchObject({
      status: 403,
      code: "not_allowed",
      serverMessage: "You don't have access to this contact in Dynamics 365.",
    });
  });

  it("sends no Authorization header in dev mode", async () => {
    const { fetchImpl, calls } = fakeFetch([json(200, { active: true, expiresAt: null, lastInboundAt: null })]);
    await new ChatApi({ baseUrl: "http://127.0.0.1:7071/api", tokens: noSignIn, fetchImpl }).session("15551234567");
    expect(calls[0]?.headers.Authorization).toBeUndefined();
  });

  it("posts Send as JSON with the agent's bearer token", async () => {
    const stored = { id: "pcf-1", direction: "outbound", status: "accepted" };
    const { fetchImpl, calls } = fakeFetch([json(202, stored)]);
    const api = new ChatApi({ baseUrl: "https://wa.example.com/api", tokens: tokens("token-1"), fetchImpl });
    await expect(api.send("15551234567", { type: "text", text: "Hi", clientMessageId: "pcf-1" })).resolves.toEqual(stored);
    expect(calls[0]).toMatchObject({
      url: "https://wa.example.com/api/conversations/15551234567/messages",
      method: "POST",
      headers: { Authorization: "Bearer token-1", "Content-Type": "application/json" },
      body: JSON.stringify({ type: "text", text: "Hi", clientMessageId: "pcf-1" }),
    });
  });

  it("uploads a file as multipart form data in the field `file`", async () => {
    const { fetchImpl, calls } = fakeFetch([json(201, { mediaUrl: "u", kind: "image" })]);
    await new ChatApi({ baseUrl: "https://wa.example.com", tokens: noSignIn, fetchImpl }).upload(new Blob(["png"]), "photo.png");
    expect(calls[0]?.url).toBe("https://wa.example.com/api/media");
    const form = calls[0]?.body as FormData;
    expect((form.get("file") as File).name).toBe("photo.png");
    expect(calls[0]?.headers["Content-Type"]).toBeUndefined(); // the browser sets the multipart boundary
  });

  it("turns an error answer into its code, message, Retry-After and the stored message", async () => {
    const failed = { id: "pcf-1", status: "failed" };
    const { fetchImpl } = fakeFetch([
      json(429, { error: { code: "rate_limited", message: "WhatsApp is rate limiting sends" }, message: failed }, { "Retry-After": "5" }),
    ]);
    const error = await new ChatApi({ baseUrl: "https://wa.example.com", tokens: noSignIn, fetchImpl })
      .send("15551234567", { type: "text", text: "Hi" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 429, code: "rate_limited", serverMessage: "WhatsApp is rate limiting sends", retryAfterSeconds: 5, storedMessage: failed });
  });

  it("reads the wait from the error body, since browsers cannot see Retry-After across origins", async () => {
    const { fetchImpl } = fakeFetch([
      json(429, { error: { code: "rate_limited", message: "slow down", retryAfterSeconds: 60 }, message: { id: "x" } }),
    ]);
    const error = await new ChatApi({ baseUrl: "https://wa.example.com", tokens: noSignIn, fetchImpl })
      .send("15551234567", { type: "text", text: "Hi" })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "rate_limited", retryAfterSeconds: 60 });
  });

  it("reports an answer without the documented error body by its status", async () => {
    const { fetchImpl } = fakeFetch([new Response("<html>Bad gateway</html>", { status: 502 })]);
    await expect(new ChatApi({ baseUrl: "https://wa.example.com", tokens: noSignIn, fetchImpl }).session("1")).rejects.toMatchObject({
      status: 502,
      code: "unexpected_answer",
    });
  });

  it("reports a network failure (or a CORS refusal) as unreachable", async () => {
    const { fetchImpl } = fakeFetch([new TypeError("Failed to fetch")]);
    await expect(new ChatApi({ baseUrl: "https://wa.example.com", tokens: noSignIn, fetchImpl }).session("1")).rejects.toMatchObject({
      code: "network_unreachable",
    });
  });

  it("asks for a fresh token once when the API refuses the token", async () => {
    const source = tokens("expired", "fresh");
    const { fetchImpl, calls } = fakeFetch([
      json(401, { error: { code: "unauthenticated", message: "expired" } }),
      json(200, { active: true, expiresAt: null, lastInboundAt: null }),
    ]);
    await new ChatApi({ baseUrl: "https://wa.example.com", tokens: source, fetchImpl }).session("1");
    expect(source.asked).toEqual([false, true]);
    expect(calls.map((c) => c.headers.Authorization)).toEqual(["Bearer expired", "Bearer fresh"]);
  });

  describe("templates, reactions, read receipts and typing", () => {
    const contact = { entity: "contact", id: "1b0c7d0e-5f2a-4c51-9f0e-6a3e2f1d2c11" } as const;
    const api = (answers: Response[]) => {
      const { fetchImpl, calls } = fakeFetch(answers);
      return { client: new ChatApi({ baseUrl: "https://wa.example.com/api", tokens: noSignIn, fetchImpl, phoneNumberId: "106540352242922" }), calls };
    };

    it("asks for the business number's templates, naming the record", async () => {
      const template = { name: "order_update", language: "en_US" };
      const { client, calls } = api([json(200, { templates: [template] })]);
      await expect(client.templates(contact)).resolves.toEqual([template]);
      expect(calls[0]).toMatchObject({
        method: "GET",
        url: "https://wa.example.com/api/templates?phoneNumberId=106540352242922&regarding=contact:1b0c7d0e-5f2a-4c51-9f0e-6a3e2f1d2c11",
      });
    });

    it("words Meta's failure to list the templates by its code", async () => {
      const { client } = api([json(502, { error: { code: "meta_unavailable", message: "Meta did not answer" } })]);
      await expect(client.templates()).rejects.toMatchObject({ status: 502, code: "meta_unavailable" });
    });

    it("sends a template and a reaction through Send, and reads a wrapped answer as the message", async () => {
      const stored = { id: "tpl-1", kind: "template", text: "Hi Ada", template: { name: "order_update", language: "en_US", category: "UTILITY" } };
      const { client, calls } = api([json(202, { message: stored }), json(202, { id: "r-1", kind: "reaction" })]);
      const template = { name: "order_update", language: "en_US", parameters: { body: { first_name: "Ada" } } };
      await expect(client.send("15551234567", { type: "template", template, clientMessageId: "c-1", regarding: contact })).resolves.toEqual(stored);
      await client.send("15551234567", { type: "reaction", reaction: { messageId: "m-1", emoji: "👍" }, clientMessageId: "r-1", regarding: contact });
      expect(calls.map((call) => `${call.method} ${new URL(call.url).pathname}`)).toEqual([
        "POST /api/conversations/15551234567/messages",
        "POST /api/conversations/15551234567/messages",
      ]);
      expect(JSON.parse(calls[0]?.body as string)).toEqual({ type: "template", template, clientMessageId: "c-1", regarding: contact });
      expect(JSON.parse(calls[1]?.body as string)).toEqual({ type: "reaction", reaction: { messageId: "m-1", emoji: "👍" }, clientMessageId: "r-1", regarding: contact });
    });

    it("posts read and typing for the conversation, naming the record", async () => {
      const { client, calls } = api([json(200, { sent: true, messageId: "m-9", agentReadAt: "2026-03-02T12:00:00Z" }), json(202, { sent: false })]);
      await expect(client.read("15551234567", contact)).resolves.toEqual({ sent: true, messageId: "m-9", agentReadAt: "2026-03-02T12:00:00Z" });
      await expect(client.typing("15551234567", contact)).resolves.toEqual({ sent: false });
      expect(calls.map((call) => [call.method, call.url])).toEqual([
        ["POST", "https://wa.example.com/api/conversations/15551234567/read?phoneNumberId=106540352242922&regarding=contact:1b0c7d0e-5f2a-4c51-9f0e-6a3e2f1d2c11"],
        ["POST", "https://wa.example.com/api/conversations/15551234567/typing?phoneNumberId=106540352242922&regarding=contact:1b0c7d0e-5f2a-4c51-9f0e-6a3e2f1d2c11"],
      ]);
    });
  });
});
