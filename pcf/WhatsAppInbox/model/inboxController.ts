import { ApiError } from "../../WhatsAppChat/api/apiError";
import type { InboxConversation, InboxPage, InboxState } from "../api/contract";
import { inboxFingerprint, nextPollDelay } from "./polling";
import { localize } from "../strings/strings";
import { type PickOutcome, pickOutcome } from "./rowView";

export const PAGE_SIZE = 25;
const MAX_LIMIT = 100;

export interface InboxView {
  state: InboxState;
  rows: InboxConversation[];
  next: string | null;
  /** The first page of this tab is on its way (nothing to show yet). */
  loading: boolean;
  loadingMore: boolean;
  refreshing: boolean;
  problem?: ApiError;
  /** Said after picking a conversation with no linked record (or when the form did not open). */
  notice?: string;
}

export interface InboxSource {
  conversations(page: { state: InboxState; limit: number; next?: string }): Promise<InboxPage>;
}

/** What opening a form needs from the host: `context.navigation.openForm`. */
export interface FormOpener {
  openForm(options: { entityName: string; entityId: string }): Promise<unknown>;
}

export interface Scheduler {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Scheduler = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Newest activity first, as the API orders them; one row per customer. */
function merged(first: InboxConversation[], rest: InboxConversation[]): InboxConversation[] {
  const seen = new Set(first.map((row) => row.customerId));
  return [...first, ...rest.filter((row) => !seen.has(row.customerId))].sort((a, b) => b.lastMessage.at.localeCompare(a.lastMessage.at));
}

function asApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : ApiError.client("unexpected_answer", error instanceof Error ? error.message : String(error));
}

/**
 * The inbox's logic without React: the tab, the rows and `next`, loading more, polling (only while
 * visible, at once on coming back, backing off while nothing changes) and what a pick does.
 */
export class InboxController {
  private view: InboxView;
  private generation = 0;
  private timer: unknown;
  private quietPolls = 0;
  private visible = true;
  private disposed = false;

  constructor(
    private readonly api: InboxSource,
    private readonly pollIntervalMs: number,
    private readonly onChange: (view: InboxView) => void,
    initialState: InboxState,
    private readonly timers: Scheduler = realTimers,
  ) {
    this.view = { state: initialState, rows: [], next: null, loading: true, loadingMore: false, refreshing: false };
  }

  get current(): InboxView {
    return this.view;
  }

  /** How many polls in a row changed nothing (the back-off). */
  get quiet(): number {
    return this.quietPolls;
  }

  start(): Promise<void> {
    return this.load();
  }

  /** Another tab: its first page, from scratch. */
  setFilter(state: InboxState): Promise<void> {
    if (state === this.view.state && !this.view.problem) return Promise.resolve();
    this.update({ state, rows: [], next: null, loading: true, notice: undefined, problem: undefined });
    return this.load();
  }

  /** Refresh (the button, a poll, coming back into view): the rows shown so far, asked again. */
  async refresh(reason: "agent" | "poll" = "agent"): Promise<void> {
    if (this.view.loading) return;
    if (reason === "agent") this.quietPolls = 0;
    const generation = this.generation;
    const state = this.view.state;
    const limit = Math.min(MAX_LIMIT, Math.max(PAGE_SIZE, this.view.rows.length));
    this.update({ refreshing: true });
    try {
      const page = await this.api.conversations({ state, limit });
      if (generation !== this.generation || this.disposed) return;
      const before = inboxFingerprint(this.view.rows);
      // More than one request's worth shown: the older ones stay, and so does their `next`.
      const keepOlder = this.view.rows.length > limit;
      const rows = keepOlder ? merged(page.conversations, this.view.rows.slice(limit)) : page.conversations;
      const changed = inboxFingerprint(rows) !== before;
      this.quietPolls = changed ? 0 : this.quietPolls + 1;
      this.update({ rows, next: keepOlder ? this.view.next : page.next, refreshing: false, problem: undefined });
    } catch (error) {
      if (generation !== this.generation || this.disposed) return;
      this.quietPolls += 1;
      this.update({ refreshing: false, problem: asApiError(error) });
    }
    this.schedule();
  }

  /** The next page, after the rows shown. */
  async loadMore(): Promise<void> {
    const next = this.view.next;
    if (!next || this.view.loadingMore || this.view.loading) return;
    this.quietPolls = 0;
    const generation = this.generation;
    this.update({ loadingMore: true });
    try {
      const page = await this.api.conversations({ state: this.view.state, limit: PAGE_SIZE, next });
      if (generation !== this.generation || this.disposed) return;
      const seen = new Set(this.view.rows.map((row) => row.customerId));
      const rows = [...this.view.rows, ...page.conversations.filter((row) => !seen.has(row.customerId))];
      this.update({ rows, next: page.next, loadingMore: false, problem: undefined });
    } catch (error) {
      if (generation !== this.generation || this.disposed) return;
      this.update({ loadingMore: false, problem: asApiError(error) });
    }
  }

  /** The inbox came on screen (poll at once) or went off it (stop polling). */
  setVisible(visible: boolean): void {
    const cameBack = visible && !this.visible;
    this.visible = visible;
    if (!visible) {
      this.cancel();
      return;
    }
    if (cameBack) {
      this.quietPolls = 0;
      void this.refresh("poll");
    }
  }

  /** The window got focus: the agent is back, ask at once. */
  focused(): void {
    if (!this.visible) return;
    this.quietPolls = 0;
    void this.refresh("poll");
  }

  /** Picking a conversation: its contact or lead's form, or a word that it has none. */
  async pick(row: InboxConversation, navigation: FormOpener | undefined): Promise<PickOutcome> {
    this.quietPolls = 0;
    const outcome = pickOutcome(row);
    if ("noRecord" in outcome) {
      this.update({ notice: outcome.noRecord });
      return outcome;
    }
    this.update({ notice: undefined });
    if (!navigation) {
      this.update({ notice: localize("Inbox_OpenFailed", localize("Inbox_NoNavigation")) });
      return outcome;
    }
    try {
      await navigation.openForm(outcome.open);
    } catch (error) {
      this.update({ notice: localize("Inbox_OpenFailed", error instanceof Error ? error.message : String(error)) });
    }
    return outcome;
  }

  dismissNotice(): void {
    this.update({ notice: undefined });
  }

  dispose(): void {
    this.disposed = true;
    this.cancel();
  }

  private async load(): Promise<void> {
    const generation = ++this.generation;
    this.cancel();
    this.quietPolls = 0;
    try {
      const page = await this.api.conversations({ state: this.view.state, limit: PAGE_SIZE });
      if (generation !== this.generation || this.disposed) return;
      this.update({ rows: page.conversations, next: page.next, loading: false, problem: undefined });
    } catch (error) {
      if (generation !== this.generation || this.disposed) return;
      this.update({ loading: false, problem: asApiError(error) });
    }
    this.schedule();
  }

  private schedule(): void {
    this.cancel();
    if (!this.visible || this.disposed || this.pollIntervalMs <= 0) return;
    const problem = this.view.problem?.code;
    // Polling cannot help these: the agent must sign in, or someone must fix the setup or the access.
    if (problem === "sign_in_required" || problem === "sign_in_failed" || problem === "forbidden" || problem === "not_allowed") return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      void this.refresh("poll");
    }, nextPollDelay(this.pollIntervalMs, this.quietPolls));
  }

  private cancel(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private update(change: Partial<InboxView>): void {
    this.view = { ...this.view, ...change };
    if (!this.disposed) this.onChange(this.view);
  }
}
