import * as React from "react";
import { Link, makeStyles, mergeClasses, tokens } from "@fluentui/react-components";
import type { ChatMessage } from "../api/contract";
import { bubbleContent, type BubbleContent } from "../model/content";
import { deliveryOf, failureReason } from "../model/delivery";
import { timeOfDay } from "../model/time";
import { DeliveryTicks } from "./DeliveryTicks";

const useStyles = makeStyles({
  row: { display: "flex", margin: "2px 0" },
  inboundRow: { justifyContent: "flex-start" },
  outboundRow: { justifyContent: "flex-end" },
  bubble: {
    maxWidth: "78%",
    padding: "6px 9px 4px",
    borderRadius: tokens.borderRadiusLarge,
    boxShadow: tokens.shadow2,
    whiteSpace: "pre-wrap",
    overflowWrap: "anywhere",
    fontSize: tokens.fontSizeBase300,
    lineHeight: tokens.lineHeightBase300,
  },
  inbound: { backgroundColor: tokens.colorNeutralBackground1, borderTopLeftRadius: "2px" },
  outbound: { backgroundColor: "#d9fdd3", color: "#111b21", borderTopRightRadius: "2px" },
  failedBubble: { outline: `1px solid ${tokens.colorPaletteRedBorder2}` },
  meta: { display: "flex", justifyContent: "flex-end", alignItems: "center", gap: "2px", marginTop: "2px", fontSize: tokens.fontSizeBase100, color: tokens.colorNeutralForeground3 },
  image: { display: "block", maxWidth: "100%", maxHeight: "220px", borderRadius: tokens.borderRadiusMedium, marginBottom: "4px" },
  caption: { display: "block" },
  note: { fontStyle: "italic", color: tokens.colorNeutralForeground3 },
  failure: { marginTop: "4px", color: tokens.colorPaletteRedForeground1, fontSize: tokens.fontSizeBase200 },
});

function Content({ content }: { content: BubbleContent }): React.ReactElement {
  const styles = useStyles();
  const caption = "caption" in content && content.caption ? <span className={styles.caption}>{content.caption}</span> : null;
  switch (content.type) {
    case "text":
      return <span>{content.text}</span>;
    case "image":
      return (
        <>
          <a href={content.url} target="_blank" rel="noreferrer">
            <img className={styles.image} src={content.url} alt={content.alt} />
          </a>
          {caption}
        </>
      );
    case "download":
      return (
        <>
          <Link href={content.url} target="_blank" rel="noreferrer" download>
            ↓ {content.label}
          </Link>
          {caption}
        </>
      );
    case "media-pending":
      return (
        <>
          <span className={styles.note}>{content.label} (fetching the file from WhatsApp…)</span>
          {caption}
        </>
      );
    case "media-unavailable":
      return (
        <>
          <span className={styles.note}>{content.label}: no longer available from WhatsApp.</span>
          {caption}
        </>
      );
    case "note":
      return <span className={styles.note}>{content.text}</span>;
  }
}

/** One message: the customer's on the left, the business's on the right, with its time and ticks. */
export function MessageBubble({ message }: { message: ChatMessage }): React.ReactElement {
  const styles = useStyles();
  const inbound = message.direction === "inbound";
  const delivery = deliveryOf(message);
  const reason = failureReason(message);
  return (
    <div className={mergeClasses(styles.row, inbound ? styles.inboundRow : styles.outboundRow)} data-message-id={message.id} data-direction={message.direction}>
      <div className={mergeClasses(styles.bubble, inbound ? styles.inbound : styles.outbound, reason !== undefined && styles.failedBubble)}>
        <Content content={bubbleContent(message)} />
        {reason !== undefined && (
          <div className={styles.failure} role="note">
            Not delivered: {reason}
          </div>
        )}
        <div className={styles.meta}>
          <time dateTime={message.timestamp}>{timeOfDay(message.timestamp)}</time>
          <DeliveryTicks delivery={delivery} />
        </div>
      </div>
    </div>
  );
}
