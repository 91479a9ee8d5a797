import * as React from "react";
import type { IInputs, IOutputs } from "./generated/ManifestTypes";
import { ChatApi } from "./api/chatApi";
import { agentTokenSource } from "./auth/agentTokens";
import { ChatPanel, type ChatPanelProps } from "./components/ChatPanel";
import { regardingRecord } from "./host/recordContext";
import { hostTheme } from "./host/theme";
import { type ControlSettings, readSettings, settingsKey } from "./host/settings";
import { loadStrings } from "./strings/strings";
import type { Clock } from "./model/clock";
import { clockFromUserSettings } from "./host/userClock";

/**
 * The PCF entry point: a virtual control (React and Fluent UI v9 come from the platform). It reads
 * the form's phone column and the control's properties, and renders the chat panel.
 */
export class WhatsAppChat implements ComponentFramework.ReactControl<IInputs, IOutputs> {
  private api: { key: string; client: ChatApi } | undefined;

  public init(): void {
    // Nothing to prepare: updateView renders from the context each time.
  }

  public updateView(context: ComponentFramework.Context<IInputs>): React.ReactElement {
    const parameters = context.parameters;
    // The panel's words from the platform's strings file (WhatsAppChat.1033.resx and its translations).
    const resources = context.resources as ComponentFramework.Resources | undefined;
    loadStrings(resources ? (key) => resources.getString(key) : undefined);
    const read = readSettings({
      apiBaseUrl: parameters.apiBaseUrl?.raw ?? null,
      apiApplicationId: parameters.apiApplicationId?.raw ?? null,
      clientId: parameters.clientId?.raw ?? null,
      tenantId: parameters.tenantId?.raw ?? null,
      redirectUri: parameters.redirectUri?.raw ?? null,
      businessPhoneNumberId: parameters.businessPhoneNumberId?.raw ?? null,
      pollSeconds: parameters.pollSeconds?.raw ?? null,
      panelHeight: parameters.panelHeight?.raw ?? null,
      devMode: parameters.devMode?.raw ?? null,
    });
    const props: ChatPanelProps = {
      customer: parameters.phoneNumber.raw ?? "",
      regarding: regardingRecord(context.mode),
      pollIntervalMs: "settings" in read ? read.settings.pollIntervalMs : 0,
      devMode: "settings" in read && read.settings.mode === "dev",
      height: "settings" in read ? read.settings.panelHeight : undefined,
      theme: hostTheme(context.fluentDesignLanguage),
      recordFacts: { firstName: parameters.firstName?.raw ?? undefined },
      customerName: parameters.customerName?.raw ?? undefined,
      // Times in the D365 user's own time zone and time format, not the browser's.
      clock: this.clockFor(context.userSettings),
    };
    if ("problem" in read) return React.createElement(ChatPanel, { ...props, setupProblem: read.problem });
    return React.createElement(ChatPanel, { ...props, api: this.client(read.settings, context) });
  }

  private clock?: { settings: unknown; clock: Clock };

  /** The same clock object while the user settings stay the same (so the panel does not re-render for it). */
  private clockFor(settings: ComponentFramework.UserSettings | undefined): Clock {
    if (this.clock && this.clock.settings === settings) return this.clock.clock;
    const clock = clockFromUserSettings(settings);
    this.clock = { settings, clock };
    return clock;
  }

  public getOutputs(): IOutputs {
    return {}; // the panel never changes the phone column
  }

  public destroy(): void {
    this.api = undefined;
  }

  /** The same client (and sign-in cache) for as long as the settings stay the same. */
  private client(settings: ControlSettings, context: ComponentFramework.Context<IInputs>): ChatApi {
    const key = settingsKey(settings);
    if (this.api?.key === key) return this.api.client;
    const tokens = agentTokenSource(settings, context);
    const client = new ChatApi({ baseUrl: settings.apiBaseUrl, tokens, phoneNumberId: settings.phoneNumberId });
    this.api = { key, client };
    return client;
  }
}
