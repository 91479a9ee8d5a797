/** The API as the controller tests script it, and a panel without React (the controller and the reducer). */
import { ApiError } from "../../WhatsAppChat/api/apiError";
import { regardingParameter } from "../../WhatsAppChat/api/chatApi";
import type {
  ChatMessage,
  MessageTemplate,
  MessagesPage,
  ReadAnswer,
  Regarding,
  SendMessageCommand,
  SessionStatus,
  TypingAnswer,
  UploadResult,
} from "../../WhatsAppChat/api/contract";
import { ChatController, type ChatService } from "../../WhatsAppChat/chat/chatController";
import { type ChatAction, type ChatState, INITIAL_STATE, chatReducer } from "../../WhatsAppChat/chat/chatState";
import { editDraft } from "../../WhatsAppChat/model/draft";
import type { RecordFacts } from "../../WhatsAppChat/model/templates";
import { NOW, message, page } from "./fixtures";

export const OPEN: SessionStatus = { active: true, expiresAt: "2026-03-03T09:00:00Z", lastInboundAt: "2026-03-02T09:00:00Z" };
export const NEVER_WROTE: SessionStatus = { active: false, expiresAt: null, lastInboundAt: null };

/** The API as the tests script it: answers per call, and a record of what was asked. */
export class ScriptedApi implements ChatService {
  session_: SessionStatus = OPEN;
  pages: MessagesPage[] = [];
  sendAnswers: (ChatMessage | ApiError)[] = [];
  uploadAnswer: UploadResult | ApiError | undefined;
  readonly asked: string[] = [];
  readonly sent: SendMessageCommand[] = [];
  /** Each call and the record it named (`-` for none), in order. */
  readonly records: string[] = [];
  signedIn = false;

  signIn(): Promise<void> {
    this.signedIn = true;
    return Promise.resolve();
  }

  session(_: string, regarding?: Regarding): Promise<SessionStatus> {
    this.asked.push("session");
    this.records.push(`session ${regardingParameter(regarding) ?? "-"}`);
    return Promise.resolve(this.session_);
  }

  messages(_: string, request: { limit: number; before?: string; changedSince?: string }, regarding?: Regarding): Promise<MessagesPage> {
    const since = request.changedSince ? ` changedSince=${request.changedSince}` : "";
    this.asked.push(`messages limit=${request.limit}${request.before ? ` before=${request.before}` : ""}${since}`);
    this.records.push(`messages ${regardingParameter(regarding) ?? "-"}`);
    return Promise.resolve(this.pages.shift() ?? page([]));
  }

  send(_: string, command: SendMessageCommand): Promise<ChatMessage> {
    this.sent.push(command);
    this.records.push(`send ${regardingParameter(command.regarding) ?? "-"}`);
    const answer = this.sendAnswers.shift() ?? message({ id: command.clientMessageId, status: "accepted", text: command.text });
    return answer instanceof ApiError ? Promise.reject(answer) : Promise.resolve(answer);
  }

  templatesAnswer: MessageTemplate[] | ApiError = [];
  readAnswers: (ReadAnswer | ApiError)[] = [];
  typingAnswers: (TypingAnswer | ApiError)[] = [];

  templates(regarding?: Regarding): Promise<MessageTemplate[]> {
    this.asked.push("templates");
    this.records.push(`templates ${regardingParameter(regarding) ?? "-"}`);
    const answer = this.templatesAnswer;
    return answer instanceof ApiError ? Promise.reject(answer) : Promise.resolve(answer);
  }

  read(_: string, regarding?: Regarding): Promise<ReadAnswer> {
    this.asked.push("read");
    this.records.push(`read ${regardingParameter(regarding) ?? "-"}`);
    const answer = this.readAnswers.shift() ?? { sent: true, messageId: null, agentReadAt: null };
    return answer instanceof ApiError ? Promise.reject(answer) : Promise.resolve(answer);
  }

  typing(_: string, regarding?: Regarding): Promise<TypingAnswer> {
    this.asked.push("typing");
    this.records.push(`typing ${regardingParameter(regarding) ?? "-"}`);
    const answer = this.typingAnswers.shift() ?? { sent: true };
    return answer instanceof ApiError ? Promise.reject(answer) : Promise.resolve(answer);
  }

  upload(_: Blob, __: string, regarding?: Regarding): Promise<UploadResult> {
    this.records.push(`upload ${regardingParameter(regarding) ?? "-"}`);
    const answer = this.uploadAnswer;
    if (!answer) return Promise.reject(new Error("no upload scripted"));
    return answer instanceof ApiError ? Promise.reject(answer) : Promise.resolve(answer);
  }
}

/** A panel without React: the controller and the reducer, as the component wires them. */
export function panel(
  api: ScriptedApi,
  regarding?: Regarding,
  options: { recordFacts?: RecordFacts; now?: () => Date } = {},
): { controller: ChatController; state: () => ChatState; type: (text: string) => void; dispatch: (action: ChatAction) => void } {
  let state = INITIAL_STATE;
  let attempt = 0;
  const dispatch = (action: ChatAction): void => {
    state = chatReducer(state, action);
  };
  const controller = new ChatController({
    api,
    customer: "+1 555 123 4567",
    regarding,
    dispatch,
    state: () => state,
    now: options.now ?? (() => NOW),
    attemptId: () => `pcf-${++attempt}`,
    recordFacts: () => options.recordFacts,
  });
  const type = (text: string): void => {
    state = chatReducer(state, { type: "draftChanged", draft: editDraft(state.draft, { text }) });
  };
  return { controller, state: () => state, type, dispatch };
}
