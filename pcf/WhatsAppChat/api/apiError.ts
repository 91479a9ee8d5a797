import type { ChatMessage, ErrorBody } from "./contract";

/** Codes the control itself raises when no API answer explains the failure. */
export type ClientProblemCode =
  | "network_unreachable"
  | "timeout"
  | "unexpected_answer"
  | "sign_in_required"
  | "sign_in_failed"
  | "sign_in_popup_blocked"
  | "sign_in_not_configured"
  | "sticker_not_sendable";

/**
 * A request that did not succeed: the API's `{"error": {"code", "message"}}` (or a client-side code),
 * and for a failed send the message as the API stored it (failed, or accepted when the outcome is unknown).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly serverMessage: string,
    readonly storedMessage?: ChatMessage,
    readonly retryAfterSeconds?: number,
  ) {
    super(`${code}: ${serverMessage}`);
    this.name = "ApiError";
  }

  static client(code: ClientProblemCode, detail: string): ApiError {
    return new ApiError(0, code, detail);
  }
}

function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== "object" || value === null || !("error" in value)) return false;
  const error = value.error;
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as { code?: unknown }).code === "string" &&
    typeof (error as { message?: unknown }).message === "string"
  );
}

function retryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/** The ApiError for a non-2xx answer, from its JSON body when it has the documented shape. */
export function errorFromAnswer(status: number, body: unknown, retryAfterHeader: string | null): ApiError {
  if (isErrorBody(body)) {
    // The body carries the wait too: browsers cannot read Retry-After from another origin.
    const inBody = (body.error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    const wait = typeof inBody === "number" && inBody >= 0 ? inBody : retryAfter(retryAfterHeader);
    return new ApiError(status, body.error.code, body.error.message, body.message, wait);
  }
  return new ApiError(status, "unexpected_answer", `HTTP ${status}`, undefined, retryAfter(retryAfterHeader));
}
