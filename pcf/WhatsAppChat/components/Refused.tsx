import * as React from "react";
import { Field, Textarea, makeStyles, tokens } from "@fluentui/react-components";
import type { AgentNotice } from "../model/problemWording";
import { localize } from "../strings/strings";
import { NoticeBar } from "./NoticeBar";

const useStyles = makeStyles({
  refused: {
    flexGrow: 1,
    minHeight: 0,
    display: "flex",
    flexDirection: "column",
    gap: "8px",
    padding: "10px",
    backgroundColor: tokens.colorNeutralBackground2,
  },
});

/**
 * Instead of the chat and the composer when the API refuses this record to this agent (403
 * `not_allowed`): why, in the API's words, and what they had typed. No spinner, no Send, no polling.
 */
export function Refused({ notice, keptDraft }: { notice: AgentNotice; keptDraft: string }): React.ReactElement {
  const styles = useStyles();
  return (
    <div className={styles.refused} role="status" data-testid="chat-refused">
      <NoticeBar notice={notice} />
      {keptDraft.trim() !== "" && (
        <Field label={localize("Refused_UnsentMessage")} size="small">
          <Textarea value={keptDraft} readOnly resize="vertical" />
        </Field>
      )}
    </div>
  );
}
