import * as React from "react";
import type { Regarding } from "../api/contract";
import { ChatController, type ChatService } from "../chat/chatController";
import { type ChatState, INITIAL_STATE, chatReducer } from "../chat/chatState";
import type { Draft } from "../model/draft";

export interface ChatActions {
  refresh: () => void;
  signIn: () => void;
  poll: () => void;
  loadOlder: () => void;
  send: () => void;
  upload: (file: File) => void;
  changeDraft: (draft: Draft) => void;
  removeMedia: () => void;
  dismissNotice: () => void;
}

/** The chat's state and what the agent can do, for one customer; a new phone number starts over. */
export function useChat(api: ChatService | undefined, customer: string | undefined, regarding: Regarding | undefined): [ChatState, ChatActions] {
  const [state, dispatch] = React.useReducer(chatReducer, INITIAL_STATE);
  const latest = React.useRef(state);
  const controller = React.useRef<ChatController | undefined>(undefined);
  React.useEffect(() => {
    latest.current = state;
  });

  const regardingEntity = regarding?.entity;
  const regardingId = regarding?.id;
  React.useEffect(() => {
    if (!api || !customer) return undefined;
    const about = regardingEntity && regardingId ? { entity: regardingEntity, id: regardingId } : undefined;
    const current = new ChatController({ api, customer, regarding: about, dispatch, state: () => latest.current });
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
      loadOlder: () => void controller.current?.loadOlder(),
      send: () => void controller.current?.send(),
      upload: (file) => void controller.current?.upload(file),
      changeDraft: (draft) => dispatch({ type: "draftChanged", draft }),
      removeMedia: () => dispatch({ type: "mediaRemoved" }),
      dismissNotice: () => dispatch({ type: "noticeDismissed" }),
    }),
    [],
  );
  return [state, actions];
}
