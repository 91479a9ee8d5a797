import * as React from "react";
import { Badge, Button, Text, makeStyles, tokens } from "@fluentui/react-components";
import type { ReplyWindow } from "../model/sessionWindow";
import { remaining } from "../model/time";
import { localize } from "../strings/strings";

const useStyles = makeStyles({
  // The status and Refresh go under the name when the line has no room for both (longer words in
  // German, wider badges in high contrast): the name is not cut for them.
  header: {
    display: "flex",
    flexWrap: "wrap",
    alignItems: "center",
    columnGap: "8px",
    rowGap: "6px",
    padding: "8px 10px",
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
    backgroundColor: tokens.colorNeutralBackground2,
  },
  who: { display: "flex", flexDirection: "column", flexGrow: 1, flexShrink: 1, flexBasis: "auto", minWidth: "min(100%, max-content)" },
  status: { display: "flex", alignItems: "center", gap: "8px", marginLeft: "auto", flexShrink: 0 },
  phone: { color: tokens.colorNeutralForeground3, fontSize: tokens.fontSizeBase200 },
  // The opt-out badge goes under the number when the header has no room beside it.
  line: { display: "flex", alignItems: "center", columnGap: "6px", rowGap: "2px", flexWrap: "wrap", minWidth: 0 },
  fixed: { flexShrink: 0, whiteSpace: "nowrap" },
});

function windowBadge(reply: ReplyWindow, now: Date, refused: boolean, loadFailed: boolean): { text: string; color: "success" | "danger" | "informative" } {
  if (refused) return { text: localize("Header_NotAvailable"), color: "danger" };
  // A load that failed is over: nothing is being checked until Retry or Refresh.
  if (loadFailed && reply.state !== "open" && reply.state !== "closed") return { text: localize("Header_NotLoaded"), color: "informative" };
  switch (reply.state) {
    case "open":
      return { text: reply.closesAt ? localize("Header_SessionOpenFor", remaining(now, reply.closesAt)) : localize("Header_SessionOpen"), color: "success" };
    case "closed":
      return { text: localize("Header_SessionClosed"), color: "danger" };
    default:
      return { text: localize("Header_Checking"), color: "informative" };
  }
}

export interface PanelHeaderProps {
  customer: string;
  /** The record's name, when the form binds its name column: the header says who the chat is with. */
  customerName?: string;
  /** Talking to a local API without sign-in: said on screen, so it is never missed on a real form. */
  devMode: boolean;
  replyWindow: ReplyWindow;
  /** The API refused this record to this agent: no session to speak of. */
  refused?: boolean;
  /** The first load failed (the notice says why): no "Checking session…" while nothing is on its way. */
  loadFailed?: boolean;
  /** The customer opted out of marketing messages (the session answer's `marketingOptOut`). */
  marketingOptOut?: boolean;
  now: Date;
  refreshing: boolean;
  onRefresh: () => void;
}

/** Who the chat is with (and whether they opted out of marketing), whether the 24-hour session is open, and Refresh. */
export function PanelHeader({ customer, customerName, devMode, replyWindow, refused, loadFailed, marketingOptOut, now, refreshing, onRefresh }: PanelHeaderProps): React.ReactElement {
  const styles = useStyles();
  const badge = windowBadge(replyWindow, now, refused ?? false, loadFailed ?? false);
  return (
    <div className={styles.header}>
      <div className={styles.who}>
        <Text weight="semibold" truncate wrap={false} title={customerName?.trim() || undefined} data-customer-name={customerName?.trim() ? "" : undefined}>
          {customerName?.trim() || localize("Header_DefaultName")}
        </Text>
        <span className={styles.line}>
          <span className={styles.phone}>{customer}</span>
          {marketingOptOut && (
            <Badge className={styles.fixed} appearance="outline" color="informative" size="small" title={localize("Header_OptOutDetail")} data-marketing-opt-out="">
              {localize("Header_OptOut")}
            </Badge>
          )}
        </span>
      </div>
      <div className={styles.status}>
        {devMode && (
          <Badge className={styles.fixed} appearance="outline" color="warning" title={localize("Header_DevDetail")}>
            {localize("Header_Dev")}
          </Badge>
        )}
        <Badge className={styles.fixed} appearance="tint" color={badge.color} data-window={refused ? "refused" : loadFailed && replyWindow.state !== "open" && replyWindow.state !== "closed" ? "not-loaded" : replyWindow.state}>
          {badge.text}
        </Badge>
        <Button className={styles.fixed} size="small" onClick={onRefresh} disabled={refreshing}>
          {refreshing ? localize("Header_Refreshing") : localize("Header_Refresh")}
        </Button>
      </div>
    </div>
  );
}
