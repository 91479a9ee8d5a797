import * as React from "react";
import {
  Badge,
  Button,
  FluentProvider,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Tab,
  TabList,
  makeStyles,
  tokens,
  useArrowNavigationGroup,
} from "@fluentui/react-components";
import { type HostTheme, pickTheme } from "../../WhatsAppChat/host/theme";
import { useForcedColors } from "../../WhatsAppChat/hooks/useForcedColors";
import type { Clock } from "../../WhatsAppChat/model/clock";
import type { InboxConversation, InboxState } from "../api/contract";
import { INBOX_STATES } from "../api/contract";
import type { InboxView as InboxViewState } from "../model/inboxController";
import { problemText } from "../model/problem";
import { localize } from "../strings/strings";
import { ConversationRow } from "./ConversationRow";

const useStyles = makeStyles({
  root: {
    display: "flex",
    flexDirection: "column",
    boxSizing: "border-box",
    border: `1px solid ${tokens.colorNeutralStroke1}`,
    borderRadius: tokens.borderRadiusMedium,
    overflow: "hidden",
    backgroundColor: tokens.colorNeutralBackground1,
    color: tokens.colorNeutralForeground1,
    fontFamily: tokens.fontFamilyBase,
  },
  header: { display: "flex", alignItems: "center", gap: "8px", padding: "10px 12px 4px 16px" },
  heading: { margin: 0, fontSize: tokens.fontSizeBase400, fontWeight: tokens.fontWeightSemibold, flexGrow: 1 },
  tabs: { padding: "0 8px", borderBottom: `1px solid ${tokens.colorNeutralStroke2}` },
  bars: { display: "flex", flexDirection: "column", gap: "4px", padding: "8px 12px 0" },
  list: { margin: 0, padding: 0, overflowY: "auto", flexGrow: 1, minHeight: 0 },
  empty: { padding: "32px 16px", textAlign: "center", color: tokens.colorNeutralForeground3 },
  more: { display: "flex", justifyContent: "center", padding: "12px" },
  center: { padding: "32px 16px" },
});

export interface InboxViewProps {
  view: InboxViewState;
  now: Date;
  /** What the host says about its theme; forced colours make it high contrast. */
  theme?: HostTheme;
  clock?: Clock;
  height?: number;
  devMode?: boolean;
  /** Instead of the inbox: what the person configuring the page must set. */
  setupProblem?: string;
  onFilter?: (state: InboxState) => void;
  onRefresh?: () => void;
  onLoadMore?: () => void;
  onPick?: (row: InboxConversation) => void;
  onDismissNotice?: () => void;
  onSignIn?: () => void;
}

const nothing = (): void => undefined;

/** The inbox as it shows: header, tabs, notices, rows, Load more. Renders state only. */
export const InboxView = React.forwardRef<HTMLDivElement, InboxViewProps>(function InboxView(props, ref) {
  const styles = useStyles();
  const { view } = props;
  const arrows = useArrowNavigationGroup({ axis: "vertical", memorizeCurrent: true });
  const signIn = view.problem?.code === "sign_in_required";
  const theme = pickTheme(props.theme, useForcedColors());
  return (
    <FluentProvider theme={theme} style={{ height: props.height ? `${props.height}px` : "100%" }}>
      <div className={styles.root} style={{ height: "100%" }} data-testid="whatsapp-inbox" ref={ref}>
        <div className={styles.header}>
          <h2 className={styles.heading}>{localize("Inbox_Title")}</h2>
          {props.devMode ? (
            <Badge appearance="outline" color="warning">
              {localize("Inbox_Dev")}
            </Badge>
          ) : null}
          {props.setupProblem ? null : (
            <Button appearance="subtle" size="small" onClick={props.onRefresh ?? nothing} disabled={view.loading || view.refreshing}>
              {localize("Inbox_Refresh")}
            </Button>
          )}
        </div>
        {props.setupProblem ? (
          <div className={styles.bars}>
            <MessageBar intent="error">
              <MessageBarBody>
                <MessageBarTitle>{localize("Inbox_Setup")}</MessageBarTitle>
                {localize("Inbox_SetupDetail", props.setupProblem)}
              </MessageBarBody>
            </MessageBar>
          </div>
        ) : (
          <>
            <TabList
              className={styles.tabs}
              size="small"
              selectedValue={view.state}
              aria-label={localize("Inbox_Tabs")}
              onTabSelect={(_event, data) => (props.onFilter ?? nothing)(data.value as InboxState)}
            >
              {INBOX_STATES.map((state) => (
                <Tab key={state} value={state}>
                  {localize(state === "waiting" ? "State_Waiting" : state === "open" ? "State_Open" : "State_All")}
                </Tab>
              ))}
            </TabList>
            {view.notice || view.problem ? (
              <div className={styles.bars} aria-live="polite">
                {view.notice ? (
                  <MessageBar intent="info" data-testid="inbox-notice">
                    <MessageBarBody>{view.notice}</MessageBarBody>
                    <MessageBarActions>
                      <Button size="small" appearance="transparent" onClick={props.onDismissNotice ?? nothing}>
                        {localize("Inbox_Dismiss")}
                      </Button>
                    </MessageBarActions>
                  </MessageBar>
                ) : null}
                {view.problem ? (
                  <MessageBar intent={signIn ? "warning" : "error"} data-testid="inbox-problem">
                    <MessageBarBody>
                      <MessageBarTitle>{signIn ? localize("Inbox_SignIn") : localize("Inbox_Problem")}</MessageBarTitle>
                      {signIn ? null : problemText(view.problem)}
                    </MessageBarBody>
                    <MessageBarActions>
                      <Button size="small" onClick={(signIn ? props.onSignIn : props.onRefresh) ?? nothing}>
                        {signIn ? localize("Inbox_SignInButton") : localize("Inbox_TryAgain")}
                      </Button>
                    </MessageBarActions>
                  </MessageBar>
                ) : null}
              </div>
            ) : null}
            {view.loading ? (
              <div className={styles.center}>
                <Spinner size="small" label={localize("Inbox_Loading")} />
              </div>
            ) : view.rows.length === 0 ? (
              view.problem ? null : (
                <p className={styles.empty} data-testid="inbox-empty">
                  {localize(`Inbox_Empty_${view.state}`)}
                </p>
              )
            ) : (
              <ul className={styles.list} aria-label={localize("Inbox_List")} {...arrows}>
                {view.rows.map((row) => (
                  <ConversationRow key={row.customerId} row={row} now={props.now} clock={props.clock} onPick={props.onPick ?? nothing} />
                ))}
                {view.next ? (
                  <li className={styles.more} style={{ listStyleType: "none" }}>
                    <Button onClick={props.onLoadMore ?? nothing} disabled={view.loadingMore}>
                      {view.loadingMore ? localize("Inbox_LoadingMore") : localize("Inbox_LoadMore")}
                    </Button>
                  </li>
                ) : null}
              </ul>
            )}
          </>
        )}
      </div>
    </FluentProvider>
  );
});
