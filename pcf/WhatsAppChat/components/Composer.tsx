import * as React from "react";
import { Button, Field, Input, Menu, MenuItem, MenuList, MenuPopover, MenuTrigger, Select, Textarea, makeStyles, tokens } from "@fluentui/react-components";
import { type Draft, MAX_CAPTION, MAX_TEXT, type MediaType, editDraft, hasMedia, takesCaption } from "../model/draft";
import { type StringKey, localize } from "../strings/strings";

const useStyles = makeStyles({
  composer: { display: "flex", flexDirection: "column", gap: "6px", padding: "8px 10px", borderTop: `1px solid ${tokens.colorNeutralStroke2}` },
  mediaRow: { display: "flex", gap: "6px", alignItems: "flex-end" },
  url: { flexGrow: 1, minWidth: 0 },
  actions: { display: "flex", gap: "6px", alignItems: "center", flexWrap: "wrap" },
  spacer: { flexGrow: 1 },
  hiddenInput: { display: "none" },
  plus: { fontSize: "20px", lineHeight: "20px", fontWeight: 400 },
  dropping: { outline: `2px dashed ${tokens.colorBrandStroke1}`, outlineOffset: "-4px", backgroundColor: tokens.colorNeutralBackground1Hover },
});

/** The first file a paste or a drop carries, if any. */
function firstFile(data: DataTransfer | null): File | undefined {
  return data?.files && data.files.length > 0 ? data.files[0] : undefined;
}

const MEDIA_TYPES: readonly MediaType[] = ["image", "document", "video", "audio"];
const MEDIA_TYPE_WORDS: Record<MediaType, StringKey> = {
  image: "Composer_MediaType_image",
  document: "Composer_MediaType_document",
  video: "Composer_MediaType_video",
  audio: "Composer_MediaType_audio",
};

// What WhatsApp carries (the API checks the bytes; this only narrows the file picker).
const ACCEPTED_FILES = "image/jpeg,image/png,video/mp4,video/3gpp,audio/aac,audio/amr,audio/mpeg,audio/mp4,audio/ogg,application/pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx,text/plain";

export interface ComposerProps {
  draft: Draft;
  sending: boolean;
  uploading: boolean;
  onChange: (draft: Draft) => void;
  onSend: () => void;
  onUpload: (file: File) => void;
  onRemoveMedia: () => void;
  /** "Send a template", from the composer's menu. */
  onOpenTemplates?: () => void;
}

/** The message box, "use text URL", "upload media file" and Send. Nothing here is cleared until a send succeeds. */
export function Composer({ draft, sending, uploading, onChange, onSend, onUpload, onRemoveMedia, onOpenTemplates }: ComposerProps): React.ReactElement {
  const styles = useStyles();
  const fileInput = React.useRef<HTMLInputElement>(null);
  const [dropping, setDropping] = React.useState(false);
  const withMedia = hasMedia(draft);
  const showUrlBox = draft.urlBoxOpen || withMedia;
  const captionAllowed = takesCaption(draft);
  const limit = withMedia ? MAX_CAPTION : MAX_TEXT;
  const busy = sending || uploading;

  const pickedFile = (event: React.ChangeEvent<HTMLInputElement>): void => {
    const file = event.target.files?.[0];
    event.target.value = ""; // the same file can be picked again
    if (file) onUpload(file);
  };

  // A pasted image (a screenshot) or a file dropped on the composer goes through the same upload.
  const pasted = (event: React.ClipboardEvent<HTMLTextAreaElement>): void => {
    const file = firstFile(event.clipboardData);
    if (!file) return; // text pastes as text
    event.preventDefault();
    if (!sending && !uploading) onUpload(file);
  };
  const carriesFiles = (event: React.DragEvent): boolean => Array.from(event.dataTransfer?.types ?? []).includes("Files");
  const dragOver = (event: React.DragEvent<HTMLDivElement>): void => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    setDropping(true);
  };
  const dropped = (event: React.DragEvent<HTMLDivElement>): void => {
    setDropping(false);
    const file = firstFile(event.dataTransfer);
    if (!file) return;
    event.preventDefault();
    if (!sending && !uploading) onUpload(file);
  };

  const keyDown = (event: React.KeyboardEvent<HTMLTextAreaElement>): void => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      if (!busy) onSend();
    }
  };

  return (
    <div
      className={dropping ? `${styles.composer} ${styles.dropping}` : styles.composer}
      data-testid="composer"
      onDragOver={dragOver}
      onDragLeave={() => setDropping(false)}
      onDrop={dropped}
      data-dropping={dropping ? "" : undefined}
    >
      {showUrlBox && (
        <div className={styles.mediaRow}>
          <Field className={styles.url} label={localize("Composer_MediaUrl")} size="small" hint={draft.filename ? localize("Composer_Uploaded", draft.filename) : undefined}>
            <Input
              value={draft.mediaUrl}
              placeholder={localize("Composer_MediaUrlPlaceholder")}
              readOnly={sending}
              onChange={(_, data) => onChange(editDraft(draft, { mediaUrl: data.value }))}
            />
          </Field>
          <Field label={localize("Composer_SendAs")} size="small">
            <Select
              value={draft.mediaType}
              disabled={sending}
              onChange={(_, data) => onChange(editDraft(draft, { mediaType: data.value as MediaType }))}
            >
              {MEDIA_TYPES.map((type) => (
                <option key={type} value={type}>
                  {localize(MEDIA_TYPE_WORDS[type])}
                </option>
              ))}
            </Select>
          </Field>
          <Button size="small" appearance="subtle" icon={<span aria-hidden>✕</span>} onClick={onRemoveMedia} disabled={sending} aria-label={localize("Composer_RemoveMedia")} title={localize("Composer_RemoveMedia")} />
        </div>
      )}
      <Field
        label={withMedia ? localize("Composer_Caption") : localize("Composer_Message")}
        size="small"
        hint={!captionAllowed ? localize("Composer_NoAudioCaption") : draft.text.length > limit * 0.9 ? localize("Composer_Length", draft.text.length, limit) : undefined}
      >
        <Textarea
          value={draft.text}
          placeholder={withMedia ? localize("Composer_CaptionPlaceholder") : localize("Composer_MessagePlaceholder")}
          resize="vertical"
          readOnly={sending}
          disabled={!captionAllowed}
          onChange={(_, data) => onChange(editDraft(draft, { text: data.value }))}
          onKeyDown={keyDown}
          onPaste={pasted}
        />
      </Field>
      <div className={styles.actions}>
        <input ref={fileInput} className={styles.hiddenInput} type="file" accept={ACCEPTED_FILES} aria-label={localize("Composer_MediaFile")} onChange={pickedFile} />
        {onOpenTemplates && (
          <Menu positioning="above-start">
            <MenuTrigger disableButtonEnhancement>
              <Button
                size="small"
                appearance="subtle"
                icon={<span aria-hidden="true" className={styles.plus}>+</span>}
                aria-label={localize("Composer_Menu")}
                title={localize("Composer_Menu")}
                aria-haspopup="menu"
                disabled={sending}
                data-template-opener=""
              />
            </MenuTrigger>
            <MenuPopover>
              <MenuList>
                <MenuItem onClick={onOpenTemplates}>{localize("Template_Open")}</MenuItem>
              </MenuList>
            </MenuPopover>
          </Menu>
        )}
        <Button size="small" onClick={() => fileInput.current?.click()} disabled={busy}>
          {uploading ? localize("Composer_Uploading") : localize("Composer_Upload")}
        </Button>
        <Button size="small" aria-pressed={showUrlBox} onClick={() => onChange(editDraft(draft, { urlBoxOpen: !draft.urlBoxOpen }))} disabled={busy || withMedia}>
          {localize("Composer_UseUrl")}
        </Button>
        <span className={styles.spacer} />
        <Button appearance="primary" onClick={onSend} disabled={busy}>
          {sending ? localize("Composer_Sending") : localize("Composer_Send")}
        </Button>
      </div>
    </div>
  );
}
