import type { AgentNotice } from "../model/problemWording";
import { type StringKey, localize } from "../strings/strings";
import { type Connection, LOCAL_API, type RawConnection, readConnection, within } from "./connection";

/** The control's input properties as the form passes them (null when not set). */
export interface RawProperties extends RawConnection {
  pollSeconds: number | null;
  panelHeight: number | null;
}

interface PanelSettings {
  pollIntervalMs: number;
  panelHeight: number;
}

/** Dev mode talks to `make run`, which runs without sign-in; otherwise the agent signs in with Entra ID. */
export type ControlSettings = Connection & PanelSettings;

export { LOCAL_API };
export const DEFAULT_POLL_SECONDS = 5;
export const DEFAULT_PANEL_HEIGHT = 560;

/** What is missing, in words for whoever configures the form (read when asked: the words follow the user's language). */
function setupProblem(what: StringKey): { problem: AgentNotice } {
  return { problem: { intent: "error", title: localize("Setup_Title"), detail: localize("Setup_Detail", localize(what)), code: "setup_incomplete" } };
}

/** The settings, or what is missing, in words for whoever configures the form. */
export function readSettings(raw: RawProperties): { settings: ControlSettings } | { problem: AgentNotice } {
  const read = readConnection(raw);
  if ("missing" in read) return setupProblem(read.missing);
  const panel: PanelSettings = {
    pollIntervalMs: within(raw.pollSeconds, DEFAULT_POLL_SECONDS, 2, 60) * 1000,
    panelHeight: within(raw.panelHeight, DEFAULT_PANEL_HEIGHT, 320, 2000),
  };
  return { settings: { ...read.connection, ...panel } };
}

/** One key per distinct configuration: the API client and sign-in are made again only when it changes. */
export function settingsKey(settings: ControlSettings): string {
  return JSON.stringify(settings);
}
