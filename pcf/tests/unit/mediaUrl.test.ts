import { describe, expect, it } from "vitest";
import { keepStillValidMediaUrl, urlExpiresAt } from "../../WhatsAppChat/model/mediaUrl";
import { fresherCopy } from "../../WhatsAppChat/model/timeline";
import { NOW, message } from "./fixtures";

const blob = "outbound/2026/03/uuid/photo.png";
const sas = (expires: string): string =>
  `http://127.0.0.1:10000/devstoreaccount1/media/${blob}?st=2026-03-02T11%3A55%3A00Z&se=${encodeURIComponent(expires)}&sp=r&sig=abc`;

describe("image URLs across polls", () => {
  it("reads when a read URL expires", () => {
    expect(urlExpiresAt(sas("2026-03-02T13:00:00Z"))?.toISOString()).toBe("2026-03-02T13:00:00.000Z");
    expect(urlExpiresAt("https://example.com/photo.png")).toBeUndefined();
    expect(urlExpiresAt("not a url")).toBeUndefined();
  });

  it("keeps the URL already shown while it is valid, so the image is not downloaded on every poll", () => {
    const shown = { blobName: blob, url: sas("2026-03-02T13:00:00Z") };
    const fresh = { blobName: blob, url: sas("2026-03-02T13:00:05Z") };
    expect(keepStillValidMediaUrl(shown, fresh, NOW)?.url).toBe(shown.url);
  });

  it("takes the fresh URL when the shown one is about to expire", () => {
    const shown = { blobName: blob, url: sas("2026-03-02T12:03:00Z") };
    const fresh = { blobName: blob, url: sas("2026-03-02T13:00:05Z") };
    expect(keepStillValidMediaUrl(shown, fresh, NOW)?.url).toBe(fresh.url);
  });

  it("takes the fresh URL for another file, or one without an expiry", () => {
    expect(keepStillValidMediaUrl({ blobName: "a", url: sas("2026-03-02T13:00:00Z") }, { blobName: "b", url: "https://x/b" }, NOW)?.url).toBe("https://x/b");
    expect(keepStillValidMediaUrl({ blobName: blob, url: "https://x/a" }, { blobName: blob, url: "https://x/b" }, NOW)?.url).toBe("https://x/b");
  });

  it("applies when a poll merges a message with an image", () => {
    const shown = message({ id: "img", kind: "image", status: "delivered", media: { blobName: blob, url: sas("2026-03-02T13:00:00Z") } });
    const polled = { ...shown, status: "read" as const, media: { blobName: blob, url: sas("2026-03-02T13:00:05Z") } };
    const merged = fresherCopy(shown, polled, NOW);
    expect(merged.status).toBe("read");
    expect(merged.media?.url).toBe(shown.media?.url);
  });
});
