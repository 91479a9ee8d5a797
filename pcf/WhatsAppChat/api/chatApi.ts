import { ApiError, errorFromAnswer } from "./apiError";
import type {
  ChatMessage,
  MessageTemplate,
  MessagesPage,
  ReadAnswer,
  Regarding,
  SendMessageCommand,
  SessionStatus,
  TemplatesAnswer,
  TypingAnswer,
  UploadResult,
} from "./contract";
import type { TokenSource } from "../auth/tokenSource";

export interface ChatApiOptions {
  /** The Function App's URL, with or without the `/api` suffix. */
  baseUrl: string;
  tokens: TokenSource;
  /** The business number's id in Meta; the API's default when absent. */
  phoneNumberId?: string;
  fetchImpl?: typeof fetch;
}

const READ_TIMEOUT_MS = 15_000;
// The API retries Meta's throttling and outages before it answers, so a send may take a while.
const SEND_TIMEOUT_MS = 60_000;
const UPLOAD_TIMEOUT_MS = 120_000;

/** `https://app.azurewebsites.net` and `https://app.azurewebsites.net/api/` both become `.../api`. */
export function apiRoot(baseUrl: string): string {
  const trimmed = baseUrl.trim().replace(/\/+$/, "");
  return trimmed.endsWith("/api") ? trimmed : `${trimmed}/api`;
}

/** The record the panel sits on, as the API's `regarding` parameter: `contact:<guid>` or `lead:<guid>`. */
export function regardingParameter(regarding: Regarding | undefined): string | undefined {
  return regarding ? `${regarding.entity}:${regarding.id.toLowerCase()}` : undefined;
}

interface RequestPlan {
  method: "GET" | "POST";
  path: string;
  /** Every agent route takes it; the API checks the agent may see this record (absent without a record). */
  regarding: Regarding | undefined;
  query?: Record<string, string | undefined>;
  body?: BodyInit;
  contentType?: string;
  timeoutMs: number;
}

/** Send answers the message as stored; an answer that wraps it (`{"message": …}`) is read the same. */
function storedMessage(answer: ChatMessage | { message: ChatMessage }): ChatMessage {
  return "message" in answer && typeof answer.message === "object" && answer.message !== null && !("id" in answer) ? answer.message : (answer as ChatMessage);
}

/**
 * The chat panel's calls to the HTTP API: session, history, send, upload, the business number's
 * approved templates, read receipts and the typing indicator. Each carries `regarding`,
 * the record the panel sits on, so the API can check the agent may see it (and the number is its).
 */
export class ChatApi {
  private readonly root: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: ChatApiOptions) {
    this.root = apiRoot(options.baseUrl);
    this.fetchImpl = options.fetchImpl ?? ((input, init) => fetch(input, init));
  }

  session(customer: string, regarding?: Regarding): Promise<SessionStatus> {
    return this.request<SessionStatus>({ method: "GET", path: this.conversation(customer, "session"), regarding, timeoutMs: READ_TIMEOUT_MS });
  }

  /** A page of history, newest first; `before` is the previous page's `next`; `changedSince` a
   * `pollCursor`, for only what was written or changed since. */
  messages(customer: string, page: { limit: number; before?: string; changedSince?: string }, regarding?: Regarding): Promise<MessagesPage> {
    return this.request<MessagesPage>({
      method: "GET",
      path: this.conversation(customer, "messages"),
      regarding,
      query: { limit: String(page.limit), before: page.before, changedSince: page.changedSince },
      timeoutMs: READ_TIMEOUT_MS,
    });
  }

  /** The record goes in the query from the body's `regarding`, so the two are always the same. A
   * template (`type: "template"`) or a reaction (`type: "reaction"`) goes the same way as a message. */
  async send(customer: string, command: SendMessageCommand): Promise<ChatMessage> {
    const answer = await this.request<ChatMessage | { message: ChatMessage }>({
      method: "POST",
      path: this.conversation(customer, "messages"),
      regarding: command.regarding,
      body: JSON.stringify(command),
      contentType: "application/json",
      timeoutMs: SEND_TIMEOUT_MS,
    });
    return storedMessage(answer);
  }

  /** The business number's approved templates, sorted by name then language. */
  async templates(regarding?: Regarding): Promise<MessageTemplate[]> {
    const answer = await this.request<TemplatesAnswer>({ method: "GET", path: "/templates", regarding, timeoutMs: READ_TIMEOUT_MS });
    return Array.isArray(answer.templates) ? answer.templates : [];
  }

  /** Marks the customer's newest message read at WhatsApp (the customer sees blue ticks); a second call with nothing newer sends nothing. */
  read(customer: string, regarding?: Regarding): Promise<ReadAnswer> {
    return this.request<ReadAnswer>({ method: "POST", path: this.conversation(customer, "read"), regarding, timeoutMs: READ_TIMEOUT_MS });
  }

  /** Shows the customer "typing…" (WhatsApp keeps it up to 25 s, or until the reply arrives). */
  typing(customer: string, regarding?: Regarding): Promise<TypingAnswer> {
    return this.request<TypingAnswer>({ method: "POST", path: this.conversation(customer, "typing"), regarding, timeoutMs: READ_TIMEOUT_MS });
  }

  /** Signs the agent in interactively (a popup); call it straight from a click. */
  signIn(): Promise<void> {
    return this.options.tokens.signIn?.() ?? Promise.resolve();
  }

  /** A multipart upload (field `file`), as a browser form sends it. */
  upload(file: Blob, filename: string, regarding?: Regarding): Promise<UploadResult> {
    const form = new FormData();
    form.append("file", file, filename);
    return this.request<UploadResult>({ method: "POST", path: "/media", regarding, body: form, timeoutMs: UPLOAD_TIMEOUT_MS });
  }

  private conversation(customer: string, leaf: "session" | "messages" | "read" | "typing"): string {
    return `/conversations/${encodeURIComponent(customer)}/${leaf}`;
  }

  private url(plan: RequestPlan): string {
    const query = new URLSearchParams();
    // The business number: a conversation's, and whose templates.
    const aboutNumber = plan.path.startsWith("/conversations/") || plan.path === "/templates";
    const number = aboutNumber ? { phoneNumberId: this.options.phoneNumberId } : {};
    const all = { ...number, regarding: regardingParameter(plan.regarding), ...plan.query };
    for (const [name, value] of Object.entries(all)) {
      if (value !== undefined && value !== "") query.set(name, value);
    }
    // `regarding=contact:<guid>` as the API documents it: a colon needs no escaping in a query.
    const search = query.toString().replace(/%3A/gi, ":");
    return `${this.root}${plan.path}${search ? `?${search}` : ""}`;
  }

  private async request<T>(plan: RequestPlan): Promise<T> {
    const first = await this.attempt(plan, false);
    // An expired or revoked token: ask for a new one once. The API refuses before doing anything, so
    // even a send is safe to repeat.
    const answer = first.status === 401 && first.usedToken ? await this.attempt(plan, true) : first;
    const body = await readJson(answer.response);
    if (!answer.response.ok) {
      throw errorFromAnswer(answer.status, body, answer.response.headers.get("Retry-After"));
    }
    if (body === undefined) {
      throw ApiError.client("unexpected_answer", `HTTP ${answer.status} without a JSON body`);
    }
    return body as T;
  }

  private async attempt(plan: RequestPlan, freshToken: boolean): Promise<{ response: Response; status: number; usedToken: boolean }> {
    const token = await this.options.tokens.getToken({ forceRefresh: freshToken });
    const headers: Record<string, string> = { Accept: "application/json" };
    if (plan.contentType) headers["Content-Type"] = plan.contentType;
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), plan.timeoutMs);
    try {
      const response = await this.fetchImpl(this.url(plan), { method: plan.method, headers, body: plan.body, signal: abort.signal });
      return { response, status: response.status, usedToken: token !== null };
    } catch (error) {
      if (abort.signal.aborted) {
        throw ApiError.client("timeout", `no answer within ${Math.round(plan.timeoutMs / 1000)} s`);
      }
      throw ApiError.client("network_unreachable", error instanceof Error ? error.message : String(error));
    } finally {
      clearTimeout(timer);
    }
  }
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
