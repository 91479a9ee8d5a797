import type { Clock } from "../model/clock";
import { languageTag } from "./userLanguage";

/** The parts of `context.userSettings` the clock reads (all optional: the harness and tests give few). */
export interface ClockSettings {
  languageId?: number;
  getTimeZoneOffsetMinutes?: (date?: Date) => number;
  dateFormattingInfo?: Partial<
    Pick<
      ComponentFramework.UserSettingApi.DateFormattingInfo,
      "shortDatePattern" | "shortTimePattern" | "longTimePattern" | "dateSeparator" | "timeSeparator" | "amDesignator" | "pmDesignator"
    >
  >;
}

const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
const pattern = (value: unknown): string | undefined => text(value)?.trim() || undefined;

/** The agent's clock from D365's user settings: their time zone, date and time patterns and language, not the browser's. */
export function clockFromUserSettings(settings: ClockSettings | undefined): Clock {
  const clock: Clock = { locale: languageTag(settings?.languageId) };
  const offsetOf = settings?.getTimeZoneOffsetMinutes;
  if (typeof offsetOf === "function") clock.offsetMinutes = (at) => offsetOf.call(settings, at);
  const info = settings?.dateFormattingInfo;
  if (info) {
    clock.datePattern = pattern(info.shortDatePattern);
    clock.timePattern = pattern(info.shortTimePattern);
    clock.longTimePattern = pattern(info.longTimePattern);
    // An empty designator is a real one (some cultures write none), so only a missing one falls back.
    clock.symbols = {
      dateSeparator: text(info.dateSeparator) ?? "/",
      timeSeparator: text(info.timeSeparator) ?? ":",
      amDesignator: text(info.amDesignator) ?? "AM",
      pmDesignator: text(info.pmDesignator) ?? "PM",
    };
  }
  return clock;
}
