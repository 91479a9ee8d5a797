import * as React from "react";
import { Badge, Button, Text, makeStyles, tokens } from "@fluentui/react-components";
import type { ReplyWindow } from "../model/sessionWindow";
import { remaining } from "../model/time";

const useStyles = makeStyles({
  header: {
    display: "flex",
    alignItems: "center",
    gap: "8px",
    padding: "8px 10px",
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
    backgroundColor: tokens.colorNeutralBackground2,
  },
  who: { display: "flex", flexDirection: "column", flexGrow: 1, flexBasis: 0, minWidth: 0 },
  phone: { color: tokens.colorNeutralForeground3, fontSize: tokens.fontSizeBase200 },
  // The opt-out badge goes under the number when the header has no room beside it.
  line: { display: "flex", alignItems: "center", columnGap: "6px", rowGap: "2px", flexWrap: "wrap", minWidth: 0 },
  fixed: { flexShrink: 0, whiteSpace: "nowrap" },
});

/** The header's notice about the customer's marketing choice (it matters for templates, not replies). */
export const MARKETING_OPT_OUT = {
  badge: "Opted out of marketing",
  detail: "The customer asked not to get marketing messages from this business. Replies in the chat are not affected.",
} as const;

function windowBadge(reply: ReplyWindow, now: Date, refused: boolean, loadFailed: boolean): { text: string; color: "success" | "danger" | "informative" } {
  if (refused) return { text: "Not available", color: "danger" };
  // A load that failed is over: nothing is being checked until Retry or Refresh.
  if (loadFailed && reply.state !== "open" && reply.state !== "closed") return { text: "Not loaded", color: "informative" };
  switch (reply.state) {
    case "open":
      return { text: reply.closesAt ? `Session open · ${remaining(now, reply.closesAt)} left` : "Session open", color: "success" };
    case "closed":
      return { text: "Session closed", color: "danger" };
    default:
      return { text: "Checking session…", color: "informative" };
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
          {customerName?.trim() || "WhatsApp"}
        </Text>
        <span className={styles.line}>
          <span className={styles.phone}>{customer}</span>
          {marketingOptOut && (
            <Badge className={styles.fixed} appearance="outline" color="informative" size="small" title={MARKETING_OPT_OUT.detail} data-marketing-opt-out="">
              {MARKETING_OPT_OUT.badge}
            </Badge>
          )}
        </span>
      </div>
      {devMode && (
        <Badge className={styles.fixed} appearance="outline" color="warning" title="Dev mode: a local API without sign-in">
          Dev
        </Badge>
      )}
      <Badge className={styles.fixed} appearance="tint" color={badge.color} data-window={refused ? "refused" : loadFailed && replyWindow.state !== "open" && replyWindow.state !== "closed" ? "not-loaded" : replyWindow.state}>
        {badge.text}
      </Badge>
      <Button className={styles.fixed} size="small" onClick={onRefresh} disabled={refreshing}>
        {refreshing ? "Refreshing…" : "Refresh"}
      </Button>
    </div>
  );
}
