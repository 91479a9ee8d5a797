import * as React from "react";
import { MessageBar, MessageBarBody, MessageBarTitle, Textarea, makeStyles } from "@fluentui/react-components";
import { type ReplyWindow, WINDOW_CLOSED_MESSAGE } from "../model/sessionWindow";
import { whenSaid } from "../model/time";

const useStyles = makeStyles({
  closed: { display: "flex", flexDirection: "column", gap: "6px", padding: "8px 10px" },
});

function lastWrote(closed: ReplyWindow & { state: "closed" }, now: Date): string {
  if (!closed.lastInboundAt) return "This customer hasn't written to you on WhatsApp yet.";
  return `The customer last wrote ${whenSaid(closed.lastInboundAt.toISOString(), now)}.`;
}

/** Instead of the composer while the 24-hour window is closed; a message typed before stays visible. */
export function WindowClosed({ replyWindow, now, keptDraft }: { replyWindow: ReplyWindow & { state: "closed" }; now: Date; keptDraft: string }): React.ReactElement {
  const styles = useStyles();
  return (
    <div className={styles.closed} role="status" data-testid="window-closed">
      <MessageBar intent="warning" layout="multiline">
        <MessageBarBody>
          <MessageBarTitle>{WINDOW_CLOSED_MESSAGE}</MessageBarTitle> {lastWrote(replyWindow, now)} Press Refresh when they write again.
        </MessageBarBody>
      </MessageBar>
      {keptDraft.trim() !== "" && <Textarea aria-label="Your unsent message" value={keptDraft} readOnly resize="vertical" />}
    </div>
  );
}
