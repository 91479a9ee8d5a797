import * as React from "react";
import type { IInputs, IOutputs } from "./generated/ManifestTypes";
import { agentTokenSource } from "../WhatsAppChat/auth/agentTokens";
import { clockFromUserSettings } from "../WhatsAppChat/host/userClock";
import { hostTheme } from "../WhatsAppChat/host/theme";
import type { Clock } from "../WhatsAppChat/model/clock";
import { InboxApi } from "./api/inboxApi";
import { Inbox, type InboxProps } from "./components/Inbox";
import { type InboxSettings, readInboxSettings } from "./host/settings";
import type { FormOpener } from "./model/inboxController";
import { loadInboxStrings } from "./strings/strings";

/**
 * The PCF entry point of the inbox: a virtual control with no dataset and no bound column, for a
 * dashboard or a custom page. It lists the business number's WhatsApp conversations and opens the
 * picked one's contact or lead form (`context.navigation.openForm`). Sign-in is the chat panel's.
 */
export class WhatsAppInbox implements ComponentFramework.ReactControl<IInputs, IOutputs> {
  private api: { key: string; client: InboxApi } | undefined;
  private navigation: FormOpener | undefined;

  public init(): void {
    // Nothing to prepare: updateView renders from the context each time.
  }

  public updateView(context: ComponentFramework.Context<IInputs>): React.ReactElement {
    const parameters = context.parameters;
    const resources = context.resources as ComponentFramework.Resources | undefined;
    loadInboxStrings(resources ? (key) => resources.getString(key) : undefined);
    const read = readInboxSettings({
      apiBaseUrl: parameters.apiBaseUrl?.raw ?? null,
      apiApplicationId: parameters.apiApplicationId?.raw ?? null,
      clientId: parameters.clientId?.raw ?? null,
      tenantId: parameters.tenantId?.raw ?? null,
      redirectUri: parameters.redirectUri?.raw ?? null,
      businessPhoneNumberId: parameters.businessPhoneNumberId?.raw ?? null,
      defaultState: parameters.defaultState?.raw ?? null,
      pollSeconds: parameters.pollSeconds?.raw ?? null,
      inboxHeight: parameters.inboxHeight?.raw ?? null,
      devMode: parameters.devMode?.raw ?? null,
    });
    // One opener for the control's life, so the list does not re-render for a new function each time.
    const navigation = context.navigation;
    this.navigation ??= { openForm: (options) => navigation.openForm(options) };
    const props: InboxProps = {
      navigation: this.navigation,
      pollIntervalMs: "settings" in read ? read.settings.pollIntervalMs : 0,
      defaultState: "settings" in read ? read.settings.defaultState : "waiting",
      devMode: "settings" in read && read.settings.mode === "dev",
      height: "settings" in read ? read.settings.height : undefined,
      theme: hostTheme(context.fluentDesignLanguage),
      // Times in the D365 user's own time zone and patterns, not the browser's.
      clock: this.clockFor(context.userSettings),
    };
    if ("problem" in read) return React.createElement(Inbox, { ...props, setupProblem: read.problem });
    return React.createElement(Inbox, { ...props, api: this.client(read.settings, context) });
  }

  private clock?: { settings: unknown; clock: Clock };

  /** The same clock object while the user settings stay the same (so the list does not re-render for it). */
  private clockFor(settings: ComponentFramework.UserSettings | undefined): Clock {
    if (this.clock && this.clock.settings === settings) return this.clock.clock;
    const clock = clockFromUserSettings(settings);
    this.clock = { settings, clock };
    return clock;
  }

  public getOutputs(): IOutputs {
    return {};
  }

  public destroy(): void {
    this.api = undefined;
  }

  /** The same client (and sign-in cache) for as long as the settings stay the same. */
  private client(settings: InboxSettings, context: ComponentFramework.Context<IInputs>): InboxApi {
    const key = JSON.stringify(settings);
    if (this.api?.key === key) return this.api.client;
    const tokens = agentTokenSource(settings, context);
    const client = new InboxApi({ baseUrl: settings.apiBaseUrl, tokens, phoneNumberId: settings.phoneNumberId });
    this.api = { key, client };
    return client;
  }
}
