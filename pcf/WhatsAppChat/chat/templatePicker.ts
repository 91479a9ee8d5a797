import type { MessageTemplate, UploadResult } from "../api/contract";
import { keepsAttemptId } from "../model/draft";
import type { AgentNotice } from "../model/problemWording";

/**
 * The template picker as the panel holds it: open or not, the business number's templates (loaded
 * once the agent first opens it), the search, the template chosen and what was filled in. What was
 * filled in stays until WhatsApp accepts the template, like the composer's draft.
 */
export interface TemplatePicker {
  open: boolean;
  /** Loaded on the first opening; kept while the panel shows this customer. */
  templates?: MessageTemplate[];
  loading: boolean;
  loadProblem?: AgentNotice;
  search: string;
  /** A language code, or "" for all. */
  language: string;
  /** The chosen template's key (model/templates.ts `templateKey`). */
  chosen?: string;
  /** What the agent filled in (or the record did), by field key. */
  values: Record<string, string>;
  /** The fields the record filled in (said beside them, and editable). */
  prefilled: string[];
  /** A media header's uploaded file: its name shows, its URL is the value. */
  mediaFile?: { key: string; filename: string; kind: UploadResult["kind"] };
  uploading: boolean;
  sending: boolean;
  /** The last problem with a send or an upload, shown in the picker. */
  notice?: AgentNotice;
  /** As the composer's draft: the clientMessageId of an unclear attempt, and what it sent. */
  attemptId?: string;
  attemptFor?: string;
}

export const CLOSED_PICKER: TemplatePicker = {
  open: false,
  loading: false,
  search: "",
  language: "",
  values: {},
  prefilled: [],
  uploading: false,
  sending: false,
};

export type TemplatePickerAction =
  | { type: "templatesOpened" }
  | { type: "templatesClosed" }
  | { type: "templatesLoading" }
  | { type: "templatesLoaded"; templates: MessageTemplate[] }
  | { type: "templatesFailed"; notice: AgentNotice }
  | { type: "templateSearched"; search: string }
  | { type: "templateLanguageChosen"; language: string }
  | { type: "templateChosen"; key: string; values: Record<string, string>; prefilled: string[] }
  | { type: "templateUnchosen" }
  | { type: "templateValueChanged"; key: string; value: string }
  | { type: "templateMediaStarted" }
  | { type: "templateMediaUploaded"; key: string; upload: UploadResult }
  | { type: "templateMediaFailed"; notice: AgentNotice }
  | { type: "templateSendStarted"; attemptId: string; attemptFor: string }
  | { type: "templateSendFailed"; attemptId: string; error: unknown; notice: AgentNotice; now: Date }
  | { type: "templateNoticeDismissed" };

/** A new value is a new message: an unclear attempt's id goes with the old one. */
function edited(picker: TemplatePicker, values: Record<string, string>): TemplatePicker {
  return { ...picker, values, attemptId: undefined, attemptFor: undefined };
}

/** The picker after an action of its own (the chat's reducer handles a send that worked). */
export function templatePickerReducer(picker: TemplatePicker, action: TemplatePickerAction): TemplatePicker {
  switch (action.type) {
    case "templatesOpened":
      return { ...picker, open: true };
    case "templatesClosed":
      // What was filled in stays for the next opening, as an unsent message stays in the composer.
      return { ...picker, open: false, notice: undefined };
    case "templatesLoading":
      return { ...picker, loading: true, loadProblem: undefined };
    case "templatesLoaded":
      return { ...picker, loading: false, templates: action.templates, loadProblem: undefined };
    case "templatesFailed":
      return { ...picker, loading: false, loadProblem: action.notice };
    case "templateSearched":
      return { ...picker, search: action.search };
    case "templateLanguageChosen":
      return { ...picker, language: action.language };
    case "templateChosen":
      if (picker.chosen === action.key) return picker; // the same one again: what was typed stays
      return { ...edited(picker, action.values), chosen: action.key, prefilled: action.prefilled, mediaFile: undefined, notice: undefined };
    case "templateUnchosen":
      return { ...picker, chosen: undefined, values: {}, prefilled: [], mediaFile: undefined, notice: undefined, attemptId: undefined, attemptFor: undefined };
    case "templateValueChanged":
      if ((picker.values[action.key] ?? "") === action.value) return picker;
      return edited(picker, { ...picker.values, [action.key]: action.value });
    case "templateMediaStarted":
      return { ...picker, uploading: true, notice: undefined };
    case "templateMediaUploaded":
      return {
        ...edited(picker, { ...picker.values, [action.key]: action.upload.mediaUrl }),
        uploading: false,
        mediaFile: { key: action.key, filename: action.upload.filename, kind: action.upload.kind },
      };
    case "templateMediaFailed":
      return { ...picker, uploading: false, notice: action.notice };
    case "templateSendStarted":
      return { ...picker, sending: true, notice: undefined, attemptId: action.attemptId, attemptFor: action.attemptFor };
    case "templateSendFailed":
      return {
        ...picker,
        sending: false,
        notice: action.notice,
        ...(keepsAttemptId(action.error) ? { attemptId: action.attemptId } : { attemptId: undefined, attemptFor: undefined }),
      };
    case "templateNoticeDismissed":
      return { ...picker, notice: undefined };
  }
}

/** A template went: the picker closes, ready for the next one (the list and the search stay). */
export function pickerAfterSend(picker: TemplatePicker): TemplatePicker {
  return { ...CLOSED_PICKER, templates: picker.templates, search: picker.search, language: picker.language };
}
