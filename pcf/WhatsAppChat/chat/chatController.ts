import { ApiError } from "../api/apiError";
import type { ChatApi } from "../api/chatApi";
import type { Regarding, UploadKind } from "../api/contract";
import { attemptIdFor, attemptKey, draftProblem, isSendable, newAttemptId, sendCommand, uploadProblem } from "../model/draft";
import { type Activity, type AgentNotice, describeProblem } from "../model/problemWording";
import { canReactTo, reactionToSend } from "../model/reactions";
import { typingDue, unreadInbound } from "../model/readReceipts";
import { canReply, replyWindow, sessionIsBehind } from "../model/sessionWindow";
import { CATCH_UP_PAGES, pollDelay, pollMissedMessages } from "../model/polling";
import { type RecordFacts, findTemplate, missingFields, prefillValues, templateCommand, templateFields } from "../model/templates";
import { type StringKey, localize } from "../strings/strings";
import { type ChatAction, type ChatState, canPoll } from "./chatState";

/** The API calls the panel makes (the real client, or a fake in tests). */
export type ChatService = Pick<ChatApi, "session" | "messages" | "send" | "upload" | "signIn" | "templates" | "read" | "typing">;

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
  /** What the form's record says about the customer (its first name), for prefilling a template. */
  recordFacts?: () => RecordFacts | undefined;
}

const MEDIA_WORD: Record<UploadKind, StringKey> = {
  image: "Template_MediaFile_image",
  video: "Template_MediaFile_video",
  document: "Template_MediaFile_document",
  audio: "Template_MediaFile_audio",
  sticker: "Template_MediaFile_sticker",
};

/**
 * What the panel does with the API: load, refresh, poll, load older, upload, send. Each call turns
 * the API's answers (or its errors, in the agent's words) into actions for the reducer. A controller
 * belongs to one customer; once stopped, late answers are dropped.
 */
export class ChatController {
  private stopped = false;
  private polling = false;
  private sending = false;
  private sendingTemplate = false;
  private loadingTemplates = false;
  /** The customer message a read receipt was asked for: at most one per message. */
  private readFor: string | undefined;
  /** When the last typing indicator was asked for (ms): at most one per 20 s. */
  private typingAt: number | undefined;
  /** When something last happened (ms): a change in the chat, the agent typing or sending, the panel shown. */
  private activeAt: number;
  private readonly now: () => Date;
  private readonly attemptId: () => string;

  constructor(private readonly deps: ChatControllerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.attemptId = deps.attemptId ?? (() => newAttemptId());
    this.activeAt = this.now().getTime();
  }

  /** Something happened (the agent typed, sent, came back to the panel): poll at the quick pace again. */
  markActive(): void {
    this.activeAt = this.now().getTime();
  }

  /** The wait before the next poll, given the configured interval: slower once nothing happens. */
  nextPollDelay(intervalMs: number): number {
    return pollDelay(intervalMs, this.now().getTime() - this.activeAt);
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
      // A poll's `next`: more changes wait than the answer held; ask again at once from there.
      const pages = [page];
      while (cursor !== undefined && page.next && pages.length < CATCH_UP_PAGES && !this.stopped) {
        page = await api.messages(customer, { limit: PAGE_SIZE, changedSince: page.next }, regarding);
        pages.push(page);
      }
      const arrived = pages.flatMap((each) => each.messages);
      if (arrived.length > 0) this.markActive();
      const known = this.deps.state();
      const behind = sessionIsBehind(known.session, [...arrived, ...known.timeline]);
      const session = behind ? await api.session(customer, regarding) : undefined;
      // Oldest answer first, so a later change of the same message wins.
      pages.forEach((each, index) => this.dispatch({ type: "polled", page: each, session: index === pages.length - 1 ? session : undefined, now: this.now() }));
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
    this.markActive();
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

  // Templates: allowed whether the 24-hour window is open or closed.

  /** "Send a template": the picker opens; the business number's templates load the first time. */
  async openTemplates(): Promise<void> {
    if (this.deps.state().refused) return;
    this.dispatch({ type: "templatesOpened" });
    const { picker } = this.deps.state();
    if (picker.templates === undefined || picker.loadProblem) await this.loadTemplates();
  }

  closeTemplates(): void {
    this.dispatch({ type: "templatesClosed" });
  }

  async loadTemplates(): Promise<void> {
    if (this.loadingTemplates || this.deps.state().refused) return;
    this.loadingTemplates = true;
    this.dispatch({ type: "templatesLoading" });
    try {
      const templates = await this.deps.api.templates(this.deps.regarding);
      this.dispatch({ type: "templatesLoaded", templates });
    } catch (error) {
      if (!this.refusedBy(error, "loadingTemplates")) this.dispatch({ type: "templatesFailed", notice: describeProblem(error, "loadingTemplates") });
    } finally {
      this.loadingTemplates = false;
    }
  }

  /** A template from the list: its fields, with what the record knows (the first name) filled in. */
  chooseTemplate(key: string): void {
    const template = findTemplate(this.deps.state().picker.templates, key);
    if (!template) return;
    const { values, prefilled } = prefillValues(template, this.deps.recordFacts?.());
    this.dispatch({ type: "templateChosen", key, values, prefilled });
  }

  /** A media header's file, through the same upload as the composer's; it must be what the header takes. */
  async uploadTemplateMedia(key: string, file: File): Promise<void> {
    const { picker, refused } = this.deps.state();
    const template = findTemplate(picker.templates, picker.chosen);
    const field = template ? templateFields(template).find((candidate) => candidate.key === key) : undefined;
    if (picker.uploading || refused || !field?.media) return;
    this.dispatch({ type: "templateMediaStarted" });
    try {
      const upload = await this.deps.api.upload(file, file.name, this.deps.regarding);
      if (upload.kind === field.media) {
        this.dispatch({ type: "templateMediaUploaded", key, upload });
      } else {
        const notice: AgentNotice = {
          intent: "error",
          title: localize("Template_WrongFile", localize(MEDIA_WORD[field.media]), upload.filename, localize(MEDIA_WORD[upload.kind])),
          detail: localize("Template_WrongFileDetail"),
          code: "wrong_header_file",
        };
        this.dispatch({ type: "templateMediaFailed", notice });
      }
    } catch (error) {
      if (!this.refusedBy(error, "uploading")) this.dispatch({ type: "templateMediaFailed", notice: describeProblem(error, "uploading") });
    }
  }

  /**
   * Send template: the chosen template with every field filled in. As with a message, pressing it again
   * after an unclear failure reuses the clientMessageId, and only for the very same template and values.
   */
  async sendTemplate(): Promise<void> {
    const { picker, refused } = this.deps.state();
    const template = findTemplate(picker.templates, picker.chosen);
    if (!template || picker.sending || this.sendingTemplate || refused || missingFields(template, picker.values).length > 0) return;
    const { customer, regarding } = this.deps;
    const attemptFor = JSON.stringify({ customer, body: templateCommand(template, picker.values, "", regarding) });
    const attemptId = picker.attemptId !== undefined && picker.attemptFor === attemptFor ? picker.attemptId : this.attemptId();
    this.sendingTemplate = true;
    this.dispatch({ type: "templateSendStarted", attemptId, attemptFor });
    let checkEarlierAttempt = false;
    try {
      const message = await this.deps.api.send(customer, templateCommand(template, picker.values, attemptId, regarding));
      this.dispatch({ type: "templateSent", message, now: this.now() });
    } catch (error) {
      if (!this.refusedBy(error, "sendingTemplate")) {
        this.dispatch({ type: "templateSendFailed", attemptId, error, notice: describeProblem(error, "sendingTemplate"), now: this.now() });
        checkEarlierAttempt = error instanceof ApiError && error.code === "client_message_id_reused";
      }
    } finally {
      this.sendingTemplate = false;
    }
    if (checkEarlierAttempt) await this.poll();
  }

  // Reactions, read receipts, typing.

  /**
   * The agent's reaction to a customer's message: the chosen emoji, or none when it is already theirs.
   * Shown on the bubble at once; put back as it was if the API refuses it.
   */
  async react(messageId: string, emoji: string): Promise<void> {
    const state = this.deps.state();
    const target = state.timeline.find((message) => message.id === messageId);
    if (state.refused || state.reactingTo !== undefined || !target || !canReactTo(target)) return;
    const chosen = reactionToSend(target, emoji);
    this.dispatch({ type: "reactionStarted", messageId, emoji: chosen, now: this.now() });
    const { customer, regarding } = this.deps;
    try {
      const answer = await this.deps.api.send(customer, {
        type: "reaction",
        reaction: { messageId: target.id, emoji: chosen },
        clientMessageId: this.attemptId(),
        ...(regarding ? { regarding } : {}),
      });
      this.dispatch({ type: "reactionSent", messageId, message: answer, now: this.now() });
    } catch (error) {
      if (!this.refusedBy(error, "reacting")) {
        this.dispatch({ type: "reactionFailed", messageId, previous: target.reactions, error, notice: describeProblem(error, "reacting") });
      }
    }
  }

  /**
   * The panel shows a customer message the agent side has not read (newer than the session's
   * `agentReadAt`): tell WhatsApp it was read, once per message. Call it only while the panel is visible.
   */
  async markRead(): Promise<void> {
    const state = this.deps.state();
    if (!state.loaded || state.loading || state.refused) return;
    const unread = unreadInbound(state.timeline, state.session);
    if (!unread || unread.id === this.readFor) return;
    this.readFor = unread.id;
    try {
      const answer = await this.deps.api.read(this.deps.customer, this.deps.regarding);
      this.dispatch({ type: "readMarked", agentReadAt: answer.agentReadAt });
    } catch (error) {
      // Blue ticks are a courtesy: a failure is not worth the agent's attention (a refusal is).
      this.refusedBy(error, "polling");
    }
  }

  /** The agent is typing in the composer: "typing…" for the customer, at most once per 20 s, within the window. */
  async typing(): Promise<void> {
    this.markActive();
    const state = this.deps.state();
    const now = this.now();
    if (!state.loaded || state.refused || !canReply(replyWindow(state.session, now)) || !typingDue(this.typingAt, now.getTime())) return;
    this.typingAt = now.getTime();
    try {
      await this.deps.api.typing(this.deps.customer, this.deps.regarding);
    } catch (error) {
      this.refusedBy(error, "polling");
    }
  }
}
