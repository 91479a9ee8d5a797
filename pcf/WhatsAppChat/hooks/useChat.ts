import * as React from "react";
import type { Regarding } from "../api/contract";
import { ChatController, type ChatService } from "../chat/chatController";
import { type ChatState, INITIAL_STATE, chatReducer } from "../chat/chatState";
import type { Draft } from "../model/draft";
import type { RecordFacts } from "../model/templates";

export interface ChatActions {
  refresh: () => void;
  signIn: () => void;
  poll: () => void;
  /** The wait before the next poll for this configured interval (slower when nothing happens). */
  nextPollDelay: (intervalMs: number) => number;
  /** The agent is back (focus, the panel in view): quick polling again. */
  markActive: () => void;
  loadOlder: () => void;
  send: () => void;
  upload: (file: File) => void;
  changeDraft: (draft: Draft) => void;
  removeMedia: () => void;
  dismissNotice: () => void;
  // The template picker.
  openTemplates: () => void;
  closeTemplates: () => void;
  reloadTemplates: () => void;
  searchTemplates: (search: string) => void;
  chooseLanguage: (language: string) => void;
  chooseTemplate: (key: string) => void;
  backToTemplates: () => void;
  changeTemplateValue: (key: string, value: string) => void;
  uploadTemplateMedia: (key: string, file: File) => void;
  sendTemplate: () => void;
  dismissTemplateNotice: () => void;
  /** The agent's reaction to a customer's message (the same emoji again takes it away). */
  react: (messageId: string, emoji: string) => void;
  /** The panel is visible: a customer message not read yet gets its read receipt. */
  markRead: () => void;
}

/** The chat's state and what the agent can do, for one customer; a new phone number starts over. */
export function useChat(
  api: ChatService | undefined,
  customer: string | undefined,
  regarding: Regarding | undefined,
  recordFacts?: RecordFacts,
): [ChatState, ChatActions] {
  const [state, dispatch] = React.useReducer(chatReducer, INITIAL_STATE);
  const latest = React.useRef(state);
  const facts = React.useRef(recordFacts);
  const controller = React.useRef<ChatController | undefined>(undefined);
  React.useEffect(() => {
    latest.current = state;
    facts.current = recordFacts;
  });

  const regardingEntity = regarding?.entity;
  const regardingId = regarding?.id;
  React.useEffect(() => {
    if (!api || !customer) return undefined;
    const about = regardingEntity && regardingId ? { entity: regardingEntity, id: regardingId } : undefined;
    const current = new ChatController({ api, customer, regarding: about, dispatch, state: () => latest.current, recordFacts: () => facts.current });
    controller.current = current;
    dispatch({ type: "customerChanged" });
    void current.load();
    return () => {
      current.stop();
      if (controller.current === current) controller.current = undefined;
    };
  }, [api, customer, regardingEntity, regardingId]);

  const actions = React.useMemo<ChatActions>(
    () => ({
      refresh: () => void controller.current?.load(),
      signIn: () => void controller.current?.signIn(),
      poll: () => void controller.current?.poll(),
      nextPollDelay: (intervalMs) => controller.current?.nextPollDelay(intervalMs) ?? intervalMs,
      markActive: () => controller.current?.markActive(),
      loadOlder: () => void controller.current?.loadOlder(),
      send: () => void controller.current?.send(),
      upload: (file) => void controller.current?.upload(file),
      changeDraft: (draft) => {
        const typed = draft.text !== latest.current.draft.text && draft.text.trim() !== "";
        dispatch({ type: "draftChanged", draft });
        if (typed) void controller.current?.typing();
      },
      removeMedia: () => dispatch({ type: "mediaRemoved" }),
      dismissNotice: () => dispatch({ type: "noticeDismissed" }),
      openTemplates: () => void controller.current?.openTemplates(),
      closeTemplates: () => controller.current?.closeTemplates(),
      reloadTemplates: () => void controller.current?.loadTemplates(),
      searchTemplates: (search) => dispatch({ type: "templateSearched", search }),
      chooseLanguage: (language) => dispatch({ type: "templateLanguageChosen", language }),
      chooseTemplate: (key) => controller.current?.chooseTemplate(key),
      backToTemplates: () => dispatch({ type: "templateUnchosen" }),
      changeTemplateValue: (key, value) => dispatch({ type: "templateValueChanged", key, value }),
      uploadTemplateMedia: (key, file) => void controller.current?.uploadTemplateMedia(key, file),
      sendTemplate: () => void controller.current?.sendTemplate(),
      dismissTemplateNotice: () => dispatch({ type: "templateNoticeDismissed" }),
      react: (messageId, emoji) => void controller.current?.react(messageId, emoji),
      markRead: () => void controller.current?.markRead(),
    }),
    [],
  );
  return [state, actions];
}
