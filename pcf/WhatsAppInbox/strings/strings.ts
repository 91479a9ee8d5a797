import { stringCatalog } from "../../WhatsAppChat/strings/catalog";
import { ENGLISH } from "./english";

/** The inbox's English words: the fallback where the platform's strings file has none. */
export const DEFAULT_STRINGS = ENGLISH;

export type InboxStringKey = keyof typeof ENGLISH;

const catalog = stringCatalog<InboxStringKey>(ENGLISH);

/** Reads the platform's strings (`context.resources.getString`); undefined: the English table. */
export const loadInboxStrings = catalog.load;

/** The word for `key` with `{0}`, `{1}`… filled in; the English one when the platform has none. */
export const localize = catalog.localize;
