import { describe, expect, it } from "vitest";
import { ApiError } from "../../WhatsAppChat/api/apiError";
import type { Regarding, UploadResult } from "../../WhatsAppChat/api/contract";
import { PAGE_SIZE, POLL_SIZE } from "../../WhatsAppChat/chat/chatController";
import { INITIAL_STATE, canPoll, chatReducer } from "../../WhatsAppChat/chat/chatState";
import { canReply, replyWindow } from "../../WhatsAppChat/model/sessionWindow";
import { NOW, ids, inbound, message, page } from "./fixtures";
import { NEVER_WROTE, OPEN, ScriptedApi, panel } from "./scriptedApi";

describe("opening the panel", () => {
  it("loads the session and the newest page together", async () => {
    const api = new ScriptedApi();
    api.pages = [page([inbound({ id: "hello" })], "cursor-1")];
    const { controller, state } = panel(api);
    await controller.load();
    expect(api.asked).toEqual(["session", `messages limit=${PAGE_SIZE}`]);
    expect(ids(state().timeline)).toEqual(["hello"]);
    expect(state().olderCursor).toBe("cursor-1");
    expect(canReply(replyWindow(state().session, NOW))).toBe(true);
  });

  it("for a customer who never wrote, shows no composer", async () => {
    const api = new ScriptedApi();
    api.session_ = NEVER_WROTE;
    const { controller, state } = panel(api);
    await controller.load();
    expect(canReply(replyWindow(state().session, NOW))).toBe(false);
  });

  it("says in words when the API cannot be reached", async () => {
    const api = new ScriptedApi();
    api.session = () => Promise.reject(ApiError.client("network_unreachable", "Failed to fetch"));
    const { controller, state } = panel(api);
    await controller.load();
    expect(state().notice).toMatchObject({ title: "Can't reach the chat service.", detail: "Check your connection, then press Refresh." });
    expect(state().loading).toBe(false);
  });

  it("offers Sign in when Entra ID needs the agent, and loads the chat once they have signed in", async () => {
    const api = new ScriptedApi();
    const session = api.session.bind(api);
    api.session = (customer) => (api.signedIn ? session(customer) : Promise.reject(ApiError.client("sign_in_required", "interaction_required")));
    const { controller, state } = panel(api);
    await controller.load();
    expect(state().notice).toMatchObject({ title: "Sign in to use WhatsApp chat.", action: "sign_in" });
    await controller.signIn();
    expect(api.signedIn).toBe(true);
    expect(state().loaded).toBe(true);
    expect(state().notice).toBeUndefined();
  });

  it("says so when the sign-in popup was blocked", async () => {
    const api = new ScriptedApi();
    api.signIn = () => Promise.reject(ApiError.client("sign_in_popup_blocked", "popup_window_error"));
    const { controller, state } = panel(api);
    await controller.signIn();
    expect(state().notice?.title).toBe("The sign-in window was blocked.");
  });

  it("loads older messages above on request, until there are none", async () => {
    const api = new ScriptedApi();
    api.pages = [page([inbound({ id: "new", timestamp: "2026-03-02T11:00:00Z" })], "c1"), page([inbound({ id: "old", timestamp: "2026-03-01T11:00:00Z" })], null)];
    const { controller, state } = panel(api);
    await controller.load();
    await controller.loadOlder();
    expect(api.asked).toContain(`messages limit=${PAGE_SIZE} before=c1`);
    expect(ids(state().timeline)).toEqual(["new", "old"]);
    expect(state().olderCursor).toBeNull();
  });
});

describe("polling while the panel is visible", () => {
  it("costs one small request when nothing changed", async () => {
    const api = new ScriptedApi();
    const hello = inbound({ id: "hello", timestamp: "2026-03-02T09:00:00Z" });
    api.pages = [page([hello]), page([hello])];
    const { controller } = panel(api);
    await controller.load();
    api.asked.length = 0;
    await controller.poll();
    expect(api.asked).toEqual([`messages limit=${POLL_SIZE}`]);
  });

  it("shows the customer's new message and asks the session again, since the window moved", async () => {
    const api = new ScriptedApi();
    api.session_ = NEVER_WROTE;
    const { controller, state } = panel(api);
    await controller.load();
    api.session_ = OPEN;
    api.pages = [page([inbound({ id: "hi", timestamp: "2026-03-02T11:59:00Z" })])];
    await controller.poll();
    expect(ids(state().timeline)).toEqual(["hi"]);
    expect(canReply(replyWindow(state().session, NOW))).toBe(true);
  });

  it("brings the ticks forward on messages already shown", async () => {
    const api = new ScriptedApi();
    const reply = message({ id: "r", status: "sent", timestamp: "2026-03-02T09:00:00Z" });
    api.pages = [page([reply]), page([{ ...reply, status: "read" }])];
    const { controller, state } = panel(api);
    await controller.load();
    await controller.poll();
    expect(state().timeline[0]?.status).toBe("read");
  });

  it("asks only for what changed since the last answer when the API gives a poll cursor", async () => {
    const api = new ScriptedApi();
    const reply = message({ id: "r", status: "sent", timestamp: "2026-03-02T09:00:00Z" });
    api.pages = [
      { ...page([reply]), pollCursor: "1700000000" },
      { ...page([{ ...reply, status: "read" }]), pollCursor: "1700000005" },
      { ...page([]), pollCursor: "1700000005" },
    ];
    const { controller, state } = panel(api);
    await controller.load();
    await controller.poll();
    await controller.poll();
    expect(api.asked.slice(-2)).toEqual([
      `messages limit=${PAGE_SIZE} changedSince=1700000000`,
      `messages limit=${PAGE_SIZE} changedSince=1700000005`,
    ]);
    expect(state().timeline[0]?.status).toBe("read");
  });

  it("asks for a full page when more arrived than a poll holds", async () => {
    const api = new ScriptedApi();
    const burst = Array.from({ length: POLL_SIZE }, (_, i) => inbound({ id: `b${i}`, timestamp: `2026-03-02T11:${String(50 - i).padStart(2, "0")}:00Z` }));
    api.pages = [page([inbound({ id: "first", timestamp: "2026-03-02T09:00:00Z" })]), page(burst, "more"), page([...burst, inbound({ id: "gap" })], null)];
    const { controller, state } = panel(api);
    await controller.load();
    await controller.poll();
    expect(api.asked.slice(-3)).toEqual([`messages limit=${POLL_SIZE}`, `messages limit=${PAGE_SIZE}`, "session"]);
    expect(state().timeline.map((m) => m.id)).toContain("gap");
  });

  it("keeps a failed poll quiet until one works again", async () => {
    const api = new ScriptedApi();
    const { controller, state } = panel(api);
    await controller.load();
    const messages = api.messages.bind(api);
    api.messages = () => Promise.reject(ApiError.client("network_unreachable", "offline"));
    await controller.poll();
    expect(state().pollProblem).toMatchObject({ title: "Can't reach the chat service.", detail: "Check your connection; the panel keeps trying." });
    expect(state().notice).toBeUndefined();
    api.messages = messages;
    await controller.poll();
    expect(state().pollProblem).toBeUndefined();
  });
});

describe("sending", () => {
  it("shows the reply on the right at once and empties the box", async () => {
    const api = new ScriptedApi();
    const { controller, state, type } = panel(api);
    await controller.load();
    type("It ships today!");
    await controller.send();
    expect(api.sent).toEqual([{ type: "text", text: "It ships today!", clientMessageId: "pcf-1" }]);
    expect(state().timeline[0]).toMatchObject({ id: "pcf-1", direction: "outbound", status: "accepted" });
    expect(state().draft.text).toBe("");
  });

  it("keeps what was typed when the send fails, and says why", async () => {
    const api = new ScriptedApi();
    api.sendAnswers = [new ApiError(502, "whatsapp_unavailable", "WhatsApp could not be reached: 503.")];
    const { controller, state, type } = panel(api);
    await controller.load();
    type("Are you there?");
    await controller.send();
    expect(state().draft.text).toBe("Are you there?");
    expect(state().notice?.title).toBe("WhatsApp can't be reached right now.");
    expect(state().sending).toBe(false);
  });

  it("sends again with the same clientMessageId after an unclear failure, so the API never sends twice", async () => {
    const api = new ScriptedApi();
    api.sendAnswers = [new ApiError(504, "whatsapp_no_answer", "no answer", message({ id: "pcf-1", status: "accepted" }))];
    const { controller, state, type } = panel(api);
    await controller.load();
    type("Your refund is on its way");
    await controller.send();
    expect(state().timeline.map((m) => m.id)).toEqual(["pcf-1"]); // the API's stored copy shows
    await controller.send();
    expect(api.sent.map((c) => c.clientMessageId)).toEqual(["pcf-1", "pcf-1"]);
    expect(state().draft.text).toBe("");
  });

  it("a message changed after an unclear failure goes with a new clientMessageId, never the unclear attempt's", async () => {
    const api = new ScriptedApi();
    api.sendAnswers = [new ApiError(504, "whatsapp_no_answer", "no answer", message({ id: "pcf-1", status: "accepted" }))];
    const { controller, type } = panel(api, CONTACT);
    await controller.load();
    type("Your refund is on its way");
    await controller.send();
    type("Your refund is on its way (about 3 days)");
    await controller.send();
    expect(api.sent.map((c) => [c.clientMessageId, c.text])).toEqual([
      ["pcf-1", "Your refund is on its way"],
      ["pcf-2", "Your refund is on its way (about 3 days)"],
    ]);
  });

  it("compares what is sent, not how the draft was edited: a changed text keeping the old id still gets a new one", async () => {
    const api = new ScriptedApi();
    api.sendAnswers = [ApiError.client("timeout", "no answer within 60 s")];
    const { controller, state, type, dispatch } = panel(api, CONTACT);
    await controller.load();
    type("Hello");
    await controller.send();
    expect(state().draft.attemptId).toBe("pcf-1");
    // A change that bypasses editDraft (which would drop the id) keeps attemptId on the draft.
    dispatch({ type: "draftChanged", draft: { ...state().draft, text: "Hello again" } });
    await controller.send();
    expect(api.sent.map((c) => c.clientMessageId)).toEqual(["pcf-1", "pcf-2"]);
  });

  it("words client_message_id_reused should it come, checks the chat for the earlier attempt, and sends the new text with a new id", async () => {
    const api = new ScriptedApi();
    api.sendAnswers = [new ApiError(409, "client_message_id_reused", "clientMessageId pcf-1 was used before for a different message")];
    const { controller, state, type } = panel(api, CONTACT);
    await controller.load();
    type("Changed text");
    api.asked.length = 0;
    await controller.send();
    expect(state().notice).toMatchObject({ code: "client_message_id_reused", title: "An earlier attempt to send this message is still being checked." });
    expect(state().draft.text).toBe("Changed text");
    expect(api.asked).toEqual([`messages limit=${POLL_SIZE}`]); // the history, to show what became of the earlier one
    await controller.send();
    expect(api.sent.map((c) => c.clientMessageId)).toEqual(["pcf-1", "pcf-2"]);
  });

  it("shows WhatsApp's refusal on the stored message, and the next press is a new message", async () => {
    const api = new ScriptedApi();
    const refused = message({ id: "pcf-1", status: "failed", error: { code: 131026, title: "Message undeliverable" } });
    api.sendAnswers = [new ApiError(422, "rejected_by_whatsapp", "WhatsApp refused the message (code 131026): Message undeliverable", refused)];
    const { controller, state, type } = panel(api);
    await controller.load();
    type("Hello");
    await controller.send();
    expect(state().timeline[0]).toMatchObject({ id: "pcf-1", status: "failed" });
    expect(state().draft.text).toBe("Hello");
    await controller.send();
    expect(api.sent.map((c) => c.clientMessageId)).toEqual(["pcf-1", "pcf-2"]);
  });

  it("sends once however often Send is pressed while a send is on its way", async () => {
    const api = new ScriptedApi();
    const { controller, type } = panel(api);
    await controller.load();
    type("once");
    await Promise.all([controller.send(), controller.send(), controller.send()]);
    expect(api.sent).toHaveLength(1);
  });

  it("closes the window when the API says it closed, keeping the draft", async () => {
    const api = new ScriptedApi();
    api.sendAnswers = [new ApiError(409, "session_inactive", "This customer's 24-hour session has ended")];
    const { controller, state, type } = panel(api);
    await controller.load();
    type("Still there?");
    await controller.send();
    expect(canReply(replyWindow(state().session, NOW))).toBe(false);
    expect(state().notice?.title).toBe("You can only reply within 24 hours of the customer's last message.");
    expect(state().draft.text).toBe("Still there?");
  });

  it("says what is missing instead of calling the API with an empty message", async () => {
    const api = new ScriptedApi();
    const { controller, state } = panel(api);
    await controller.load();
    await controller.send();
    expect(api.sent).toHaveLength(0);
    expect(state().notice?.title).toBe("Type a message first.");
  });
});

describe("uploading a file", () => {
  const uploaded: UploadResult = {
    mediaUrl: "http://127.0.0.1:10000/devstoreaccount1/media/outbound/2026/03/u/receipt.pdf?sig=x",
    blobName: "outbound/2026/03/u/receipt.pdf",
    mimeType: "application/pdf",
    kind: "document",
    size: 1234,
    sha256: "ab",
    filename: "receipt.pdf",
  };

  it("fills the media URL box and sends the file as what it is", async () => {
    const api = new ScriptedApi();
    api.uploadAnswer = uploaded;
    const { controller, state, type } = panel(api);
    await controller.load();
    type("Your receipt");
    await controller.upload(new File(["%PDF"], "receipt.pdf"));
    expect(state().draft).toMatchObject({ mediaUrl: uploaded.mediaUrl, mediaType: "document", text: "Your receipt" });
    await controller.send();
    expect(api.sent[0]).toEqual({ type: "document", mediaUrl: uploaded.mediaUrl, caption: "Your receipt", filename: "receipt.pdf", clientMessageId: "pcf-1" });
  });

  it("says why WhatsApp cannot carry a refused file, keeping the text", async () => {
    const api = new ScriptedApi();
    api.uploadAnswer = new ApiError(415, "unsupported_media_type", "image/gif is not a type WhatsApp accepts.");
    const { controller, state, type } = panel(api);
    await controller.load();
    type("see attached");
    await controller.upload(new File(["GIF89a"], "cat.gif"));
    expect(state().notice?.title).toBe("WhatsApp can't carry this kind of file.");
    expect(state().draft).toMatchObject({ text: "see attached", mediaUrl: "" });
    expect(state().uploading).toBe(false);
  });

  it("refuses a sticker, which Send cannot carry", async () => {
    const api = new ScriptedApi();
    api.uploadAnswer = { ...uploaded, kind: "sticker", mimeType: "image/webp", filename: "smile.webp" };
    const { controller, state } = panel(api);
    await controller.load();
    await controller.upload(new File(["RIFF"], "smile.webp"));
    expect(state().notice?.title).toBe("Stickers can't be sent from the chat panel.");
    expect(state().draft.mediaUrl).toBe("");
  });
});

describe("another customer", () => {
  it("drops the answers of a controller stopped meanwhile", async () => {
    const api = new ScriptedApi();
    api.pages = [page([inbound({ id: "late" })])];
    const { controller, state } = panel(api);
    const loading = controller.load();
    controller.stop();
    await loading;
    expect(state().timeline).toEqual([]);
  });
});

const CONTACT: Regarding = { entity: "contact", id: "1b0c7d0e-5f2a-4c51-9f0e-6a3e2f1d2c11" };
const NOT_ALLOWED = (): ApiError =>
  new ApiError(403, "not_allowed", "You don't have access to this contact in Dynamics 365.");

describe("the record the panel sits on", () => {
  it("is named on every call: load, poll, older messages, upload and send (query and body alike)", async () => {
    const api = new ScriptedApi();
    api.pages = [page([inbound({ id: "hi", timestamp: "2026-03-02T09:00:00Z" })], "c1")];
    api.uploadAnswer = { mediaUrl: "https://x/p.png", blobName: "p.png", mimeType: "image/png", kind: "image", size: 1, sha256: "a", filename: "p.png" };
    const { controller, type } = panel(api, CONTACT);
    await controller.load();
    await controller.poll();
    await controller.loadOlder();
    await controller.upload(new File(["png"], "p.png"));
    type("Here it is");
    await controller.send();
    const named = "contact:1b0c7d0e-5f2a-4c51-9f0e-6a3e2f1d2c11";
    expect(api.records).toEqual([`session ${named}`, `messages ${named}`, `messages ${named}`, `messages ${named}`, `upload ${named}`, `send ${named}`]);
    expect(api.sent[0]?.regarding).toEqual(CONTACT);
  });

  it("is left out when the host names no record (the harness, dev mode)", async () => {
    const api = new ScriptedApi();
    const { controller, type } = panel(api);
    await controller.load();
    await controller.poll();
    type("Hi");
    await controller.send();
    expect(api.records).toEqual(["session -", "messages -", "messages -", "send -"]);
    expect(api.sent[0]).not.toHaveProperty("regarding");
  });
});

describe("a record the agent may not use (403 not_allowed)", () => {
  it("on opening: says why in the API's words instead of the chat, with nothing loading and no composer", async () => {
    const api = new ScriptedApi();
    api.session = () => Promise.reject(NOT_ALLOWED());
    const { controller, state } = panel(api, CONTACT);
    await controller.load();
    expect(state().refused).toMatchObject({
      code: "not_allowed",
      intent: "error",
      title: "You can't use WhatsApp chat on this record.",
      detail: expect.stringContaining("You don't have access to this contact in Dynamics 365.") as string,
    });
    expect(state()).toMatchObject({ loading: false, loaded: false, sending: false });
    expect(state().notice).toBeUndefined();
    expect(canReply(replyWindow(state().session, NOW))).toBe(false);
    expect(canPoll(state())).toBe(false);
  });

  it("after a poll is refused: what was shown goes, and the panel stops asking", async () => {
    const api = new ScriptedApi();
    api.pages = [{ ...page([inbound({ id: "hi", timestamp: "2026-03-02T09:00:00Z" })]), pollCursor: "1" }];
    const { controller, state } = panel(api, CONTACT);
    await controller.load();
    expect(canPoll(state())).toBe(true);
    api.messages = () => {
      api.asked.push("messages");
      return Promise.reject(NOT_ALLOWED());
    };
    await controller.poll();
    expect(state().refused?.title).toBe("You can't use WhatsApp chat on this record.");
    expect(state().timeline).toEqual([]);
    expect(state().pollProblem).toBeUndefined();
    const asked = api.asked.length;
    for (let i = 0; i < 5; i += 1) await controller.poll();
    expect(api.asked).toHaveLength(asked);
    expect(canPoll(state())).toBe(false);
  });

  it("a refused send says nothing was sent and keeps what was typed; Send, upload and older pages stay quiet", async () => {
    const api = new ScriptedApi();
    api.sendAnswers = [NOT_ALLOWED()];
    const { controller, state, type } = panel(api, CONTACT);
    await controller.load();
    type("Hello");
    await controller.send();
    expect(state().refused?.detail).toContain("Your message wasn't sent.");
    expect(state()).toMatchObject({ sending: false, draft: { text: "Hello" } });
    const calls = api.records.length;
    await controller.send();
    await controller.upload(new File(["png"], "p.png"));
    await controller.loadOlder();
    expect(api.records).toHaveLength(calls);
  });

  it("a poll answered after the refusal shows nothing", () => {
    let state = chatReducer(INITIAL_STATE, { type: "refused", notice: { intent: "error", title: "t", code: "not_allowed" } });
    state = chatReducer(state, { type: "polled", page: page([inbound({ id: "late" })]), now: NOW });
    expect(state.timeline).toEqual([]);
  });

  it("a Refresh that works (access granted meanwhile) brings the chat back", async () => {
    const api = new ScriptedApi();
    const session = api.session.bind(api);
    api.session = () => Promise.reject(NOT_ALLOWED());
    const { controller, state } = panel(api, CONTACT);
    await controller.load();
    api.session = session;
    await controller.load();
    expect(state().refused).toBeUndefined();
    expect(canPoll(state())).toBe(true);
  });
});

describe("the set-up and access-check outages (503)", () => {
  it("not_configured on opening says an administrator must finish set-up, and nothing spins", async () => {
    const api = new ScriptedApi();
    api.session = () => Promise.reject(new ApiError(503, "not_configured", "WHATSAPP_ACCESS_TOKEN is not set"));
    const { controller, state } = panel(api, CONTACT);
    await controller.load();
    expect(state().notice?.title).toBe("WhatsApp chat isn't fully set up yet.");
    expect(state()).toMatchObject({ loading: false, loadFailed: true });
    expect(state().refused).toBeUndefined();
  });

  it("access_check_unavailable on a poll is passing: the panel keeps polling", async () => {
    const api = new ScriptedApi();
    const { controller, state } = panel(api, CONTACT);
    await controller.load();
    const messages = api.messages.bind(api);
    api.messages = () => Promise.reject(new ApiError(503, "access_check_unavailable", "Dataverse did not answer"));
    await controller.poll();
    expect(state().pollProblem?.detail).toContain("The panel keeps trying.");
    expect(canPoll(state())).toBe(true);
    api.messages = messages;
    await controller.poll();
    expect(state().pollProblem).toBeUndefined();
  });
});
