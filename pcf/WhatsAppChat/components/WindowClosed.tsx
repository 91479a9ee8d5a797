import * as React from "react";
import { Button, MessageBar, MessageBarActions, MessageBarBody, MessageBarTitle, Textarea, makeStyles } from "@fluentui/react-components";
import { type ReplyWindow, windowClosedMessage } from "../model/sessionWindow";
import { type Clock, ClockContext, whenSaid } from "../model/time";
import { localize } from "../strings/strings";

const useStyles = makeStyles({
  closed: { display: "flex", flexDirection: "column", gap: "6px", padding: "8px 10px" },
});

function lastWrote(closed: ReplyWindow & { state: "closed" }, now: Date, clock: Clock): string {
  if (!closed.lastInboundAt) return localize("Window_NeverWrote");
  return localize("Window_LastWrote", whenSaid(closed.lastInboundAt.toISOString(), now, clock));
}

export interface WindowClosedProps {
  replyWindow: ReplyWindow & { state: "closed" };
  now: Date;
  keptDraft: string;
  /** "Send a template": an approved template goes whether or not the window is open. */
  onOpenTemplates?: () => void;
}

/**
 * Instead of the composer while the 24-hour window is closed: the validation message stays, with
 * "Send a template" beside it; a message typed before stays visible.
 */
export function WindowClosed({ replyWindow, now, keptDraft, onOpenTemplates }: WindowClosedProps): React.ReactElement {
  const styles = useStyles();
  const clock = React.useContext(ClockContext);
  return (
    <div className={styles.closed} data-testid="window-closed">
      <MessageBar intent="warning" layout="multiline" role="status">
        <MessageBarBody>
          <MessageBarTitle>{windowClosedMessage()}</MessageBarTitle> {lastWrote(replyWindow, now, clock)} {localize("Window_RefreshHint")}
        </MessageBarBody>
        {onOpenTemplates && (
          <MessageBarActions>
            <Button size="small" appearance="primary" onClick={onOpenTemplates} title={localize("Template_OpenHint")} data-template-opener="">
              {localize("Template_Open")}
            </Button>
          </MessageBarActions>
        )}
      </MessageBar>
      {keptDraft.trim() !== "" && <Textarea aria-label={localize("Refused_UnsentMessage")} value={keptDraft} readOnly resize="vertical" />}
    </div>
  );
}
