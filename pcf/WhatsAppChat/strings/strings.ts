/**
 * The panel's words for templates, reactions, read receipts and typing, keyed as in
 * `WhatsAppChat.1033.resx` (the platform's strings file, which translations copy). The control reads
 * them from the platform (`context.resources.getString`) on every render; these English ones stand in
 * where the platform has none (the harness, the tests). `{0}`, `{1}` are filled in by {@link localize}.
 * A unit test keeps this table and the .resx the same.
 */
export const DEFAULT_STRINGS = {
  // Opening the picker: beside the validation message, and in the composer's menu.
  Template_Open: "Send a template",
  Template_OpenHint: "An approved WhatsApp template can be sent whether or not the 24-hour window is open.",
  Composer_Menu: "More ways to send",
  // The picker.
  Template_Title: "Send a template",
  Template_Close: "Close the templates",
  Template_Search: "Search templates by name",
  Template_SearchPlaceholder: "Search by name",
  Template_Language: "Language",
  Template_AllLanguages: "All languages",
  Template_List: "Approved templates",
  Template_Count: "{0} of {1} templates",
  Template_Loading: "Loading the approved templates…",
  Template_None: "This business number has no approved templates yet. Templates are created and approved in WhatsApp Manager.",
  Template_NoMatch: "No template matches “{0}”.",
  Template_TryAgain: "Try again",
  Template_Choose: "{0}, {1}, {2}",
  Template_Back: "Back to the templates",
  Template_Fields: "Fill in the template",
  Template_NoFields: "This template has nothing to fill in.",
  Template_Preview: "Preview",
  Template_PreviewLabel: "What the customer gets",
  Template_Send: "Send template",
  Template_Sending: "Sending…",
  Template_Cancel: "Cancel",
  Template_FillAll: "Fill in every field to send.",
  Template_FillMore: "{0} of {1} fields to fill in.",
  Template_FromRecord: "From this record; you can change it.",
  Template_Example: "Example: {0}",
  Template_Around: "In the text: {0}",
  Template_OptOutWarning: "This customer opted out of marketing messages: WhatsApp won't deliver a marketing template to them. Choose a utility template instead.",
  // Field labels.
  Template_Field_Header: "{0} (header)",
  Template_Field_HeaderPosition: "Header {0}",
  Template_Field_BodyPosition: "Body {0}",
  Template_Field_Button: "“{0}” button",
  Template_Field_ButtonNumber: "Button {0}",
  Template_Field_HeaderImage: "Header image",
  Template_Field_HeaderVideo: "Header video",
  Template_Field_HeaderDocument: "Header document",
  Template_Upload: "Upload a file",
  Template_Uploading: "Uploading…",
  Template_Uploaded: "Uploaded: {0}",
  Template_UploadHint_image: "A JPEG or PNG photo, uploaded like a photo in the chat.",
  Template_UploadHint_video: "An MP4 video, uploaded like a video in the chat.",
  Template_UploadHint_document: "A PDF (or another document), uploaded like a file in the chat.",
  Template_HeaderMedia_image: "Photo",
  Template_HeaderMedia_video: "Video",
  Template_HeaderMedia_document: "Document",
  Template_MediaFile_image: "an image",
  Template_MediaFile_video: "a video",
  Template_MediaFile_document: "a document",
  Template_MediaFile_audio: "an audio file",
  Template_MediaFile_sticker: "a sticker",
  Template_WrongFile: "The header needs {0}; {1} is {2}.",
  Template_WrongFileDetail: "Upload another file.",
  // Categories (Meta's).
  Category_UTILITY: "Utility",
  Category_MARKETING: "Marketing",
  Category_AUTHENTICATION: "Authentication",
  // A sent template in the chat.
  Template_SentLabel: "Template: {0}",
  // Reactions.
  Reaction_Open: "React to this message",
  Reaction_Picker: "Reactions",
  Reaction_Choose: "React with {0}",
  Reaction_Remove: "Remove your reaction {0}",
  Reaction_Yours: "Your reaction: {0}",
  // Problems (model/problemWording.ts).
  Problem_MarketingOptOut_Title: "This customer opted out of marketing messages.",
  Problem_MarketingOptOut_Detail: "WhatsApp won't deliver a marketing template to them. Send a utility template instead, or reply when they write to you. Nothing was sent.",
  Problem_TemplateNotFound_Title: "This template can't be used any more.",
  Problem_TemplateNotFound_Detail: "It may have been paused, disabled or deleted in WhatsApp Manager. Choose another template. Nothing was sent.",
  Problem_TemplateInvalid_Title: "Something in this template isn't filled in right.",
  Problem_TemplateInvalid_Detail: "{0} Nothing was sent; what you filled in is kept.",
  Problem_TemplateNothingSent: "Nothing was sent; the template and what you filled in are kept.",
  Problem_TemplatesUnavailable_Title: "The templates can't be loaded from WhatsApp right now.",
  Problem_TemplatesUnavailable_Detail: "Try again in a moment.",
  Problem_TemplatesNotConfigured_Title: "Templates aren't set up for this business number.",
  Problem_TemplatesNotConfigured_Detail: "An administrator must set the WhatsApp Business Account of this number.",
  Problem_TemplatesLoad_Title: "The templates can't be loaded.",
  Problem_TemplatesLoad_TryAgain: "Press Try again in a moment.",
  Problem_Network_Templates: "Check your connection, then press Try again.",
  Problem_Template_TryAgain: "Press Send template again in a moment.",
  Problem_Reaction_NotSent: "Your reaction wasn't sent.",
  Problem_Reaction_TryAgain: "Choose the reaction again in a moment.",
  Problem_Reaction_WindowClosed: "You can only react within 24 hours of the customer's last message.",
  Problem_Reaction_Invalid: "This message can't be reacted to.",
} as const;

export type StringKey = keyof typeof DEFAULT_STRINGS;
export type Strings = Record<StringKey, string>;

let active: Strings = DEFAULT_STRINGS;

/**
 * Takes the words from the platform's strings file (PCF's `context.resources.getString`), keeping the
 * English one where it answers nothing (or the key itself, as it does for a name it does not know).
 */
export function loadStrings(getString: ((key: string) => string) | undefined): void {
  if (!getString) {
    active = DEFAULT_STRINGS;
    return;
  }
  const loaded = { ...DEFAULT_STRINGS } as Record<StringKey, string>;
  for (const key of Object.keys(DEFAULT_STRINGS) as StringKey[]) {
    let value: unknown;
    try {
      value = getString(key);
    } catch {
      value = undefined;
    }
    if (typeof value === "string" && value.trim() !== "" && value !== key) loaded[key] = value;
  }
  active = loaded;
}

/** The word for `key`, with `{0}`, `{1}`… filled in. */
export function localize(key: StringKey, ...values: (string | number)[]): string {
  return active[key].replace(/\{(\d+)\}/g, (whole, index: string) => {
    const value = values[Number(index)];
    return value === undefined ? whole : String(value);
  });
}
