import { describe, expect, it } from "vitest";
import { ApiError } from "../../WhatsAppChat/api/apiError";
import type { TokenSource } from "../../WhatsAppChat/auth/tokenSource";
import { InboxApi } from "../../WhatsAppInbox/api/inboxApi";
import { ADA } from "./inboxFixtures";

function fakeFetch(answers: { status: number; body: unknown }[]) {
  const requests: { url: string; headers: Record<string, string> }[] = [];
  const fetchImpl = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    requests.push({ url: String(input), headers: (init?.headers ?? {}) as Record<string, string> });
    const answer = answers.shift() ?? { status: 500, body: {} };
    return Promise.resolve(new Response(JSON.stringify(answer.body), { status: answer.status, headers: { "Content-Type": "application/json" } }));
  };
  return { requests, fetchImpl: fetchImpl as typeof fetch };
}

const tokens = (): TokenSource & { asked: boolean[] } => {
  const asked: boolean[] = [];
  return { asked, getToken: (options) => (asked.push(options?.forceRefresh ?? false), Promise.resolve(`token-${asked.length}`)) };
};

describe("the inbox's API client", () => {
  it("asks GET /api/conversations with the number, the tab, the limit and `next`, with the agent's token", async () => {
    const { requests, fetchImpl } = fakeFetch([{ status: 200, body: { conversations: [ADA], next: "abc" } }]);
    const api = new InboxApi({ baseUrl: "https://app.azurewebsites.net/", tokens: tokens(), phoneNumberId: "106540352242922", fetchImpl });
    const page = await api.conversations({ state: "waiting", limit: 25, next: "cursor+/=" });
    expect(page).toEqual({ conversations: [ADA], next: "abc" });
    expect(requests[0]?.url).toBe("https://app.azurewebsites.net/api/conversations?phoneNumberId=106540352242922&state=waiting&limit=25&next=cursor%2B%2F%3D");
    expect(requests[0]?.headers.Authorization).toBe("Bearer token-1");
  });

  it("asks for a fresh token once after a 401", async () => {
    const { requests, fetchImpl } = fakeFetch([
      { status: 401, body: { error: { code: "unauthorized", message: "expired" } } },
      { status: 200, body: { conversations: [], next: null } },
    ]);
    const source = tokens();
    await new InboxApi({ baseUrl: "https://app/api", tokens: source, fetchImpl }).conversations({ state: "all", limit: 25 });
    expect(source.asked).toEqual([false, true]);
    expect(requests[1]?.headers.Authorization).toBe("Bearer token-2");
  });

  it("turns the API's error body into an ApiError", async () => {
    const { fetchImpl } = fakeFetch([{ status: 403, body: { error: { code: "not_allowed", message: "This business number is not served here." } } }]);
    const failure = await new InboxApi({ baseUrl: "https://app/api", tokens: tokens(), fetchImpl }).conversations({ state: "all", limit: 25 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure).toMatchObject({ status: 403, code: "not_allowed" });
  });
});
