import { BrowserAuthError, InteractionRequiredAuthError } from "@azure/msal-browser";
import { describe, expect, it } from "vitest";
import { popupFailure, silentFailure } from "../../WhatsAppChat/auth/msalTokenSource";
import { describeProblem } from "../../WhatsAppChat/model/problemWording";

describe("signing the agent in", () => {
  it("asks the agent to sign in when the silent sign-in needs them", () => {
    const consent = silentFailure(new InteractionRequiredAuthError("consent_required", "AADSTS65001: consent required"));
    expect(consent.code).toBe("sign_in_required");
    const noSession = silentFailure(new BrowserAuthError("monitor_window_timeout"));
    expect(noSession.code).toBe("sign_in_required");
    expect(describeProblem(consent, "loading")).toMatchObject({ title: "Sign in to use WhatsApp chat.", action: "sign_in" });
  });

  it("reports a sign-in that is broken, not merely interactive", () => {
    const broken = silentFailure(new Error("AADSTS700016: application not found in the directory"));
    expect(broken.code).toBe("sign_in_failed");
    expect(describeProblem(broken, "loading").detail).toContain("AADSTS700016");
  });

  it("says the popup was blocked, or offers Sign in again when the agent closed it", () => {
    expect(popupFailure(new BrowserAuthError("popup_window_error")).code).toBe("sign_in_popup_blocked");
    expect(popupFailure(new BrowserAuthError("user_cancelled")).code).toBe("sign_in_required");
  });
});
