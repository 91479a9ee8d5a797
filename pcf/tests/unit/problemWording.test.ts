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
    // Record-level authorisation (issue 10).
    [403, "not_allowed"],
    [503, "not_configured"],
    [503, "access_check_unavailable"],
    [409, "client_message_id_reused"],
    // Templates (issue 14).
    [409, "marketing_opt_out"],
    [400, "template_not_found"],
    [502, "meta_unavailable"],
  ];

  it.each(apiCodes)("HTTP %i %s has its own wording, never the generic one", (status, code) => {
    for (const activity of ["loading", "polling", "sending", "uploading", "loadingTemplates", "sendingTemplate", "reacting"] as const) {
      const notice = describeProblem(apiError(status, code), activity);
      expect(notice.code).toBe(code);
      expect(notice.title).not.toMatch(/chat service had a problem|refused the request/);
      expect(notice.title).not.toContain(code);
    }
  });

  it("not_allowed gives the API's reason (which of the three it is), is final, and says a refused send sent nothing", () => {
    const reason = "The customer's number +44 7700 900123 is not one of this contact's phone numbers.";
    const loading = describeProblem(apiError(403, "not_allowed", reason), "loading");
    expect(loading).toMatchObject({ intent: "error", title: "You can't use WhatsApp chat on this record." });
    expect(loading.detail).toBe(`${reason} If this looks wrong, ask your administrator.`);
    expect(loading.detail).not.toMatch(/try again|refresh/i);
    expect(describeProblem(apiError(403, "not_allowed", reason), "sending").detail).toContain("Your message wasn't sent.");
    // Without the API's words, the three possible reasons.
    expect(describeProblem(apiError(403, "not_allowed", ""), "loading").detail).toContain("You may not see this record in Dynamics 365");
  });

  it("not_configured says an administrator must finish set-up, and later is fine", () => {
    const notice = describeProblem(apiError(503, "not_configured", "WHATSAPP_ACCESS_TOKEN is not set"), "loading");
    expect(notice).toMatchObject({ intent: "error", title: "WhatsApp chat isn't fully set up yet." });
    expect(notice.detail).toBe("An administrator must finish setting up the chat service. Try again later.");
    expect(notice.detail).not.toContain("WHATSAPP_ACCESS_TOKEN"); // the operator's detail is not the agent's business
    expect(describeProblem(apiError(503, "not_configured"), "sending").detail).toContain("your message is still in the box");
  });

  it("access_check_unavailable is passing: try again, in the words of what the agent was doing", () => {
    const title = "Dynamics 365 couldn't confirm that you may see this record.";
    expect(describeProblem(apiError(503, "access_check_unavailable"), "loading")).toMatchObject({ intent: "warning", title, detail: "This usually passes quickly. Press Refresh in a moment." });
    expect(describeProblem(apiError(503, "access_check_unavailable"), "polling").detail).toBe("This usually passes quickly. The panel keeps trying.");
    expect(describeProblem(apiError(503, "access_check_unavailable"), "sending").detail).toContain("Press Send again in a moment. Nothing was sent");
  });

  it("client_message_id_reused says the earlier attempt is being checked and the changed text goes as a new message", () => {
    const notice = describeProblem(apiError(409, "client_message_id_reused"), "sending");
    expect(notice.title).toBe("An earlier attempt to send this message is still being checked.");
    expect(notice.detail).toContain("press Send to send your changed text as a new message");
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

  describe("templates and reactions", () => {
    it("a customer who opted out of marketing: what to do instead, and that nothing was sent", () => {
      const notice = describeProblem(apiError(409, "marketing_opt_out", "opted out"), "sendingTemplate");
      expect(notice).toMatchObject({ intent: "warning", title: "This customer opted out of marketing messages.", code: "marketing_opt_out" });
      expect(notice.detail).toBe(
        "WhatsApp won't deliver a marketing template to them. Send a utility template instead, or reply when they write to you. Nothing was sent.",
      );
    });

    it("a template no longer approved: choose another", () => {
      expect(describeProblem(apiError(400, "template_not_found", "no APPROVED template x (en)"), "sendingTemplate")).toMatchObject({
        title: "This template can't be used any more.",
        detail: "It may have been paused, disabled or deleted in WhatsApp Manager. Choose another template. Nothing was sent.",
      });
    });

    it("a parameter the API refuses: its words, and that the template and its values are kept (not 'the box')", () => {
      const notice = describeProblem(apiError(400, "invalid_request", "template order_update (en_US): body parameter order_id is missing"), "sendingTemplate");
      expect(notice.title).toBe("Something in this template isn't filled in right.");
      expect(notice.detail).toBe("template order_update (en_US): body parameter order_id is missing. Nothing was sent; what you filled in is kept.");
      expect(describeProblem(apiError(0, "network_unreachable"), "sendingTemplate").detail).toBe(
        "Check your connection and try again. Nothing was sent; the template and what you filled in are kept.",
      );
    });

    it("the templates that cannot load: Meta down, or no WhatsApp Business Account for the number", () => {
      expect(describeProblem(apiError(502, "meta_unavailable"), "loadingTemplates")).toMatchObject({ title: "The templates can't be loaded from WhatsApp right now." });
      expect(describeProblem(apiError(503, "not_configured"), "loadingTemplates")).toMatchObject({ title: "Templates aren't set up for this business number." });
      expect(describeProblem(apiError(0, "network_unreachable"), "loadingTemplates").detail).toBe("Check your connection, then press Try again.");
    });

    it("a reaction outside the window, or on no message of the chat", () => {
      expect(describeProblem(apiError(409, "session_inactive"), "reacting").title).toBe("You can only react within 24 hours of the customer's last message.");
      expect(describeProblem(apiError(400, "invalid_request", "messageId names no message of this conversation"), "reacting")).toMatchObject({
        title: "This message can't be reacted to.",
        detail: "messageId names no message of this conversation",
      });
      expect(describeProblem(apiError(502, "whatsapp_unavailable"), "reacting").detail).toBe("Choose the reaction again in a moment.");
    });
  });
});

describe("an upload WhatsApp can't carry", () => {
  it("is said once, in words an agent understands: no MIME type from the API's message", () => {
    const notice = describeProblem(apiError(415, "unsupported_media_type", "image/gif is not a type WhatsApp accepts (image/jpeg, image/png)."), "uploading");
    const words = `${notice.title} ${notice.detail ?? ""}`;
    expect(words).not.toMatch(/\b(image|application|video|audio|text)\/[a-z0-9.+-]+/i);
    expect(words.match(/JPEG or PNG/g)).toHaveLength(1);
  });
});
