import type { MediaInfo } from "../api/contract";

/** Keep a URL that still has this long to live; a shorter one is replaced by the fresher answer. */
const MIN_REMAINING_MS = 5 * 60_000;

/** When a read URL stops working: the SAS `se` parameter; undefined when the URL carries none. */
export function urlExpiresAt(url: string): Date | undefined {
  try {
    const expiry = new URL(url).searchParams.get("se");
    if (!expiry) return undefined;
    const at = new Date(expiry);
    return Number.isNaN(at.getTime()) ? undefined : at;
  } catch {
    return undefined;
  }
}

/**
 * Every history read hands out a fresh read URL for a stored file. Swapping the `src` of an image on
 * every poll would download it again each time, so the URL already shown stays while it is valid for
 * the same file.
 */
export function keepStillValidMediaUrl(
  held: MediaInfo | null | undefined,
  incoming: MediaInfo | null | undefined,
  now: Date,
): MediaInfo | null | undefined {
  if (!held?.url || !incoming?.url || held.url === incoming.url) return incoming;
  if (!held.blobName || held.blobName !== incoming.blobName) return incoming;
  const expires = urlExpiresAt(held.url);
  if (!expires || expires.getTime() - now.getTime() < MIN_REMAINING_MS) return incoming;
  return { ...incoming, url: held.url };
}
