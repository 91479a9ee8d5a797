import * as React from "react";
import { Button, Link, makeStyles, mergeClasses, tokens } from "@fluentui/react-components";
import type { ChatMessage } from "../api/contract";
import {
  type BubbleContent,
  type QuotedSnippet,
  type ReactionChip,
  type ReferralCard,
  bubbleContent,
  isSystemLine,
  quotedSnippet,
  reactionChips,
  referralCard,
  referredProductLine,
  showsEdited,
  templateLabel,
} from "../model/content";
import { deliveryOf, failureReason } from "../model/delivery";
import { draftToResend } from "../model/draft";
import { agentReaction, canReactTo } from "../model/reactions";
import { ClockContext, fullMoment, timeOfDay } from "../model/time";
import { localize } from "../strings/strings";
import { DeliveryTicks } from "./DeliveryTicks";
import { EDGE, FORCED_COLORS } from "./edges";
import { REACT_VISIBLE, ReactionPicker } from "./ReactionPicker";

// Set per bubble (the customer's or ours): what sits inside takes them, so one style serves both.
const MUTED = "--wa-bubble-muted";
const LINK = "--wa-bubble-link";
const INSET = "--wa-bubble-inset";
const muted = `var(${MUTED})`;

const useStyles = makeStyles({
  row: { display: "flex", margin: "2px 0", ":hover": { [REACT_VISIBLE]: "1" }, ":focus-within": { [REACT_VISIBLE]: "1" } },
  inboundRow: { justifyContent: "flex-start" },
  outboundRow: { justifyContent: "flex-end" },
  // The bubble and the reaction chips under it.
  stack: { display: "flex", flexDirection: "column", maxWidth: "78%", minWidth: 0 },
  inboundStack: { alignItems: "flex-start" },
  outboundStack: { alignItems: "flex-end" },
  withReactions: { marginBottom: "10px" },
  bubble: {
    maxWidth: "100%",
    boxSizing: "border-box",
    padding: "6px 9px 4px",
    borderRadius: tokens.borderRadiusLarge,
    boxShadow: tokens.shadow2,
    // No shadow in high contrast: the edge shows instead.
    border: EDGE,
    whiteSpace: "pre-wrap",
    overflowWrap: "anywhere",
    fontSize: tokens.fontSizeBase300,
    lineHeight: tokens.lineHeightBase300,
    transitionProperty: "box-shadow",
    transitionDuration: tokens.durationSlow,
  },
  // WhatsApp's look in theme tokens: the customer's bubble neutral, ours the brand's tint.
  inbound: {
    backgroundColor: tokens.colorNeutralBackground1,
    color: tokens.colorNeutralForeground1,
    borderTopLeftRadius: "2px",
    [MUTED]: tokens.colorNeutralForeground3,
    [LINK]: tokens.colorBrandForegroundLink,
    [INSET]: tokens.colorNeutralBackground3,
  },
  outbound: {
    backgroundColor: tokens.colorBrandBackground2,
    color: tokens.colorNeutralForeground1,
    borderTopRightRadius: "2px",
    [MUTED]: tokens.colorNeutralForeground3,
    [LINK]: tokens.colorBrandForegroundLink,
    [INSET]: tokens.colorNeutralBackground1,
  },
  resend: { display: "block", marginTop: "4px" },
  failedBubble: { outline: `1px solid ${tokens.colorPaletteRedBorder2}` },
  highlighted: {
    boxShadow: `0 0 0 2px ${tokens.colorBrandStroke1}, ${tokens.shadow8}`,
    // Forced colours drop shadows: the ring becomes an outline.
    [FORCED_COLORS]: { outline: `2px solid ${tokens.colorStrokeFocus2}`, outlineOffset: "1px" },
  },
  meta: { display: "flex", justifyContent: "flex-end", alignItems: "center", gap: "2px", marginTop: "2px", fontSize: tokens.fontSizeBase100, color: muted },
  edited: { fontStyle: "italic", marginRight: "3px" },
  image: { display: "block", maxWidth: "100%", maxHeight: "220px", borderRadius: tokens.borderRadiusMedium, marginBottom: "4px" },
  caption: { display: "block" },
  link: { color: `var(${LINK})`, ":hover": { color: `var(${LINK})` } },
  note: { fontStyle: "italic", color: muted },
  deleted: { fontStyle: "italic", color: muted },
  deletedIcon: { marginRight: "4px", fontStyle: "normal" },
  failure: { marginTop: "4px", color: tokens.colorPaletteRedForeground1, fontSize: tokens.fontSizeBase200 },
  // The quoted message at the top of a reply, as WhatsApp draws it: a coloured bar on the left.
  quote: {
    display: "block",
    boxSizing: "border-box",
    width: "100%",
    minWidth: "140px",
    margin: "0 0 4px",
    padding: "4px 8px 5px",
    border: "none",
    borderLeft: "4px solid",
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: `var(${INSET})`,
    color: "inherit",
    font: "inherit",
    textAlign: "start",
    whiteSpace: "normal",
  },
  quoteButton: {
    cursor: "pointer",
    ":hover": { filter: "brightness(0.96)" },
    ":focus-visible": { outline: `2px solid ${tokens.colorStrokeFocus2}`, outlineOffset: "1px" },
  },
  // Who wrote the quoted message, in the palette's berry (the customer) or green (us).
  quoteCustomer: { borderLeftColor: tokens.colorPaletteBerryForeground1 },
  quoteBusiness: { borderLeftColor: tokens.colorPaletteGreenForeground1 },
  quoteAuthor: { display: "block", fontSize: tokens.fontSizeBase200, fontWeight: tokens.fontWeightSemibold, lineHeight: tokens.lineHeightBase200 },
  authorCustomer: { color: tokens.colorPaletteBerryForeground1 },
  authorBusiness: { color: tokens.colorPaletteGreenForeground1 },
  quoteText: {
    display: "-webkit-box",
    WebkitLineClamp: "2",
    WebkitBoxOrient: "vertical",
    overflow: "hidden",
    fontSize: tokens.fontSizeBase200,
    lineHeight: tokens.lineHeightBase200,
    color: muted,
  },
  quoteDeleted: { fontStyle: "italic" },
  quoteIcon: { marginRight: "4px" },
  // The click-to-WhatsApp ad the customer came from.
  referral: {
    display: "block",
    margin: "0 0 4px",
    padding: "5px 8px 6px",
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: `var(${INSET})`,
    border: EDGE,
    whiteSpace: "normal",
    fontSize: tokens.fontSizeBase200,
    lineHeight: tokens.lineHeightBase200,
  },
  referralTitle: { display: "block", fontWeight: tokens.fontWeightSemibold },
  referralBody: { display: "-webkit-box", WebkitLineClamp: "3", WebkitBoxOrient: "vertical", overflow: "hidden", color: muted, marginTop: "1px" },
  referralLink: { display: "inline-block", marginTop: "2px", fontSize: tokens.fontSizeBase200 },
  product: { display: "block", margin: "0 0 4px", fontSize: tokens.fontSizeBase200, color: muted, whiteSpace: "normal" },
  // "Template: order_update" above a template's text.
  templateLabel: {
    display: "flex",
    alignItems: "center",
    gap: "4px",
    margin: "0 0 3px",
    fontSize: tokens.fontSizeBase100,
    lineHeight: tokens.lineHeightBase100,
    fontWeight: tokens.fontWeightSemibold,
    color: muted,
    whiteSpace: "normal",
  },
  // Reaction chips, overlapping the bubble's lower edge as in WhatsApp.
  reactions: { display: "flex", flexWrap: "wrap", gap: "3px", marginTop: "-6px", padding: "0 8px", position: "relative" },
  chip: {
    display: "inline-flex",
    alignItems: "center",
    gap: "3px",
    padding: "0 6px",
    minHeight: "20px",
    borderRadius: tokens.borderRadiusCircular,
    border: `1px solid ${tokens.colorNeutralStroke2}`,
    backgroundColor: tokens.colorNeutralBackground1,
    color: tokens.colorNeutralForeground2,
    boxShadow: tokens.shadow2,
    fontSize: tokens.fontSizeBase200,
    lineHeight: "18px",
    cursor: "default",
  },
  chipCount: { fontSize: tokens.fontSizeBase100, fontWeight: tokens.fontWeightSemibold },
  // A WhatsApp system line: centred across the chat, nobody's bubble.
  systemRow: { display: "flex", justifyContent: "center", margin: "6px 0" },
  system: {
    maxWidth: "85%",
    padding: "3px 10px",
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: tokens.colorNeutralBackground1,
    color: tokens.colorNeutralForeground3,
    boxShadow: tokens.shadow2,
    border: EDGE,
    fontSize: tokens.fontSizeBase200,
    lineHeight: tokens.lineHeightBase200,
    fontStyle: "italic",
    textAlign: "center",
    overflowWrap: "anywhere",
  },
  systemTime: { fontStyle: "normal", marginLeft: "6px", fontSize: tokens.fontSizeBase100 },
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
          <Link className={styles.link} href={content.url} target="_blank" rel="noreferrer" download>
            ↓ {content.label}
          </Link>
          {caption}
        </>
      );
    case "media-pending":
      return (
        <>
          <span className={styles.note}>{localize("Bubble_Fetching", content.label)}</span>
          {caption}
        </>
      );
    case "media-unavailable":
      return (
        <>
          <span className={styles.note}>{localize("Bubble_Unavailable", content.label)}</span>
          {caption}
        </>
      );
    case "note":
      return <span className={styles.note}>{content.text}</span>;
    case "deleted":
      return (
        <span className={styles.deleted} data-deleted="">
          <span className={styles.deletedIcon} aria-hidden="true">
            ⊘
          </span>
          {content.text}
        </span>
      );
  }
}

/** The message a reply quotes; a button that goes to it when the panel holds it. */
function Quote({ snippet, onShow }: { snippet: QuotedSnippet; onShow?: (id: string) => void }): React.ReactElement {
  const styles = useStyles();
  const customer = snippet.direction === "inbound";
  const className = mergeClasses(styles.quote, customer ? styles.quoteCustomer : styles.quoteBusiness, onShow && styles.quoteButton);
  const inside = (
    <>
      <span className={mergeClasses(styles.quoteAuthor, customer ? styles.authorCustomer : styles.authorBusiness)} aria-hidden="true">
        {snippet.author}
      </span>
      <span className={mergeClasses(styles.quoteText, snippet.deleted && styles.quoteDeleted)} aria-hidden="true">
        {snippet.icon && <span className={styles.quoteIcon}>{snippet.icon}</span>}
        {snippet.text}
      </span>
    </>
  );
  if (onShow) {
    return (
      <button
        type="button"
        className={className}
        aria-label={localize("Quote_Show", snippet.label)}
        title={localize("Quote_ShowDetail")}
        data-quoted-id={snippet.id}
        onClick={() => onShow(snippet.id)}
      >
        {inside}
      </button>
    );
  }
  return (
    <div className={className} role="note" aria-label={snippet.label} data-quoted-id={snippet.id}>
      {inside}
    </div>
  );
}

function Referral({ card }: { card: ReferralCard }): React.ReactElement {
  const styles = useStyles();
  return (
    <div className={styles.referral} role="note" aria-label={card.title} data-referral="">
      <span className={styles.referralTitle}>{card.title}</span>
      {card.body && <span className={styles.referralBody}>{card.body}</span>}
      {card.link && (
        <Link className={mergeClasses(styles.link, styles.referralLink)} href={card.link.href} target="_blank" rel="noopener noreferrer">
          {card.link.text} ↗
        </Link>
      )}
    </div>
  );
}

function Reactions({ chips }: { chips: ReactionChip[] }): React.ReactElement {
  const styles = useStyles();
  return (
    <div className={styles.reactions} role="group" aria-label={localize("Bubble_Reactions")}>
      {chips.map((chip) => (
        <span key={chip.emoji} className={styles.chip} role="img" aria-label={chip.label} title={chip.label} data-reaction={chip.emoji} data-count={chip.count}>
          <span>{chip.emoji}</span>
          {chip.count > 1 && <span className={styles.chipCount}>{chip.count}</span>}
        </span>
      ))}
    </div>
  );
}

/** "The customer changed their number": centred, muted, with its time. */
function SystemLine({ message }: { message: ChatMessage }): React.ReactElement {
  const styles = useStyles();
  const clock = React.useContext(ClockContext);
  const content = bubbleContent(message);
  const text = content.type === "note" || content.type === "text" || content.type === "deleted" ? content.text : localize("Bubble_System");
  return (
    <div className={styles.systemRow} data-message-id={message.id} data-direction={message.direction} data-kind="system">
      <div className={styles.system} role="note">
        {text}
        <time className={styles.systemTime} dateTime={message.timestamp} title={fullMoment(message.timestamp, clock)}>
          {timeOfDay(message.timestamp, clock)}
        </time>
      </div>
    </div>
  );
}

export interface MessageBubbleProps {
  message: ChatMessage;
  /** The message this one quotes, when the panel holds it (a deletion since shows in the quote). */
  quotedMessage?: ChatMessage;
  /** Scrolls to a message the panel holds: a click on the quote goes to the quoted message. */
  onShowMessage?: (id: string) => void;
  /** Just scrolled to from a reply: drawn with a ring for a moment. */
  highlighted?: boolean;
  /** The agent may react (the window is open): a React button beside each customer message. */
  onReact?: (messageId: string, emoji: string) => void;
  /** A reaction is on its way (one at a time). */
  reacting?: boolean;
  /** A message WhatsApp did not deliver: put it back in the composer to send again (the window is open). */
  onResend?: (message: ChatMessage) => void;
}

/**
 * One message: the customer's on the left, the business's on the right, with its time and ticks;
 * what it replies to, the ad the customer came from, "edited", and its reactions. A deleted message
 * is a placeholder; a system message a centred line.
 */
export function MessageBubble({ message, quotedMessage, onShowMessage, highlighted, onReact, reacting, onResend }: MessageBubbleProps): React.ReactElement {
  const styles = useStyles();
  const clock = React.useContext(ClockContext);
  if (isSystemLine(message)) return <SystemLine message={message} />;
  const inbound = message.direction === "inbound";
  const deleted = message.deleted === true;
  const delivery = deleted ? "none" : deliveryOf(message);
  const reason = deleted ? undefined : failureReason(message);
  const quote = !deleted && message.quoted ? quotedSnippet(message.quoted, quotedMessage) : undefined;
  const referral = referralCard(message);
  const product = referredProductLine(message);
  const chips = reactionChips(message);
  const template = templateLabel(message);
  return (
    <div
      className={mergeClasses(styles.row, inbound ? styles.inboundRow : styles.outboundRow)}
      data-message-id={message.id}
      data-direction={message.direction}
      data-deleted={deleted ? "" : undefined}
      data-highlighted={highlighted ? "" : undefined}
    >
      <div className={mergeClasses(styles.stack, inbound ? styles.inboundStack : styles.outboundStack, chips.length > 0 && styles.withReactions)}>
        <div className={mergeClasses(styles.bubble, inbound ? styles.inbound : styles.outbound, reason !== undefined && styles.failedBubble, highlighted && styles.highlighted)}>
          {template && (
            <span className={styles.templateLabel} data-template-label={message.template?.name ?? ""}>
              <span aria-hidden="true">▤</span>
              {template}
            </span>
          )}
          {quote && <Quote snippet={quote} onShow={quotedMessage && onShowMessage ? onShowMessage : undefined} />}
          {referral && <Referral card={referral} />}
          {product && (
            <span className={styles.product} data-referred-product="">
              <span aria-hidden="true">🛍️ </span>
              {product}
            </span>
          )}
          <Content content={bubbleContent(message)} />
          {reason !== undefined && (
            <div className={styles.failure} role="note">
              {localize("Bubble_NotDelivered", reason)}
              {onResend && draftToResend(message) && (
                <Button size="small" appearance="secondary" className={styles.resend} onClick={() => onResend(message)} data-resend="">
                  {localize("Bubble_Resend")}
                </Button>
              )}
            </div>
          )}
          <div className={styles.meta}>
            {showsEdited(message) && (
              <span className={styles.edited} title={localize("Bubble_EditedDetail")} data-edited="">
                {localize("Bubble_Edited")}
              </span>
            )}
            <time dateTime={message.timestamp} title={fullMoment(message.timestamp, clock)}>
              {timeOfDay(message.timestamp, clock)}
            </time>
            <DeliveryTicks delivery={delivery} />
          </div>
        </div>
        {chips.length > 0 && <Reactions chips={chips} />}
      </div>
      {onReact && canReactTo(message) && <ReactionPicker current={agentReaction(message)} disabled={reacting} onChoose={(emoji) => onReact(message.id, emoji)} />}
    </div>
  );
}
