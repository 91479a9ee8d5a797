import * as React from "react";
import { FluentProvider, makeStyles, tokens } from "@fluentui/react-components";
import type { ChatMessage, Regarding } from "../api/contract";
import type { ChatService } from "../chat/chatController";
import { canPoll } from "../chat/chatState";
import { type HostTheme, pickTheme } from "../host/theme";
import { useChat } from "../hooks/useChat";
import { useForcedColors } from "../hooks/useForcedColors";
import { useNow, usePolling } from "../hooks/useInterval";
import { useVisible } from "../hooks/useVisible";
import { draftToResend } from "../model/draft";
import type { AgentNotice } from "../model/problemWording";
import { canReply, replyWindow } from "../model/sessionWindow";
import { type Clock, ClockContext } from "../model/time";
import type { RecordFacts } from "../model/templates";
import { readingOrder } from "../model/timeline";
import { localize } from "../strings/strings";
import { Composer } from "./Composer";
import { MessageList } from "./MessageList";
import { NoticeBar } from "./NoticeBar";
import { PanelHeader } from "./PanelHeader";
import { Refused } from "./Refused";
import { TemplatePicker } from "./TemplatePicker";
import { WindowClosed } from "./WindowClosed";

const useStyles = makeStyles({
  panel: {
    display: "flex",
    flexDirection: "column",
    height: "100%",
    minHeight: "360px",
    border: `1px solid ${tokens.colorNeutralStroke1}`,
    borderRadius: tokens.borderRadiusMedium,
    overflow: "hidden",
    backgroundColor: tokens.colorNeutralBackground1,
  },
  setup: { padding: "10px" },
  // The error area keeps its height in a long chat (the list gives way, never the reason); a very long
  // one scrolls within half the panel.
  notice: { flexShrink: 0, maxHeight: "50%", overflowY: "auto" },
});

export interface ChatPanelProps {
  /** The record's phone number; empty when the field is. */
  customer: string;
  /** The API client; undefined when the control's properties are incomplete. */
  api?: ChatService;
  /** Why the control cannot work as configured, in words for whoever set it up. */
  setupProblem?: AgentNotice;
  regarding?: Regarding;
  devMode?: boolean;
  pollIntervalMs: number;
  height?: number;
  /** What the host says about its theme; forced colours make it high contrast. */
  theme?: HostTheme;
  /** What the form's record says about the customer (bound columns), to prefill templates. */
  recordFacts?: RecordFacts;
  /** The record's name (its full name column), shown in the header above the number. */
  customerName?: string;
  /** The D365 user's time zone and time format (context.userSettings); absent: the browser's. */
  clock?: Clock;
}

const NO_CLOCK: Clock = {};

/** The chat panel on the Contact and Lead forms. */
export function ChatPanel(props: ChatPanelProps): React.ReactElement {
  const styles = useStyles();
  const theme = pickTheme(props.theme, useForcedColors());
  return (
    // The height goes inline: the provider's className also lands on the portals' mount node (menus,
    // popovers), and a height there would cover the form with the provider's background.
    <FluentProvider theme={theme} style={{ height: props.height ? `${props.height}px` : "100%" }}>
      {props.setupProblem ? (
        <div className={styles.setup}>
          <NoticeBar notice={props.setupProblem} />
        </div>
      ) : !props.customer.trim() ? (
        <div className={styles.setup}>
          <NoticeBar notice={{ intent: "warning", title: localize("Panel_NoPhone_Title"), detail: localize("Panel_NoPhone_Detail"), code: "no_phone" }} />
        </div>
      ) : (
        <ClockContext.Provider value={props.clock ?? NO_CLOCK}>
          <Chat {...props} />
        </ClockContext.Provider>
      )}
    </FluentProvider>
  );
}

function Chat({ customer, customerName, api, regarding, devMode, pollIntervalMs, recordFacts }: ChatPanelProps): React.ReactElement {
  const styles = useStyles();
  const panel = React.useRef<HTMLDivElement>(null);
  const [state, actions] = useChat(api, customer, regarding, recordFacts);
  const visible = useVisible(panel);
  // The window closes by itself 24 hours after the customer's last message: redraw then.
  const now = useNow(30_000, state.session?.expiresAt);
  const reply = replyWindow(state.session, now);

  // Never before a load worked, nor once the API refused the record (403 not_allowed).
  const pollable = canPoll(state);
  // Every interval (5 s) while something happens, slower (up to 30 s) after two idle minutes.
  const [woken, setWoken] = React.useState(0);
  usePolling(actions.poll, () => actions.nextPollDelay(pollIntervalMs), visible && pollable, woken);
  // Back in view (the form tab selected again, the browser tab in front) or the window focused:
  // catch up at once, and poll at the quick pace again.
  const wake = React.useCallback(() => {
    actions.markActive();
    actions.poll();
    setWoken((count) => count + 1);
  }, [actions]);
  const wasVisible = React.useRef(visible);
  React.useEffect(() => {
    if (visible && !wasVisible.current && pollable) wake();
    wasVisible.current = visible;
  }, [visible, pollable, wake]);
  React.useEffect(() => {
    if (!visible || !pollable || typeof window === "undefined") return undefined;
    window.addEventListener("focus", wake);
    return () => window.removeEventListener("focus", wake);
  }, [visible, pollable, wake]);

  // A customer message shows while the panel is visible: its read receipt (once per message; the
  // controller skips one the agent side has read). Not while the picker covers the chat.
  const newestId = state.timeline[0]?.id;
  const pickerOpen = state.picker.open;
  React.useEffect(() => {
    if (visible && !pickerOpen) actions.markRead();
  }, [visible, pickerOpen, newestId, state.loaded, actions]);

  // "Edit and resend" on a message WhatsApp did not deliver: back in the composer, focused, for Send.
  const resend = React.useCallback(
    (message: ChatMessage) => {
      const draft = draftToResend(message);
      if (!draft) return;
      actions.changeDraft(draft);
      window.setTimeout(() => panel.current?.querySelector<HTMLTextAreaElement>("[data-testid=composer] textarea")?.focus(), 0);
    },
    [actions],
  );

  // The picker closed: focus goes back to what opened it ("Send a template", or the composer's menu).
  const wasOpen = React.useRef(pickerOpen);
  React.useEffect(() => {
    if (wasOpen.current && !pickerOpen) panel.current?.querySelector<HTMLElement>("[data-template-opener]")?.focus();
    wasOpen.current = pickerOpen;
  }, [pickerOpen]);

  const header = (
    <PanelHeader
      customer={customer}
      customerName={customerName}
      devMode={devMode ?? false}
      replyWindow={reply}
      refused={state.refused !== undefined}
      loadFailed={state.loadFailed && !state.loaded}
      marketingOptOut={state.refused === undefined && state.session?.marketingOptOut === true}
      now={now}
      refreshing={state.loading}
      onRefresh={actions.refresh}
    />
  );
  if (state.refused) {
    return (
      <div className={styles.panel} ref={panel} data-testid="whatsapp-chat">
        {header}
        <Refused notice={state.refused} keptDraft={state.draft.text} />
      </div>
    );
  }
  const notice = state.notice ?? state.pollProblem;
  return (
    <div className={styles.panel} ref={panel} data-testid="whatsapp-chat">
      {header}
      {notice && (
        <div className={styles.notice} data-notice-area="">
          <NoticeBar
            notice={notice}
            onDismiss={state.notice && notice.action === undefined && !state.loadFailed ? actions.dismissNotice : undefined}
            onSignIn={actions.signIn}
            onRetry={state.loadFailed && notice.action === undefined ? actions.refresh : undefined}
          />
        </div>
      )}
      {pickerOpen ? (
        <TemplatePicker
          picker={state.picker}
          marketingOptOut={state.session?.marketingOptOut === true}
          onClose={actions.closeTemplates}
          onReload={actions.reloadTemplates}
          onSearch={actions.searchTemplates}
          onLanguage={actions.chooseLanguage}
          onChoose={actions.chooseTemplate}
          onBack={actions.backToTemplates}
          onChange={actions.changeTemplateValue}
          onUpload={actions.uploadTemplateMedia}
          onSend={actions.sendTemplate}
          onDismissNotice={actions.dismissTemplateNotice}
        />
      ) : (
        <>
          <MessageList
            messages={readingOrder(state.timeline)}
            now={now}
            loaded={state.loaded}
            loadFailed={state.loadFailed}
            hasOlder={state.olderCursor !== null}
            loadingOlder={state.loadingOlder}
            onLoadOlder={actions.loadOlder}
            onReact={canReply(reply) ? actions.react : undefined}
            reactingTo={state.reactingTo}
            onResend={canReply(reply) ? resend : undefined}
          />
          {canReply(reply) ? (
            <Composer
              draft={state.draft}
              sending={state.sending}
              uploading={state.uploading}
              onChange={actions.changeDraft}
              onSend={actions.send}
              onUpload={actions.upload}
              onRemoveMedia={actions.removeMedia}
              onOpenTemplates={actions.openTemplates}
            />
          ) : reply.state === "closed" ? (
            <WindowClosed replyWindow={reply} now={now} keptDraft={state.draft.text} onOpenTemplates={state.loaded ? actions.openTemplates : undefined} />
          ) : null}
        </>
      )}
    </div>
  );
}
