import type { ApiError } from "../api/apiError";
import type { ChatMessage, MessagesPage, Reaction, SessionStatus } from "../api/contract";
import { type Draft, EMPTY_DRAFT, type SendableUpload, draftAfterFailedSend, draftWithUpload, removeMedia } from "../model/draft";
import type { AgentNotice } from "../model/problemWording";
import { withAgentReaction } from "../model/reactions";
import { type Timeline, mergePage, upsertMessage } from "../model/timeline";
import { CLOSED_PICKER, type TemplatePicker, type TemplatePickerAction, pickerAfterSend, templatePickerReducer } from "./templatePicker";

/** Everything the panel shows, changed only by the actions below (so it is tested without React). */
export interface ChatState {
  session?: SessionStatus;
  timeline: Timeline;
  /** The cursor for older messages; null when the oldest is held. */
  olderCursor: string | null;
  /** Where the next poll starts: the API's `pollCursor` from the last load or poll. */
  pollCursor?: string;
  loaded: boolean;
  loading: boolean;
  /** The last load (or Refresh) failed, so there is nothing to wait for until the next one. */
  loadFailed: boolean;
  loadingOlder: boolean;
  sending: boolean;
  uploading: boolean;
  draft: Draft;
  /** The last problem with something the agent did (load, refresh, send, upload). */
  notice?: AgentNotice;
  /** A background poll that failed; cleared by the next one that works. */
  pollProblem?: AgentNotice;
  /**
   * The API will not show this conversation to this agent on this record (403 `not_allowed`): nothing
   * of it shows, the composer is gone and polling stops. A Refresh that works clears it.
   */
  refused?: AgentNotice;
  /** The template picker (the business number's approved templates, what the agent filled in). */
  picker: TemplatePicker;
  /** A reaction on its way: the message it is for (one at a time). */
  reactingTo?: string;
}

export const INITIAL_STATE: ChatState = {
  timeline: [],
  olderCursor: null,
  loaded: false,
  loading: false,
  loadFailed: false,
  loadingOlder: false,
  sending: false,
  uploading: false,
  draft: EMPTY_DRAFT,
  picker: CLOSED_PICKER,
};

export type ChatAction =
  | { type: "customerChanged" }
  | { type: "loadStarted" }
  | { type: "loaded"; session: SessionStatus; page: MessagesPage; now: Date }
  | { type: "loadFailed"; notice: AgentNotice }
  | { type: "polled"; page: MessagesPage; session?: SessionStatus; now: Date }
  | { type: "pollFailed"; notice: AgentNotice }
  | { type: "olderStarted" }
  | { type: "olderLoaded"; page: MessagesPage; now: Date }
  | { type: "olderFailed"; notice: AgentNotice }
  | { type: "draftChanged"; draft: Draft }
  | { type: "mediaRemoved" }
  | { type: "uploadStarted" }
  | { type: "uploaded"; upload: SendableUpload }
  | { type: "uploadFailed"; notice: AgentNotice }
  | { type: "sendStarted"; attemptId: string; attemptFor: string }
  | { type: "sent"; message: ChatMessage; now: Date }
  | { type: "sendFailed"; attemptId: string; error: unknown; notice: AgentNotice; now: Date }
  | { type: "draftIncomplete"; notice: AgentNotice }
  | { type: "noticeDismissed" }
  | { type: "refused"; notice: AgentNotice }
  | TemplatePickerAction
  | { type: "templateSent"; message: ChatMessage; now: Date }
  | { type: "reactionStarted"; messageId: string; emoji: string; now: Date }
  | { type: "reactionSent"; messageId: string; message?: ChatMessage; now: Date }
  | { type: "reactionFailed"; messageId: string; previous: Reaction[] | null | undefined; error: unknown; notice: AgentNotice }
  | { type: "readMarked"; agentReadAt: string | null };

/** The timeline with one held message changed (nothing when it is not held). */
function changeMessage(timeline: Timeline, id: string, change: (message: ChatMessage) => ChatMessage): Timeline {
  return timeline.some((message) => message.id === id) ? timeline.map((message) => (message.id === id ? change(message) : message)) : timeline;
}

function withStoredFailure(timeline: Timeline, error: unknown, now: Date): Timeline {
  const stored = (error as Partial<ApiError> | undefined)?.storedMessage;
  return stored ? upsertMessage(timeline, stored, now) : timeline;
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case "customerChanged":
      // Another phone number: another conversation. What the agent typed stays.
      return { ...INITIAL_STATE, draft: state.draft };
    case "loadStarted":
      return { ...state, loading: true, loadFailed: false };
    case "loaded": {
      const timeline = mergePage(state.timeline, action.page.messages, "latest", action.now);
      // The first page's cursor reaches back from the oldest message held; later refreshes keep it.
      const olderCursor = state.loaded ? state.olderCursor : action.page.next;
      const pollCursor = action.page.pollCursor ?? state.pollCursor;
      return { ...state, session: action.session, timeline, olderCursor, pollCursor, loaded: true, loading: false, notice: undefined, pollProblem: undefined, refused: undefined };
    }
    case "loadFailed":
      return { ...state, loading: false, loadFailed: true, notice: action.notice };
    case "polled":
      if (state.refused) return state; // asked before the refusal: nothing of it shows
      return {
        ...state,
        timeline: mergePage(state.timeline, action.page.messages, "latest", action.now),
        pollCursor: action.page.pollCursor ?? state.pollCursor,
        session: action.session ?? state.session,
        pollProblem: undefined,
      };
    case "pollFailed":
      return { ...state, pollProblem: action.notice };
    case "olderStarted":
      return { ...state, loadingOlder: true };
    case "olderLoaded":
      if (state.refused) return state;
      return {
        ...state,
        timeline: mergePage(state.timeline, action.page.messages, "older", action.now),
        olderCursor: action.page.next,
        loadingOlder: false,
      };
    case "olderFailed":
      return { ...state, loadingOlder: false, notice: action.notice };
    case "draftChanged":
      return { ...state, draft: action.draft };
    case "mediaRemoved":
      return { ...state, draft: removeMedia(state.draft) };
    case "uploadStarted":
      return { ...state, uploading: true, notice: undefined };
    case "uploaded":
      return { ...state, uploading: false, draft: draftWithUpload(state.draft, action.upload) };
    case "uploadFailed":
      return { ...state, uploading: false, notice: action.notice };
    case "sendStarted":
      return { ...state, sending: true, notice: undefined, draft: { ...state.draft, attemptId: action.attemptId, attemptFor: action.attemptFor } };
    case "sent":
      // Accepted by WhatsApp: the draft has done its job.
      return { ...state, sending: false, draft: { ...EMPTY_DRAFT, mediaType: state.draft.mediaType }, timeline: upsertMessage(state.timeline, action.message, action.now) };
    case "sendFailed": {
      const windowClosed = (action.error as Partial<ApiError> | undefined)?.code === "session_inactive";
      return {
        ...state,
        sending: false,
        notice: action.notice,
        draft: draftAfterFailedSend(state.draft, action.attemptId, action.error),
        timeline: withStoredFailure(state.timeline, action.error, action.now),
        // The API says the window closed (the customer's 24 hours ran out while the panel was open).
        session: windowClosed && state.session ? { ...state.session, active: false } : state.session,
      };
    }
    case "draftIncomplete":
      return { ...state, notice: action.notice };
    case "noticeDismissed":
      return { ...state, notice: undefined };
    case "refused":
      // Not for this agent, or not this record's number: drop what was shown and stop asking. What
      // they typed stays theirs (a Refresh that works brings the composer back with it).
      return { ...INITIAL_STATE, draft: state.draft, refused: action.notice };
    case "templateSent":
      // Accepted: the template shows in the chat with its rendered text, and the picker closes.
      return { ...state, picker: pickerAfterSend(state.picker), timeline: upsertMessage(state.timeline, action.message, action.now) };
    case "templateSendFailed": {
      const code = (action.error as Partial<ApiError> | undefined)?.code;
      return {
        ...state,
        picker: templatePickerReducer(state.picker, action),
        timeline: withStoredFailure(state.timeline, action.error, action.now),
        // The API knows better than the session read earlier: the customer opted out of marketing.
        session: code === "marketing_opt_out" && state.session ? { ...state.session, marketingOptOut: true } : state.session,
      };
    }
    case "reactionStarted":
      // Shown at once on the bubble; the next poll brings the message as the API keeps it.
      return {
        ...state,
        reactingTo: action.messageId,
        notice: undefined,
        timeline: changeMessage(state.timeline, action.messageId, (message) => withAgentReaction(message, action.emoji, action.now)),
      };
    case "reactionSent": {
      const answered = action.message;
      // The answer is the target as stored (its reactions), or the reaction itself (not a bubble of its own).
      const timeline = answered && answered.id === action.messageId ? upsertMessage(state.timeline, answered, action.now) : state.timeline;
      return { ...state, reactingTo: undefined, timeline };
    }
    case "reactionFailed": {
      const windowClosed = (action.error as Partial<ApiError> | undefined)?.code === "session_inactive";
      return {
        ...state,
        reactingTo: undefined,
        notice: action.notice,
        timeline: changeMessage(state.timeline, action.messageId, (message) => ({ ...message, reactions: action.previous })),
        session: windowClosed && state.session ? { ...state.session, active: false } : state.session,
      };
    }
    case "readMarked":
      return action.agentReadAt && state.session ? { ...state, session: { ...state.session, agentReadAt: action.agentReadAt } } : state;
    default:
      return { ...state, picker: templatePickerReducer(state.picker, action) };
  }
}

/** Whether background polls may run: a loaded conversation, not being reloaded, that the API has not refused. */
export function canPoll(state: ChatState): boolean {
  return state.loaded && !state.loading && state.refused === undefined;
}
