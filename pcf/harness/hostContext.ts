/**
 * What D365 passes both controls about the user, as the harness pages pretend it: their strings file
 * (`context.resources`, from the control's own .resx of the user's language) and their user settings
 * (language, time zone, date and time patterns). Query: lang=de (a German user: WhatsApp*.1031.resx,
 * dd.MM.yyyy and HH:mm), tzOffset=120 (minutes ahead of UTC), timeFormat=h:mm tt, dateFormat=M/d/yyyy.
 * Without lang, an English user with the UK's patterns (dd/MM/yyyy, HH:mm).
 */

/** A .resx file's entries, name to text, as the platform reads them. */
export function resxEntries(xml: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const match of xml.matchAll(/<data name="([^"]+)"[^>]*>\s*<value>([\s\S]*?)<\/value>/g)) {
    const text = (match[2] ?? "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
    entries.set(match[1] ?? "", text);
  }
  return entries;
}

const PATTERNS = {
  de: { languageId: 1031, shortDatePattern: "dd.MM.yyyy", shortTimePattern: "HH:mm", longTimePattern: "HH:mm:ss", dateSeparator: ".", amDesignator: "", pmDesignator: "" },
  en: { languageId: 1033, shortDatePattern: "dd/MM/yyyy", shortTimePattern: "HH:mm", longTimePattern: "HH:mm:ss", dateSeparator: "/", amDesignator: "AM", pmDesignator: "PM" },
} as const;

/** `context.resources` and `context.userSettings` for the page's query and the control's two strings files. */
export function hostContext(query: URLSearchParams, resx: { english: string; german: string }): { resources: { getString: (key: string) => string }; userSettings: unknown } {
  const language = query.get("lang") === "de" ? "de" : "en";
  const strings = resxEntries(language === "de" ? resx.german : resx.english);
  const { languageId, ...patterns } = PATTERNS[language];
  const timeFormat = query.get("timeFormat");
  return {
    // The platform answers the key itself for a name its strings file does not have.
    resources: { getString: (key: string) => strings.get(key) ?? key },
    userSettings: {
      userId: "{00000000-0000-0000-0000-000000000001}",
      languageId,
      ...(query.has("tzOffset") ? { getTimeZoneOffsetMinutes: () => Number(query.get("tzOffset")) } : {}),
      dateFormattingInfo: {
        ...patterns,
        timeSeparator: ":",
        ...(timeFormat ? { shortTimePattern: timeFormat, longTimePattern: timeFormat.replace("mm", "mm:ss") } : {}),
        ...(query.has("dateFormat") ? { shortDatePattern: query.get("dateFormat") } : {}),
      },
    },
  };
}
