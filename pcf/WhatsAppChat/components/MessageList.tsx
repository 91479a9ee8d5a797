import * as React from "react";
import { Button, Spinner, makeStyles, tokens } from "@fluentui/react-components";
import type { ChatMessage } from "../api/contract";
import { ClockContext, dayLabel, startsNewDay } from "../model/time";
import { EDGE } from "./edges";
import { localize } from "../strings/strings";
import { MessageBubble } from "./MessageBubble";

const useStyles = makeStyles({
  list: {
    flexGrow: 1,
    minHeight: 0,
    overflowY: "auto",
    // No browser scroll anchoring: it moves the list when rows above grow, and that scroll would read
    // as the agent leaving the bottom; the list keeps the bottom itself (keepBottom below).
    overflowAnchor: "none",
    padding: "8px 10px",
    // The wallpaper: a step darker than the bubbles in every theme.
    backgroundColor: tokens.colorNeutralBackground3,
    display: "flex",
    flexDirection: "column",
  },
  older: { alignSelf: "center", marginBottom: "6px" },
  day: {
    alignSelf: "center",
    margin: "8px 0 4px",
    padding: "2px 10px",
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: tokens.colorNeutralBackground1,
    color: tokens.colorNeutralForeground3,
    fontSize: tokens.fontSizeBase200,
    boxShadow: tokens.shadow2,
    border: EDGE,
  },
  empty: { margin: "auto", color: tokens.colorNeutralForeground3, textAlign: "center", padding: "12px" },
  frame: { position: "relative", flexGrow: 1, minHeight: 0, display: "flex", flexDirection: "column" },
  unseen: {
    display: "flex",
    alignItems: "center",
    gap: "8px",
    margin: "8px 0",
    color: tokens.colorBrandForeground1,
    fontSize: tokens.fontSizeBase200,
    fontWeight: tokens.fontWeightSemibold,
    "::before": { content: '""', flexGrow: 1, borderTop: `1px solid ${tokens.colorBrandStroke1}` },
    "::after": { content: '""', flexGrow: 1, borderTop: `1px solid ${tokens.colorBrandStroke1}` },
  },
  jump: { position: "absolute", right: "16px", bottom: "12px", boxShadow: tokens.shadow8 },
});

export interface MessageListProps {
  /** Oldest first. */
  messages: readonly ChatMessage[];
  now: Date;
  loaded: boolean;
  /** The last load failed (the notice above says why): nothing is on its way. */
  loadFailed?: boolean;
  hasOlder: boolean;
  loadingOlder: boolean;
  onLoadOlder: () => void;
  /** The agent may react to the customer's messages (the window is open). */
  onReact?: (messageId: string, emoji: string) => void;
  /** The message a reaction is on its way to. */
  reactingTo?: string;
  /** A message WhatsApp did not deliver, back to the composer (the window is open). */
  onResend?: (message: ChatMessage) => void;
}

const NEAR_BOTTOM_PX = 80;
/** How long a message scrolled to from a reply keeps its ring. */
const HIGHLIGHT_MS = 1_600;

/** The chat history, oldest at the top; it follows new messages while the agent reads the bottom. */
export function MessageList({ messages, now, loaded, loadFailed, hasOlder, loadingOlder, onLoadOlder, onReact, reactingTo, onResend }: MessageListProps): React.ReactElement {
  const styles = useStyles();
  const clock = React.useContext(ClockContext);
  const list = React.useRef<HTMLDivElement>(null);
  const atBottom = React.useRef(true);
  const heightBefore = React.useRef<number | undefined>(undefined);
  const newestId = messages[messages.length - 1]?.id;
  const oldestId = messages[0]?.id;
  const byId = React.useMemo(() => new Map(messages.map((message) => [message.id, message])), [messages]);
  const [highlighted, setHighlighted] = React.useState<string | undefined>(undefined);
  // The first message that arrived while the agent was reading further up: a divider above it and a
  // button to jump down, until the agent reaches the bottom.
  const [unseenFrom, setUnseenFrom] = React.useState<string | undefined>(undefined);
  const seenNewest = React.useRef(newestId);

  // A click on a reply's quote: bring the quoted message into view and ring it for a moment.
  const showMessage = React.useCallback((id: string): void => {
    const container = list.current;
    const element = container?.querySelector<HTMLElement>(`[data-message-id="${CSS.escape(id)}"]`);
    if (!container || !element) return;
    // Scroll the list only (scrollIntoView would scroll the D365 form around it too).
    const box = element.getBoundingClientRect();
    const listBox = container.getBoundingClientRect();
    container.scrollBy({ top: box.top - listBox.top - (container.clientHeight - box.height) / 2, behavior: "smooth" });
    setHighlighted(id);
  }, []);

  // Set while a scroll of ours to the bottom has not yet been heard: a browser reports a scroll
  // asynchronously, and a photo that loads meanwhile made the list taller, so measuring then would
  // read the agent as having left the bottom (and stop following). Our own scroll is not the agent's.
  const pinned = React.useRef(false);
  const toBottom = React.useCallback((element: HTMLDivElement): void => {
    if (Math.abs(element.scrollHeight - element.clientHeight - element.scrollTop) < 1) return;
    pinned.current = true;
    element.scrollTop = element.scrollHeight;
  }, []);

  const resizes = React.useRef<ResizeObserver | undefined>(undefined);
  // A photo that finishes loading makes the list taller: stay at the bottom if the agent was there.
  // (`load` does not bubble, but a listener on the list's capture phase hears every image in it.) A
  // layout effect, so a photo from the cache that loads right after the list mounts is heard too.
  React.useLayoutEffect(() => {
    const element = list.current;
    if (!element) return undefined;
    const keepBottom = (): void => {
      if (atBottom.current && heightBefore.current === undefined) toBottom(element);
    };
    element.addEventListener("load", keepBottom, true);
    // The list got shorter (a notice above it, a taller composer): the newest message stays in view.
    // Every row is watched too: a photo that had loaded before the listener was there (from the
    // cache, on a slow machine) still grows its row, and a row that grows keeps the bottom in view.
    const resized = typeof ResizeObserver === "undefined" ? undefined : new ResizeObserver(keepBottom);
    resized?.observe(element);
    resizes.current = resized;
    return () => {
      element.removeEventListener("load", keepBottom, true);
      resized?.disconnect();
      resizes.current = undefined;
    };
  }, [toBottom]);

  React.useEffect(() => {
    const element = list.current;
    const resized = resizes.current;
    if (!element || !resized) return;
    for (const row of Array.from(element.children)) resized.observe(row);
  }, [messages]);

  React.useEffect(() => {
    if (highlighted === undefined) return undefined;
    const timer = window.setTimeout(() => setHighlighted(undefined), HIGHLIGHT_MS);
    return () => window.clearTimeout(timer);
  }, [highlighted]);

  const rememberPosition = (): void => {
    const element = list.current;
    if (element && pinned.current) {
      pinned.current = false; // the echo of our scroll: still following; catch up with any growth
      if (atBottom.current) toBottom(element);
      return;
    }
    if (element) atBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < NEAR_BOTTOM_PX;
    if (atBottom.current && unseenFrom !== undefined) setUnseenFrom(undefined);
  };

  const jumpToNewest = (): void => {
    const element = list.current;
    if (element) element.scrollTop = element.scrollHeight;
    atBottom.current = true;
    setUnseenFrom(undefined);
  };

  // A newer message arrived while the agent was reading further up: remember where the new ones start.
  React.useEffect(() => {
    const before = seenNewest.current;
    seenNewest.current = newestId;
    if (before === undefined || newestId === undefined || before === newestId || atBottom.current || unseenFrom !== undefined) return;
    const index = messages.findIndex((message) => message.id === before);
    const first = index >= 0 ? messages[index + 1] : undefined;
    if (first) setUnseenFrom(first.id);
  }, [newestId, messages, unseenFrom]);

  const loadOlder = (): void => {
    heightBefore.current = list.current?.scrollHeight;
    onLoadOlder();
  };

  React.useLayoutEffect(() => {
    const element = list.current;
    if (!element) return;
    if (heightBefore.current !== undefined) {
      // Older messages went in above: keep the ones the agent was reading where they were.
      element.scrollTop += element.scrollHeight - heightBefore.current;
      heightBefore.current = undefined;
    } else if (atBottom.current) {
      toBottom(element);
    }
  }, [newestId, oldestId, messages.length, toBottom]);

  return (
    <div className={styles.frame}>
      <div className={styles.list} ref={list} onScroll={rememberPosition} role="log" aria-label={localize("List_Label")} aria-live="polite">
        {hasOlder && (
          <Button className={styles.older} size="small" appearance="secondary" onClick={loadOlder} disabled={loadingOlder}>
            {loadingOlder ? localize("List_LoadingOlder") : localize("List_ShowOlder")}
          </Button>
        )}
        {!loaded && !loadFailed && <Spinner className={styles.empty} size="small" label={localize("List_Loading")} />}
        {!loaded && loadFailed && <div className={styles.empty}>{localize("List_NotLoaded")}</div>}
        {loaded && messages.length === 0 && <div className={styles.empty}>{localize("List_Empty")}</div>}
        {messages.map((message, index) => (
          <React.Fragment key={message.id}>
            {message.id === unseenFrom && (
              <div className={styles.unseen} role="separator" data-unseen-divider="">
                {localize("List_NewMessages")}
              </div>
            )}
            {startsNewDay(messages[index - 1]?.timestamp, message.timestamp, clock) && (
              <div className={styles.day} role="separator">
                {dayLabel(message.timestamp, now, clock)}
              </div>
            )}
            <MessageBubble
              message={message}
              quotedMessage={message.quoted ? byId.get(message.quoted.id) : undefined}
              onShowMessage={showMessage}
              highlighted={highlighted === message.id}
              onReact={onReact}
              reacting={reactingTo !== undefined}
              onResend={onResend}
            />
          </React.Fragment>
        ))}
      </div>
      {unseenFrom !== undefined && (
        <Button
          className={styles.jump}
          size="small"
          appearance="primary"
          shape="circular"
          icon={<span aria-hidden="true">↓</span>}
          onClick={jumpToNewest}
          data-jump-newest=""
        >
          {localize("List_NewMessages")}
        </Button>
      )}
    </div>
  );
}
