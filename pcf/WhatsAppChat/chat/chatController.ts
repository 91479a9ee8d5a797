import { ApiError } from "../api/apiError";
import type { ChatApi } from "../api/chatApi";
import type { Regarding } from "../api/contract";
import { attemptIdFor, attemptKey, draftProblem, isSendable, newAttemptId, sendCommand, uploadProblem } from "../model/draft";
import { type Activity, describeProblem } from "../model/problemWording";
import { sessionIsBehind } from "../model/sessionWindow";
import { pollMissedMessages } from "../model/polling";
import { type ChatAction, type ChatState, canPoll } from "./chatState";

/** The API calls the panel makes (the real client, or a fake in tests). */
export type ChatService = Pick<ChatApi, "session" | "messages" | "send" | "upload" | "signIn">;

/** The first page and a refresh; older pages load on demand with the same size. */
export const PAGE_SIZE = 30;
/** A poll asks only for the newest few: one small request every few seconds. */
export const POLL_SIZE = 10;

export interface ChatControllerDeps {
  api: ChatService;
  /** The record's phone number, as the form holds it; the API normalises it. */
  customer: string;
  /** The record the panel sits on, named on every call; absent when the host gives none (dev mode). */
  regarding?: Regarding;
  dispatch: (action: ChatAction) => void;
  /** The state as it is now (React's latest render). */
  state: () => ChatState;
  now?: () => Date;
  attemptId?: () => string;
}

/**
 * What the panel does with the API: load, refresh, poll, load older, upload, send. Each call turns
 * the API's answers (or its errors, in the agent's words) into actions for the reducer. A controller
 * belongs to one customer; once stopped, late answers are dropped.
 */
export class ChatController {
  private stopped = false;
  private polling = false;
  private sending = false;
  private readonly now: () => Date;
  private readonly attemptId: () => string;

  constructor(private readonly deps: ChatControllerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.attemptId = deps.attemptId ?? (() => newAttemptId());
  }

  stop(): void {
    this.stopped = true;
  }

  private dispatch(action: ChatAction): void {
    if (!this.stopped) this.deps.dispatch(action);
  }

  /** A 403 `not_allowed` refuses the whole conversation on this record, whatever was asked: true when it was one. */
  private refusedBy(error: unknown, activity: Activity): boolean {
    if (!(error instanceof ApiError && error.code === "not_allowed")) return false;
    this.dispatch({ type: "refused", notice: describeProblem(error, activity) });
    return true;
  }

  /** The first load and the Refresh button: the session and the newest page, together. */
  async load(): Promise<void> {
    this.dispatch({ type: "loadStarted" });
    const { api, customer, regarding } = this.deps;
    try {
      const [session, page] = await Promise.all([api.session(customer, regarding), api.messages(customer, { limit: PAGE_SIZE }, regarding)]);
      this.dispatch({ type: "loaded", session, page, now: this.now() });
    } catch (error) {
      if (!this.refusedBy(error, "loading")) this.dispatch({ type: "loadFailed", notice: describeProblem(error, "loading") });
    }
  }

  /** The Sign in button: a popup (opened within the agent's click), then the chat loads. */
  async signIn(): Promise<void> {
    try {
      await this.deps.api.signIn();
    } catch (error) {
      this.dispatch({ type: "loadFailed", notice: describeProblem(error, "loading") });
      return;
    }
    await this.load();
  }

  /**
   * A background poll: what changed since the last answer (new messages and new ticks) when the API
   * gave a `pollCursor`, else the newest few; the session only when a newer customer message shows up.
   * Never while a load runs, before one worked, or once the API refused the record.
   */
  async poll(): Promise<void> {
    const state = this.deps.state();
    if (this.polling || !canPoll(state)) return;
    this.polling = true;
    const { api, customer, regarding } = this.deps;
    try {
      const cursor = state.pollCursor;
      let page =
        cursor !== undefined
          ? await api.messages(customer, { limit: PAGE_SIZE, changedSince: cursor }, regarding)
          : await api.messages(customer, { limit: POLL_SIZE }, regarding);
      if (cursor === undefined && pollMissedMessages(this.deps.state().timeline, page, POLL_SIZE)) {
        page = await api.messages(customer, { limit: PAGE_SIZE }, regarding);
      }
      const known = this.deps.state();
      const behind = sessionIsBehind(known.session, [...page.messages, ...known.timeline]);
      const session = behind ? await api.session(customer, regarding) : undefined;
      this.dispatch({ type: "polled", page, session, now: this.now() });
    } catch (error) {
      if (!this.refusedBy(error, "polling")) this.dispatch({ type: "pollFailed", notice: describeProblem(error, "polling") });
    } finally {
      this.polling = false;
    }
  }

  async loadOlder(): Promise<void> {
    const cursor = this.deps.state().olderCursor;
    if (cursor === null || this.deps.state().loadingOlder || this.deps.state().refused) return;
    this.dispatch({ type: "olderStarted" });
    try {
      const page = await this.deps.api.messages(this.deps.customer, { limit: PAGE_SIZE, before: cursor }, this.deps.regarding);
      this.dispatch({ type: "olderLoaded", page, now: this.now() });
    } catch (error) {
      if (!this.refusedBy(error, "loading")) this.dispatch({ type: "olderFailed", notice: describeProblem(error, "loading") });
    }
  }

  /** "Upload media file": the answer's URL goes into the media URL box, its kind becomes the send type. */
  async upload(file: File): Promise<void> {
    if (this.deps.state().uploading || this.deps.state().refused) return;
    this.dispatch({ type: "uploadStarted" });
    try {
      const upload = await this.deps.api.upload(file, file.name, this.deps.regarding);
      if (isSendable(upload)) this.dispatch({ type: "uploaded", upload });
      else this.dispatch({ type: "uploadFailed", notice: describeProblem(uploadProblem(upload), "uploading") });
    } catch (error) {
      if (!this.refusedBy(error, "uploading")) this.dispatch({ type: "uploadFailed", notice: describeProblem(error, "uploading") });
    }
  }

  /**
   * Send: one clientMessageId per message; pressing Send again after an unclear failure reuses it,
   * so the API answers the first attempt's result instead of sending twice. Only the very same
   * message reuses it: a changed one (text, attachment, type, customer or record) gets a new id.
   */
  async send(): Promise<void> {
    const { draft, sending, refused } = this.deps.state();
    if (sending || this.sending || refused) return;
    const problem = draftProblem(draft);
    if (problem) {
      this.dispatch({ type: "draftIncomplete", notice: { intent: "warning", title: problem, code: "draft_incomplete" } });
      return;
    }
    const { customer, regarding } = this.deps;
    const attemptFor = attemptKey(draft, customer, regarding);
    const attemptId = attemptIdFor(draft, attemptFor, this.attemptId);
    this.sending = true;
    this.dispatch({ type: "sendStarted", attemptId, attemptFor });
    let checkEarlierAttempt = false;
    try {
      const message = await this.deps.api.send(customer, sendCommand(draft, attemptId, regarding));
      this.dispatch({ type: "sent", message, now: this.now() });
    } catch (error) {
      if (!this.refusedBy(error, "sending")) {
        this.dispatch({ type: "sendFailed", attemptId, error, notice: describeProblem(error, "sending"), now: this.now() });
        checkEarlierAttempt = error instanceof ApiError && error.code === "client_message_id_reused";
      }
    } finally {
      this.sending = false;
    }
    // The id went with another message before: the history shows what became of that one.
    if (checkEarlierAttempt) await this.poll();
  }
}
