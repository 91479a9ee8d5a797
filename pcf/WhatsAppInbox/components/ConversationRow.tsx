import * as React from "react";
import { Badge, CounterBadge, Text, makeStyles, mergeClasses, tokens } from "@fluentui/react-components";
import type { InboxConversation } from "../api/contract";
import { EDGE } from "../../WhatsAppChat/components/edges";
import { type Clock, fullMoment } from "../../WhatsAppChat/model/clock";
import { previewText, recordLabel, relativeTime, rowLabel, rowTitle } from "../model/rowView";
import { localize } from "../strings/strings";

const useStyles = makeStyles({
  item: { listStyleType: "none", margin: 0, padding: 0 },
  row: {
    display: "grid",
    gridTemplateColumns: "36px minmax(0, 1fr) auto",
    columnGap: "12px",
    rowGap: "2px",
    alignItems: "center",
    width: "100%",
    boxSizing: "border-box",
    padding: "10px 12px",
    border: "none",
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
    backgroundColor: tokens.colorNeutralBackground1,
    color: tokens.colorNeutralForeground1,
    textAlign: "left",
    font: "inherit",
    cursor: "pointer",
    ":hover": { backgroundColor: tokens.colorNeutralBackground1Hover },
    ":active": { backgroundColor: tokens.colorNeutralBackground1Pressed },
    ":focus-visible": { outline: `2px solid ${tokens.colorStrokeFocus2}`, outlineOffset: "-2px" },
  },
  avatar: {
    gridRow: "1 / span 3",
    width: "36px",
    height: "36px",
    boxSizing: "border-box",
    borderRadius: tokens.borderRadiusCircular,
    // The circle stays visible in high contrast, where its background is the page's.
    border: EDGE,
    display: "flex",
    alignItems: "center",
    justifyContent: "center",
    backgroundColor: tokens.colorBrandBackground2,
    color: tokens.colorBrandForeground2,
    fontWeight: tokens.fontWeightSemibold,
    fontSize: tokens.fontSizeBase200,
    alignSelf: "start",
  },
  title: { overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap", fontSize: tokens.fontSizeBase300 },
  unreadTitle: { fontWeight: tokens.fontWeightSemibold },
  time: { fontSize: tokens.fontSizeBase200, color: tokens.colorNeutralForeground3, justifySelf: "end", whiteSpace: "nowrap" },
  unreadTime: { color: tokens.colorBrandForeground1, fontWeight: tokens.fontWeightSemibold },
  meta: { display: "flex", alignItems: "center", gap: "6px", minWidth: 0, flexWrap: "wrap" },
  record: { fontSize: tokens.fontSizeBase200, color: tokens.colorNeutralForeground2 },
  noRecord: { fontStyle: "italic", color: tokens.colorNeutralForeground3 },
  badgeCell: { justifySelf: "end", gridRow: "2 / span 2", gridColumn: "3", alignSelf: "center" },
  preview: {
    gridColumn: "2",
    overflow: "hidden",
    textOverflow: "ellipsis",
    whiteSpace: "nowrap",
    fontSize: tokens.fontSizeBase200,
    color: tokens.colorNeutralForeground2,
  },
  unreadPreview: { color: tokens.colorNeutralForeground1 },
});

/** The initials of a name, or the number's last two digits. */
export function initials(title: string): string {
  const words = title.replace(/[^\p{L}\p{N}\s]/gu, " ").trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return "?";
  if (/^\+?[\d\s]+$/.test(title)) return title.replace(/\D/g, "").slice(-2);
  return words
    .slice(0, 2)
    .map((word) => Array.from(word)[0]?.toUpperCase() ?? "")
    .join("");
}

export interface ConversationRowProps {
  row: InboxConversation;
  now: Date;
  /** The D365 user's time zone and patterns (empty: the browser's). */
  clock?: Clock;
  onPick: (row: InboxConversation) => void;
}

/** One conversation: who, their record (or none), the last message, when, unread and the window. */
export function ConversationRow({ row, now, clock, onPick }: ConversationRowProps): React.ReactElement {
  const styles = useStyles();
  const unread = row.unreadCount > 0;
  const title = rowTitle(row);
  return (
    <li className={styles.item}>
      <button
        type="button"
        className={styles.row}
        aria-label={rowLabel(row, now, clock)}
        data-customer={row.customerId}
        data-record={row.record ? `${row.record.entity}:${row.record.id}` : "none"}
        data-unread={row.unreadCount}
        onClick={() => onPick(row)}
      >
        <span className={styles.avatar} aria-hidden="true">
          {initials(title)}
        </span>
        <Text className={mergeClasses(styles.title, unread && styles.unreadTitle)}>{title}</Text>
        <span className={mergeClasses(styles.time, unread && styles.unreadTime)}>
          <time dateTime={row.lastMessage.at} title={fullMoment(row.lastMessage.at, clock)}>
            {relativeTime(row.lastMessage.at, now, clock)}
          </time>
        </span>
        <span className={styles.meta}>
          <span className={mergeClasses(styles.record, !row.record && styles.noRecord)} data-testid="record">
            {recordLabel(row)}
          </span>
          <Badge size="small" appearance="tint" shape="rounded" color={row.window.active ? "success" : "subtle"} data-window={row.window.active ? "open" : "closed"}>
            {localize(row.window.active ? "Inbox_WindowOpen" : "Inbox_WindowClosed")}
          </Badge>
        </span>
        <span className={styles.badgeCell}>
          {unread ? <CounterBadge count={row.unreadCount} overflowCount={99} color="brand" size="medium" data-testid="unread" /> : null}
        </span>
        <span className={mergeClasses(styles.preview, unread && styles.unreadPreview)}>{previewText(row)}</span>
      </button>
    </li>
  );
}
