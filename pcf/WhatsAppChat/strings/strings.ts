import { stringCatalog } from "./catalog";
import { ENGLISH } from "./english";

/** The panel's English words: the fallback where the platform's strings file has none. */
export const DEFAULT_STRINGS = ENGLISH;

export type StringKey = keyof typeof ENGLISH;

const catalog = stringCatalog<StringKey>(ENGLISH);

/**
 * Takes the words from the platform's strings file (PCF's `context.resources.getString`), keeping the
 * English one where it answers nothing (or the key itself, as it does for a name it does not know).
 */
export const loadStrings = catalog.load;

/** The word for `key`, with `{0}`, `{1}`… filled in. */
export const localize = catalog.localize;
