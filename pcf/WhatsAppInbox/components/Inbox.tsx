import * as React from "react";
import type { HostTheme } from "../../WhatsAppChat/host/theme";
import type { Clock } from "../../WhatsAppChat/model/clock";
import type { InboxApi } from "../api/inboxApi";
import type { InboxState } from "../api/contract";
import { useInboxController, useNow } from "../hooks/useInboxController";
import type { FormOpener } from "../model/inboxController";
import { InboxView } from "./InboxView";

export interface InboxProps {
  api?: InboxApi;
  navigation?: FormOpener;
  pollIntervalMs: number;
  defaultState: InboxState;
  theme?: HostTheme;
  /** The D365 user's time zone and date and time patterns (empty: the browser's). */
  clock?: Clock;
  height?: number;
  devMode?: boolean;
  setupProblem?: string;
}

/** The inbox control's root: the controller's view, wired to the agent's clicks and keys. */
export function Inbox(props: InboxProps): React.ReactElement {
  const element = React.useRef<HTMLDivElement>(null);
  const { view, controller } = useInboxController(props.setupProblem ? undefined : props.api, props.pollIntervalMs, props.defaultState, element);
  const now = useNow(30_000);
  const api = props.api;
  return (
    <InboxView
      view={props.setupProblem ? { ...view, loading: false } : view}
      now={now}
      theme={props.theme}
      clock={props.clock}
      height={props.height}
      devMode={props.devMode}
      setupProblem={props.setupProblem}
      ref={element}
      onFilter={(state) => void controller?.setFilter(state)}
      onRefresh={() => void controller?.refresh("agent")}
      onLoadMore={() => void controller?.loadMore()}
      onPick={(row) => void controller?.pick(row, props.navigation)}
      onDismissNotice={() => controller?.dismissNotice()}
      onSignIn={() => {
        // Straight from the click: a popup opened later is blocked.
        void api?.signIn().then(() => controller?.refresh("agent"), () => controller?.refresh("agent"));
      }}
    />
  );
}
