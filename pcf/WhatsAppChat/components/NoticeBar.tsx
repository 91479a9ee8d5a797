import * as React from "react";
import { Button, MessageBar, MessageBarActions, MessageBarBody, MessageBarTitle } from "@fluentui/react-components";
import type { AgentNotice } from "../model/problemWording";
import { localize } from "../strings/strings";

export interface NoticeBarProps {
  notice: AgentNotice;
  onDismiss?: () => void;
  onSignIn?: () => void;
  /** A load that failed: try it again. */
  onRetry?: () => void;
}

/** A problem in the agent's words, with what to do next. */
export function NoticeBar({ notice, onDismiss, onSignIn, onRetry }: NoticeBarProps): React.ReactElement {
  return (
    <MessageBar intent={notice.intent} layout="multiline" data-problem-code={notice.code}>
      <MessageBarBody>
        <MessageBarTitle>{notice.title}</MessageBarTitle>
        {notice.detail ? ` ${notice.detail}` : null}
      </MessageBarBody>
      {(onDismiss ?? onRetry ?? (notice.action === "sign_in" && onSignIn)) && (
        <MessageBarActions
          containerAction={
            onDismiss ? (
              <Button appearance="transparent" size="small" aria-label={localize("Notice_Dismiss")} title={localize("Notice_Dismiss")} onClick={onDismiss}>
                ✕
              </Button>
            ) : undefined
          }
        >
          {notice.action === "sign_in" && onSignIn ? (
            <Button size="small" appearance="primary" onClick={onSignIn}>
              {localize("Notice_SignIn")}
            </Button>
          ) : onRetry ? (
            <Button size="small" appearance="primary" onClick={onRetry}>
              {localize("Notice_Retry")}
            </Button>
          ) : undefined}
        </MessageBarActions>
      )}
    </MessageBar>
  );
}
