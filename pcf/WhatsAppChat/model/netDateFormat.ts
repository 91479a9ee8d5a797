/**
 * Dates and times written with the .NET custom format patterns D365 gives a user
 * (`context.userSettings.dateFormattingInfo`: "M/d/yyyy", "dd.MM.yyyy", "h:mm tt", "HH:mm"…), so the
 * panel writes them as the rest of D365 does for that user, not as the browser's locale would.
 * https://learn.microsoft.com/dotnet/standard/base-types/custom-date-and-time-format-strings
 */

/** What a pattern's separators and designators stand for, and the language of day and month names. */
export interface PatternSymbols {
  /** "/" in a pattern. */
  dateSeparator: string;
  /** ":" in a pattern. */
  timeSeparator: string;
  amDesignator: string;
  pmDesignator: string;
  /** BCP-47 language for day and month names (ddd, dddd, MMM, MMMM); undefined: the browser's. */
  locale?: string;
}

export const INVARIANT_SYMBOLS: PatternSymbols = { dateSeparator: "/", timeSeparator: ":", amDesignator: "AM", pmDesignator: "PM" };

type Token = { literal: string } | { field: string; length: number };

const FIELDS = new Set(["d", "M", "y", "h", "H", "m", "s", "t", "f", "F"]);

/** The pattern's fields (runs of one letter) and literal text (quoted, escaped, or any other character). */
export function tokenize(pattern: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern.charAt(i);
    if (c === "'" || c === '"') {
      // Quoted text, where a backslash still escapes (as .NET reads it).
      let text = "";
      i += 1;
      while (i < pattern.length && pattern.charAt(i) !== c) {
        if (pattern.charAt(i) === "\\" && i + 1 < pattern.length) i += 1;
        text += pattern.charAt(i);
        i += 1;
      }
      tokens.push({ literal: text });
      i += 1; // the closing quote
    } else if (c === "\\") {
      tokens.push({ literal: pattern.charAt(i + 1) });
      i += 2;
    } else if (c === "%") {
      // "%d": a one-letter custom pattern; the percent sign itself writes nothing.
      i += 1;
    } else if (FIELDS.has(c)) {
      let length = 1;
      while (pattern.charAt(i + length) === c) length += 1;
      tokens.push({ field: c, length });
      i += length;
    } else if (c === "/" || c === ":") {
      tokens.push({ field: c, length: 1 });
      i += 1;
    } else {
      tokens.push({ literal: c });
      i += 1;
    }
  }
  return tokens;
}

const pad = (value: number, length: number): string => String(value).padStart(length, "0");

/** A day or month name in the user's language; `genitive` for a month beside its day ("7 мая", "7 maja"). */
function name(at: Date, what: "weekday" | "month", width: "short" | "long", locale: string | undefined, genitive = false): string {
  if (what === "weekday") return new Intl.DateTimeFormat(locale, { weekday: width, timeZone: "UTC" }).format(at);
  if (!genitive) return new Intl.DateTimeFormat(locale, { month: width, timeZone: "UTC" }).format(at);
  const parts = new Intl.DateTimeFormat(locale, { day: "numeric", month: width, timeZone: "UTC" }).formatToParts(at);
  return parts.find((part) => part.type === "month")?.value ?? name(at, "month", width, locale);
}

/**
 * `at` written with `pattern`. `at`'s UTC fields are the wall-clock time to write (the caller has moved
 * it into the user's time zone), so nothing here depends on the browser's zone.
 */
export function formatWithPattern(at: Date, pattern: string, symbols: PatternSymbols = INVARIANT_SYMBOLS): string {
  const tokens = tokenize(pattern);
  // .NET writes a month name in its genitive form when the pattern also has the day's number.
  const genitive = tokens.some((token) => "field" in token && token.field === "d" && token.length <= 2);
  const hours = at.getUTCHours();
  return tokens
    .map((token) => {
      if ("literal" in token) return token.literal;
      const { field, length } = token;
      switch (field) {
        case "d":
          if (length <= 2) return pad(at.getUTCDate(), length);
          return name(at, "weekday", length === 3 ? "short" : "long", symbols.locale);
        case "M":
          if (length <= 2) return pad(at.getUTCMonth() + 1, length);
          return name(at, "month", length === 3 ? "short" : "long", symbols.locale, genitive);
        case "y": {
          const year = at.getUTCFullYear();
          return length <= 2 ? pad(year % 100, length) : pad(year, length);
        }
        case "h":
          return pad(hours % 12 || 12, Math.min(length, 2));
        case "H":
          return pad(hours, Math.min(length, 2));
        case "m":
          return pad(at.getUTCMinutes(), Math.min(length, 2));
        case "s":
          return pad(at.getUTCSeconds(), Math.min(length, 2));
        case "t": {
          const designator = hours < 12 ? symbols.amDesignator : symbols.pmDesignator;
          return length === 1 ? designator.charAt(0) : designator;
        }
        case "f":
        case "F": {
          const digits = pad(at.getUTCMilliseconds(), 3).padEnd(length, "0").slice(0, length);
          return field === "F" ? digits.replace(/0+$/, "") : digits;
        }
        case "/":
          return symbols.dateSeparator;
        default: // ":"
          return symbols.timeSeparator;
      }
    })
    .join("");
}
