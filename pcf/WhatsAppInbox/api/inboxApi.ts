import { ApiError, errorFromAnswer } from "../../WhatsAppChat/api/apiError";
import type { TokenSource } from "../../WhatsAppChat/auth/tokenSource";
import type { InboxPage, InboxState } from "./contract";

export interface InboxApiOptions {
  /** The Function App's URL, with or without the `/api` suffix. */
  baseUrl: string;
  tokens: TokenSource;
  /** The business number's id in Meta; the API's default when absent. */
  phoneNumberId?: string;
  fetchImpl?: typeof fetch;
}

const TIMEOUT_MS = 15_000;

/** `https://app.azurewebsites.net` and `https://app.azurewebsites.net/api/` both become `.../api`. */
export function apiRoot(baseUrl: string): string {
  const trimmed = baseUrl.trim().replace(/\/+$/, "");
  return trimmed.endsWith("/api") ? trimmed : `${trimmed}/api`;
}

/** The inbox's one call, with the agent's Entra ID token (the chat panel's sign-in). */
export class InboxApi {
  private readonly root: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: InboxApiOptions) {
    this.root = apiRoot(options.baseUrl);
    this.fetchImpl = options.fetchImpl ?? ((input, init) => fetch(input, init));
  }

  /** The URL of one page: `state`, `limit` and the previous page's `next`. */
  url(page: { state: InboxState; limit: number; next?: string }): string {
    const query = new URLSearchParams();
    if (this.options.phoneNumberId) query.set("phoneNumberId", this.options.phoneNumberId);
    query.set("state", page.state);
    query.set("limit", String(page.limit));
    if (page.next) query.set("next", page.next);
    return `${this.root}/conversations?${query.toString()}`;
  }

  async conversations(page: { state: InboxState; limit: number; next?: string }): Promise<InboxPage> {
    let answer = await this.attempt(page, false);
    // An expired or revoked token: ask for a new one once.
    if (answer.status === 401 && answer.usedToken) answer = await this.attempt(page, true);
    const body = await readJson(answer.response);
    if (!answer.response.ok) throw errorFromAnswer(answer.status, body, answer.response.headers.get("Retry-After"));
    if (!isPage(body)) throw ApiError.client("unexpected_answer", `HTTP ${answer.status}`);
    return body;
  }

  /** Signs the agent in interactively (a popup); call it straight from a click. */
  signIn(): Promise<void> {
    return this.options.tokens.signIn?.() ?? Promise.resolve();
  }

  private async attempt(page: { state: InboxState; limit: number; next?: string }, fresh: boolean): Promise<{ response: Response; status: number; usedToken: boolean }> {
    const token = await this.options.tokens.getToken({ forceRefresh: fresh });
    const headers: Record<string, string> = { Accept: "application/json" };
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
    try {
      const response = await this.fetchImpl(this.url(page), { method: "GET", headers, signal: abort.signal });
      return { response, status: response.status, usedToken: token !== null };
    } catch (error) {
      if (abort.signal.aborted) throw ApiError.client("timeout", `no answer within ${TIMEOUT_MS / 1000} s`);
      throw ApiError.client("network_unreachable", error instanceof Error ? error.message : String(error));
    } finally {
      clearTimeout(timer);
    }
  }
}

function isPage(value: unknown): value is InboxPage {
  return typeof value === "object" && value !== null && Array.isArray((value as { conversations?: unknown }).conversations);
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
