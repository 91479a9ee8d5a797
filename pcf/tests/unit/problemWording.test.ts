import { describe, expect, it } from "vitest";
import { ApiError } from "../../WhatsAppChat/api/apiError";
import { describeProblem } from "../../WhatsAppChat/model/problemWording";

const apiError = (status: number, code: string, message = "as the API says it", retryAfter?: number): ApiError =>
  new ApiError(status, code, message, undefined, retryAfter);

describe("API errors in words an agent understands", () => {
  // Every code the API answers to the panel (openapi.json's responses and the README's tables).
  const apiCodes: [number, string][] = [
    [409, "session_inactive"],
    [422, "rejected_by_whatsapp"],
    [429, "rate_limited"],
    [502, "whatsapp_auth_failed"],
    [502, "whatsapp_unavailable"],
    [504, "whatsapp_no_answer"],
    [415, "unsupported_media_type"],
    [413, "file_too_large"],
    [400, "empty_file"],
    [400, "invalid_request"],
    [401, "unauthenticated"],
    [403, "forbidden"],
    [503, "auth_not_configured"],
    [503, "auth_unavailable"],
    [503, "store_unavailable"],
    [404, "not_found"],
  ];

  it.each(apiCodes)("HTTP %i %s has its own wording, never the generic one", (status, code) => {
    const notice = describeProblem(apiError(status, code), "sending");
    expect(notice.code).toBe(code);
    expect(notice.title).not.toMatch(/chat service had a problem|refused the request/);
    expect(notice.title).not.toContain(code);
  });

  it("a closed window repeats the seed's validation message and promises the draft is kept", () => {
    const notice = describeProblem(apiError(409, "session_inactive"), "sending");
    expect(notice.title).toBe("You can only reply within 24 hours of the customer's last message.");
    expect(notice.detail).toContain("Your message is kept");
  });

  it("WhatsApp's refusal carries Meta's reason as the API gave it", () => {
    const notice = describeProblem(apiError(422, "rejected_by_whatsapp", "WhatsApp refused the message (code 131026): Message undeliverable"), "sending");
    expect(notice.title).toBe("WhatsApp refused this message.");
    expect(notice.detail).toBe("WhatsApp refused the message (code 131026): Message undeliverable");
  });

  it("throttling says how long to wait when the API says", () => {
    expect(describeProblem(apiError(429, "rate_limited", "", 60), "sending").detail).toContain("Wait about 60 seconds");
    expect(describeProblem(apiError(429, "rate_limited"), "sending").detail).toContain("Wait a moment");
  });

  it("an unknown outcome tells the agent to check before sending again", () => {
    for (const code of ["whatsapp_no_answer", "timeout"]) {
      const notice = describeProblem(code === "timeout" ? ApiError.client("timeout", "no answer within 60 s") : apiError(504, code), "sending");
      expect(notice.title).toContain("may still arrive");
      expect(notice.detail).toContain("won't send it twice");
    }
  });

  it("failures that sent nothing say the message is still in the box", () => {
    for (const code of ["whatsapp_unavailable", "whatsapp_auth_failed", "rate_limited", "invalid_request"]) {
      expect(describeProblem(apiError(502, code), "sending").detail).toContain("your message is still in the box");
    }
  });

  it("joins the API's message and the advice as sentences", () => {
    const notice = describeProblem(apiError(400, "invalid_request", "mediaUrl: mediaUrl must be an https:// URL that Meta can fetch"), "sending");
    expect(notice.detail).toBe("mediaUrl: mediaUrl must be an https:// URL that Meta can fetch. Nothing was sent, and your message is still in the box.");
  });

  it("an invalid phone number on load says the record's number is the problem", () => {
    const notice = describeProblem(apiError(400, "invalid_request", "customerId: 07700 900123 has no country code"), "loading");
    expect(notice.title).toBe("This record's phone number can't be used for WhatsApp.");
    expect(notice.detail).toBe("customerId: 07700 900123 has no country code");
  });

  it("a network failure, a blocked sign-in popup and an unknown answer are worded too", () => {
    expect(describeProblem(ApiError.client("network_unreachable", "Failed to fetch"), "loading").title).toBe("Can't reach the chat service.");
    expect(describeProblem(ApiError.client("sign_in_popup_blocked", "popup_window_error"), "loading").detail).toContain("Allow pop-ups");
    expect(describeProblem(apiError(500, "unexpected_answer", "HTTP 500"), "loading")).toMatchObject({
      title: "The chat service had a problem.",
      detail: "It answered HTTP 500. Try again in a moment.",
    });
    expect(describeProblem(new TypeError("boom"), "sending").title).toBe("The chat service had a problem.");
  });
});
