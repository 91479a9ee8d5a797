import * as React from "react";
import { FluentProvider, webLightTheme } from "@fluentui/react-components";
import { describe, expect, it, vi } from "vitest";
import { NoticeBar } from "../../WhatsAppChat/components/NoticeBar";
import { PanelHeader, type PanelHeaderProps } from "../../WhatsAppChat/components/PanelHeader";
import { MessageList } from "../../WhatsAppChat/components/MessageList";
import { ApiError } from "../../WhatsAppChat/api/apiError";
import { INITIAL_STATE, chatReducer } from "../../WhatsAppChat/chat/chatState";
import { describeProblem } from "../../WhatsAppChat/model/problemWording";
import { byAttr, findAll, render, textOf } from "./markup";
import { NOW } from "./fixtures";

const header = (props: Partial<PanelHeaderProps>) =>
  render(<PanelHeader customer="15551234567" devMode={false} replyWindow={{ state: "unknown" }} now={NOW} refreshing={false} onRefresh={() => undefined} {...props} />);

describe("a load that failed", () => {
  const failed = chatReducer(chatReducer(INITIAL_STATE, { type: "loadStarted" }), {
    type: "loadFailed",
    notice: describeProblem(new ApiError(503, "store_unavailable", "down"), "loading"),
  });

  it("ends: nothing is loading, the reason is kept", () => {
    expect(failed.loading).toBe(false);
    expect(failed.loadFailed).toBe(true);
    expect(failed.notice?.code).toBe("store_unavailable");
  });

  it("never leaves the header at 'Checking session…'", () => {
    expect(textOf(header({}))).toContain("Checking session…");
    const after = header({ loadFailed: true });
    expect(textOf(after)).not.toContain("Checking session…");
    expect(textOf(after)).toContain("Not loaded");
    expect(byAttr(after, "data-window", "not-loaded")).toHaveLength(1);
  });

  it("shows no spinner in the list, and the error bar offers Retry", () => {
    // Rendered to HTML here: React says layout effects (the list's scrolling) do nothing on a server.
    const quiet = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const list = render(
      <FluentProvider theme={webLightTheme}>
        <MessageList messages={[]} now={NOW} loaded={false} loadFailed hasOlder={false} loadingOlder={false} onLoadOlder={() => undefined} />
      </FluentProvider>,
    );
    quiet.mockRestore();
    expect(byAttr(list, "role", "progressbar")).toHaveLength(0);
    expect(textOf(list)).toContain("The chat isn't loaded.");
    const bar = render(<NoticeBar notice={failed.notice!} onRetry={() => undefined} />);
    const buttons = findAll(bar, (element) => element.tag === "button").map(textOf);
    expect(buttons).toContain("Retry");
  });
});
