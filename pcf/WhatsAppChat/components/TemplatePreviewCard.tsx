import * as React from "react";
import { makeStyles, mergeClasses, tokens } from "@fluentui/react-components";
import type { PreviewPiece, TemplatePreview } from "../model/templates";
import { type StringKey, localize } from "../strings/strings";
import { EDGE } from "./edges";

const useStyles = makeStyles({
  wallpaper: {
    padding: "10px 12px",
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: tokens.colorNeutralBackground3,
  },
  caption: {
    display: "block",
    marginBottom: "6px",
    fontSize: tokens.fontSizeBase200,
    fontWeight: tokens.fontWeightSemibold,
    color: tokens.colorNeutralForeground2,
  },
  // The business's bubble, as the chat draws it.
  bubble: {
    maxWidth: "92%",
    marginLeft: "auto",
    boxSizing: "border-box",
    padding: "6px 9px 7px",
    borderRadius: tokens.borderRadiusLarge,
    borderTopRightRadius: "2px",
    boxShadow: tokens.shadow2,
    border: EDGE,
    backgroundColor: tokens.colorBrandBackground2,
    color: tokens.colorNeutralForeground1,
    fontSize: tokens.fontSizeBase300,
    lineHeight: tokens.lineHeightBase300,
    whiteSpace: "pre-wrap",
    overflowWrap: "anywhere",
  },
  header: { display: "block", fontWeight: tokens.fontWeightBold, marginBottom: "4px" },
  footer: { display: "block", marginTop: "6px", fontSize: tokens.fontSizeBase200, color: tokens.colorNeutralForeground3 },
  media: {
    display: "flex",
    alignItems: "center",
    justifyContent: "center",
    gap: "6px",
    minHeight: "72px",
    marginBottom: "6px",
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: tokens.colorNeutralBackground1,
    border: EDGE,
    color: tokens.colorNeutralForeground3,
    fontSize: tokens.fontSizeBase200,
    overflow: "hidden",
  },
  mediaImage: { display: "block", width: "100%", maxHeight: "160px", objectFit: "cover" },
  value: { fontWeight: tokens.fontWeightSemibold, backgroundColor: tokens.colorNeutralBackground1, borderRadius: tokens.borderRadiusSmall, padding: "0 2px" },
  missing: {
    padding: "0 3px",
    borderRadius: tokens.borderRadiusSmall,
    outline: `1px dashed ${tokens.colorNeutralStrokeAccessible}`,
    outlineOffset: "-1px",
    color: tokens.colorNeutralForeground3,
    fontFamily: tokens.fontFamilyMonospace,
    fontSize: tokens.fontSizeBase200,
  },
  buttons: { display: "flex", flexDirection: "column", gap: "3px", marginTop: "3px", maxWidth: "92%", marginLeft: "auto" },
  button: {
    padding: "5px 8px",
    borderRadius: tokens.borderRadiusLarge,
    boxShadow: tokens.shadow2,
    border: EDGE,
    backgroundColor: tokens.colorBrandBackground2,
    color: tokens.colorBrandForegroundLink,
    textAlign: "center",
    fontSize: tokens.fontSizeBase200,
    fontWeight: tokens.fontWeightSemibold,
  },
});

const MEDIA_WORDS: Record<NonNullable<TemplatePreview["headerMedia"]>["type"], StringKey> = {
  image: "Template_HeaderMedia_image",
  video: "Template_HeaderMedia_video",
  document: "Template_HeaderMedia_document",
};
const MEDIA_ICONS = { image: "🖼️", video: "🎥", document: "📄" } as const;

function Pieces({ pieces }: { pieces: readonly PreviewPiece[] }): React.ReactElement {
  const styles = useStyles();
  return (
    <>
      {pieces.map((piece, index) =>
        piece.kind === "literal" ? (
          <React.Fragment key={index}>{piece.text}</React.Fragment>
        ) : (
          <span key={index} className={piece.kind === "value" ? styles.value : styles.missing} data-preview-field={piece.key} data-filled={piece.kind === "value" ? "" : undefined}>
            {piece.text}
          </span>
        ),
      )}
    </>
  );
}

export interface TemplatePreviewCardProps {
  preview: TemplatePreview;
  /** The uploaded header file's name, when there is one. */
  mediaFilename?: string;
  className?: string;
}

/** What the customer will get: the template's header, body, footer and buttons, the values typed so far in place. */
export function TemplatePreviewCard({ preview, mediaFilename, className }: TemplatePreviewCardProps): React.ReactElement {
  const styles = useStyles();
  // An uploaded photo the browser cannot show (its URL is for WhatsApp): its name instead.
  const [broken, setBroken] = React.useState<string | undefined>(undefined);
  const media = preview.headerMedia;
  return (
    <div className={mergeClasses(styles.wallpaper, className)} role="group" aria-label={localize("Template_PreviewLabel")} data-testid="template-preview">
      <span className={styles.caption} aria-hidden="true">
        {localize("Template_Preview")}
      </span>
      <div className={styles.bubble}>
        {media && (
          <div className={styles.media} data-preview-field={media.key} data-filled={media.value ? "" : undefined}>
            {media.type === "image" && media.value && media.value !== broken ? (
              <img className={styles.mediaImage} src={media.value} alt={mediaFilename ?? localize(MEDIA_WORDS[media.type])} onError={() => setBroken(media.value)} />
            ) : (
              <>
                <span aria-hidden="true">{MEDIA_ICONS[media.type]}</span>
                {mediaFilename ?? localize(MEDIA_WORDS[media.type])}
              </>
            )}
          </div>
        )}
        {preview.header && (
          <span className={styles.header}>
            <Pieces pieces={preview.header} />
          </span>
        )}
        <span data-preview-body="">
          <Pieces pieces={preview.body} />
        </span>
        {preview.footer && (
          <span className={styles.footer}>
            <Pieces pieces={preview.footer} />
          </span>
        )}
      </div>
      {preview.buttons.length > 0 && (
        <div className={styles.buttons}>
          {preview.buttons.map((text, index) => (
            <span key={index} className={styles.button}>
              {text}
            </span>
          ))}
        </div>
      )}
    </div>
  );
}
