import * as React from "react";
import { FluentProvider, type Theme, makeStyles, tokens, webLightTheme } from "@fluentui/react-components";
import type { Regarding } from "../api/contract";
import type { ChatService } from "../chat/chatController";
import { canPoll } from "../chat/chatState";
import { useChat } from "../hooks/useChat";
import { useInterval, useNow } from "../hooks/useInterval";
import { useVisible } from "../hooks/useVisible";
import type { AgentNotice } from "../model/problemWording";
import { canReply, replyWindow } from "../model/sessionWindow";
import { readingOrder } from "../model/timeline";
import { chatPaletteStyle, isDarkTheme } from "./chatPalette";
import { Composer } from "./Composer";
import { MessageList } from "./MessageList";
import { NoticeBar } from "./NoticeBar";
import { PanelHeader } from "./PanelHeader";
import { Refused } from "./Refused";
import { WindowClosed } from "./WindowClosed";

const useStyles = makeStyles({
  provider: { height: "100%" },
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
  theme?: Theme;
}

/** The chat panel on the Contact and Lead forms. */
export function ChatPanel(props: ChatPanelProps): React.ReactElement {
  const styles = useStyles();
  return (
    <FluentProvider theme={props.theme ?? webLightTheme} className={styles.provider} style={props.height ? { height: `${props.height}px` } : undefined}>
      {props.setupProblem ? (
        <div className={styles.setup}>
          <NoticeBar notice={props.setupProblem} />
        </div>
      ) : !props.customer.trim() ? (
        <div className={styles.setup}>
          <NoticeBar notice={{ intent: "warning", title: "This record has no phone number.", detail: "Add the customer's mobile number to chat on WhatsApp.", code: "no_phone" }} />
        </div>
      ) : (
        <Chat {...props} />
      )}
    </FluentProvider>
  );
}

function Chat({ customer, api, regarding, devMode, pollIntervalMs, theme }: ChatPanelProps): React.ReactElement {
  const styles = useStyles();
  const dark = isDarkTheme(theme);
  const palette = React.useMemo(() => chatPaletteStyle(dark), [dark]);
  const panel = React.useRef<HTMLDivElement>(null);
  const [state, actions] = useChat(api, customer, regarding);
  const visible = useVisible(panel);
  // The window closes by itself 24 hours after the customer's last message: redraw then.
  const now = useNow(30_000, state.session?.expiresAt);
  const reply = replyWindow(state.session, now);

  // Never before a load worked, nor once the API refused the record (403 not_allowed).
  const pollable = canPoll(state);
  useInterval(actions.poll, pollIntervalMs, visible && pollable);
  // Back in view (the form tab selected again, the browser tab in front): catch up at once.
  const wasVisible = React.useRef(visible);
  React.useEffect(() => {
    if (visible && !wasVisible.current && pollable) actions.poll();
    wasVisible.current = visible;
  }, [visible, pollable, actions]);

  const header = (
    <PanelHeader
      customer={customer}
      devMode={devMode ?? false}
      replyWindow={reply}
      refused={state.refused !== undefined}
      marketingOptOut={state.refused === undefined && state.session?.marketingOptOut === true}
      now={now}
      refreshing={state.loading}
      onRefresh={actions.refresh}
    />
  );
  if (state.refused) {
    return (
      <div className={styles.panel} ref={panel} data-testid="whatsapp-chat" style={palette}>
        {header}
        <Refused notice={state.refused} keptDraft={state.draft.text} />
      </div>
    );
  }
  const notice = state.notice ?? state.pollProblem;
  return (
    <div className={styles.panel} ref={panel} data-testid="whatsapp-chat" style={palette}>
      {header}
      {notice && (
        <NoticeBar
          notice={notice}
          onDismiss={state.notice && notice.action === undefined ? actions.dismissNotice : undefined}
          onSignIn={actions.signIn}
        />
      )}
      <MessageList
        messages={readingOrder(state.timeline)}
        now={now}
        loaded={state.loaded}
        loadFailed={state.loadFailed}
        hasOlder={state.olderCursor !== null}
        loadingOlder={state.loadingOlder}
        onLoadOlder={actions.loadOlder}
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
        />
      ) : reply.state === "closed" ? (
        <WindowClosed replyWindow={reply} now={now} keptDraft={state.draft.text} />
      ) : null}
    </div>
  );
}
