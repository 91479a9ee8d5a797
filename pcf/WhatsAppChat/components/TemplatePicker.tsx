import * as React from "react";
import {
  Badge,
  Button,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  SearchBox,
  Select,
  Spinner,
  makeStyles,
  tokens,
  useArrowNavigationGroup,
  useId,
} from "@fluentui/react-components";
import type { MessageTemplate } from "../api/contract";
import type { TemplatePicker as PickerState } from "../chat/templatePicker";
import {
  type TemplateField,
  categoryLabel,
  filterTemplates,
  findTemplate,
  isMarketing,
  languageLabel,
  missingFields,
  templateFields,
  templateKey,
  templateLanguages,
  templatePreview,
} from "../model/templates";
import { ClockContext } from "../model/time";
import { localize } from "../strings/strings";
import { NoticeBar } from "./NoticeBar";
import { TemplatePreviewCard } from "./TemplatePreviewCard";

const useStyles = makeStyles({
  picker: { flexGrow: 1, minHeight: 0, display: "flex", flexDirection: "column", backgroundColor: tokens.colorNeutralBackground1 },
  titleBar: {
    display: "flex",
    alignItems: "center",
    gap: "6px",
    padding: "6px 6px 6px 12px",
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
  },
  title: { flexGrow: 1, margin: 0, fontSize: tokens.fontSizeBase400, lineHeight: tokens.lineHeightBase400, fontWeight: tokens.fontWeightSemibold },
  filters: { display: "flex", gap: "6px", padding: "8px 10px 4px", alignItems: "flex-end" },
  search: { flexGrow: 1, minWidth: 0, maxWidth: "none" },
  language: { width: "150px", flexShrink: 0 },
  count: { padding: "0 12px 4px", fontSize: tokens.fontSizeBase200, color: tokens.colorNeutralForeground3 },
  list: { flexGrow: 1, minHeight: 0, overflowY: "auto", padding: "2px 6px 8px", margin: 0, listStyleType: "none" },
  item: { margin: 0, padding: 0 },
  row: {
    display: "flex",
    flexDirection: "column",
    gap: "2px",
    width: "100%",
    boxSizing: "border-box",
    padding: "8px 8px 9px",
    border: "none",
    borderBottom: `1px solid ${tokens.colorNeutralStroke3}`,
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: tokens.colorTransparentBackground,
    color: tokens.colorNeutralForeground1,
    font: "inherit",
    textAlign: "start",
    cursor: "pointer",
    ":hover": { backgroundColor: tokens.colorNeutralBackground1Hover },
    ":active": { backgroundColor: tokens.colorNeutralBackground1Pressed },
    ":focus-visible": { outline: `2px solid ${tokens.colorStrokeFocus2}`, outlineOffset: "-2px" },
  },
  rowTop: { display: "flex", alignItems: "center", gap: "8px", minWidth: 0 },
  name: { flexGrow: 1, minWidth: 0, fontWeight: tokens.fontWeightSemibold, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" },
  languageText: { fontSize: tokens.fontSizeBase200, color: tokens.colorNeutralForeground3 },
  snippet: {
    display: "-webkit-box",
    WebkitLineClamp: "2",
    WebkitBoxOrient: "vertical",
    overflow: "hidden",
    fontSize: tokens.fontSizeBase200,
    lineHeight: tokens.lineHeightBase200,
    color: tokens.colorNeutralForeground2,
  },
  badge: { flexShrink: 0 },
  empty: { padding: "16px 12px", color: tokens.colorNeutralForeground3, textAlign: "center" },
  problem: { display: "flex", flexDirection: "column", gap: "8px", alignItems: "flex-start", padding: "8px 10px" },
  // The chosen template.
  form: { flexGrow: 1, minHeight: 0, display: "flex", flexDirection: "column" },
  formHead: { display: "flex", alignItems: "center", gap: "6px", padding: "6px 10px 6px 4px", borderBottom: `1px solid ${tokens.colorNeutralStroke3}` },
  formTitle: { display: "flex", flexDirection: "column", minWidth: 0, flexGrow: 1 },
  // A grid, not a flex column: nothing in it shrinks (a long warning keeps all its lines).
  formScroll: { flexGrow: 1, minHeight: 0, overflowY: "auto", display: "grid", alignContent: "start", gap: "10px", padding: "10px" },
  // A refusal stays in view above Send, whatever is scrolled.
  formNotice: { padding: "8px 10px 0" },
  fieldsTitle: { margin: 0, fontSize: tokens.fontSizeBase300, fontWeight: tokens.fontWeightSemibold },
  upload: { display: "flex", alignItems: "center", gap: "8px", flexWrap: "wrap" },
  hiddenInput: { display: "none" },
  actions: { display: "flex", alignItems: "center", gap: "8px", padding: "8px 10px", borderTop: `1px solid ${tokens.colorNeutralStroke2}` },
  why: { flexGrow: 1, fontSize: tokens.fontSizeBase200, color: tokens.colorNeutralForeground3 },
});

/** Meta's category as a badge: marketing stands out (opt-outs and pricing differ). */
export function CategoryBadge({ category, className }: { category: string; className?: string }): React.ReactElement {
  const upper = category.toUpperCase();
  const color = upper === "MARKETING" ? "brand" : upper === "AUTHENTICATION" ? "success" : "informative";
  return (
    <Badge className={className} appearance="tint" color={color} size="medium" data-category={upper}>
      {categoryLabel(category)}
    </Badge>
  );
}

const ACCEPT = {
  image: "image/jpeg,image/png",
  video: "video/mp4,video/3gpp",
  document: "application/pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx,text/plain",
} as const;

export interface TemplatePickerProps {
  picker: PickerState;
  /** The customer opted out of marketing (the session says so): a marketing template gets a warning. */
  marketingOptOut: boolean;
  onClose: () => void;
  onReload: () => void;
  onSearch: (search: string) => void;
  onLanguage: (language: string) => void;
  onChoose: (key: string) => void;
  onBack: () => void;
  onChange: (key: string, value: string) => void;
  onUpload: (key: string, file: File) => void;
  onSend: () => void;
  onDismissNotice: () => void;
}

/**
 * "Send a template", in the panel instead of the chat: the business number's approved templates,
 * searched by name and narrowed by language, each with its category; then the chosen one's fields
 * (what the record knows filled in), a live preview, and Send once every field is filled in. Escape closes it.
 */
export function TemplatePicker(props: TemplatePickerProps): React.ReactElement {
  const styles = useStyles();
  const { picker } = props;
  const chosen = findTemplate(picker.templates, picker.chosen);
  const titleId = useId("template-picker-title");
  const keyDown = (event: React.KeyboardEvent): void => {
    if (event.key === "Escape" && !event.defaultPrevented) {
      event.preventDefault();
      props.onClose();
    }
  };
  return (
    <section className={styles.picker} aria-labelledby={titleId} data-testid="template-picker" onKeyDown={keyDown}>
      <div className={styles.titleBar}>
        <h2 className={styles.title} id={titleId}>
          {localize("Template_Title")}
        </h2>
        <Button appearance="subtle" size="small" icon={<span aria-hidden="true">✕</span>} aria-label={localize("Template_Close")} title={localize("Template_Close")} onClick={props.onClose} />
      </div>
      {chosen ? <TemplateForm key={templateKey(chosen)} {...props} template={chosen} /> : <TemplateList {...props} />}
    </section>
  );
}

function TemplateList({ picker, onSearch, onLanguage, onChoose, onReload }: TemplatePickerProps): React.ReactElement {
  const styles = useStyles();
  const arrows = useArrowNavigationGroup({ axis: "vertical", memorizeCurrent: true });
  const search = React.useRef<HTMLInputElement>(null);
  React.useEffect(() => search.current?.focus(), []);
  const all = React.useMemo(() => picker.templates ?? [], [picker.templates]);
  // Language names in the agent's own language ("Englisch (Vereinigte Staaten)" for a German agent).
  const { locale } = React.useContext(ClockContext);
  const languages = React.useMemo(() => templateLanguages(all, locale), [all, locale]);
  const shown = React.useMemo(() => filterTemplates(all, picker.search, picker.language), [all, picker.search, picker.language]);
  return (
    <>
      <div className={styles.filters}>
        <SearchBox
          ref={search}
          className={styles.search}
          size="medium"
          aria-label={localize("Template_Search")}
          placeholder={localize("Template_SearchPlaceholder")}
          value={picker.search}
          onChange={(_, data) => onSearch(data.value)}
        />
        <Select className={styles.language} aria-label={localize("Template_Language")} value={picker.language} onChange={(_, data) => onLanguage(data.value)}>
          <option value="">{localize("Template_AllLanguages")}</option>
          {languages.map((language) => (
            <option key={language.code} value={language.code}>
              {language.label}
            </option>
          ))}
        </Select>
      </div>
      {picker.loadProblem ? (
        <div className={styles.problem}>
          <NoticeBar notice={picker.loadProblem} />
          <Button size="small" onClick={onReload} disabled={picker.loading}>
            {localize("Template_TryAgain")}
          </Button>
        </div>
      ) : picker.loading && picker.templates === undefined ? (
        <Spinner className={styles.empty} size="small" label={localize("Template_Loading")} />
      ) : (
        <>
          <div className={styles.count} aria-live="polite" data-template-count={shown.length}>
            {localize("Template_Count", shown.length, all.length)}
          </div>
          {all.length === 0 ? (
            <div className={styles.empty}>{localize("Template_None")}</div>
          ) : shown.length === 0 ? (
            <div className={styles.empty}>{localize("Template_NoMatch", picker.search.trim() || languageLabel(picker.language, locale))}</div>
          ) : (
            <ul className={styles.list} aria-label={localize("Template_List")} {...arrows}>
              {shown.map((template) => (
                <TemplateRow key={templateKey(template)} template={template} onChoose={onChoose} />
              ))}
            </ul>
          )}
        </>
      )}
    </>
  );
}

function TemplateRow({ template, onChoose }: { template: MessageTemplate; onChoose: (key: string) => void }): React.ReactElement {
  const styles = useStyles();
  const { locale } = React.useContext(ClockContext);
  const language = languageLabel(template.language, locale);
  const category = categoryLabel(template.category);
  return (
    <li className={styles.item}>
      <button
        type="button"
        className={styles.row}
        aria-label={localize("Template_Choose", template.name, language, category)}
        data-template={template.name}
        data-language={template.language}
        onClick={() => onChoose(templateKey(template))}
      >
        <span className={styles.rowTop}>
          <span className={styles.name}>{template.name}</span>
          <CategoryBadge className={styles.badge} category={template.category} />
        </span>
        <span className={styles.languageText}>{language}</span>
        {template.preview && <span className={styles.snippet}>{template.preview}</span>}
      </button>
    </li>
  );
}

function TemplateForm(props: TemplatePickerProps & { template: MessageTemplate }): React.ReactElement {
  const styles = useStyles();
  const { picker, template, onBack, onChange, onSend, onUpload, onDismissNotice, marketingOptOut } = props;
  const { locale } = React.useContext(ClockContext);
  const fields = React.useMemo(() => templateFields(template), [template]);
  const missing = missingFields(template, picker.values);
  const preview = templatePreview(template, picker.values);
  const whyId = useId("template-send-why");
  const first = React.useRef<HTMLInputElement>(null);
  const send = React.useRef<HTMLButtonElement>(null);
  // Focus goes to the first field left to fill in (the record may have filled some), else to Send.
  const [focusKey] = React.useState(() => fields.find((field) => !field.media && !(picker.values[field.key] ?? "").trim())?.key);
  React.useEffect(() => (first.current ?? send.current)?.focus(), []);
  const ready = missing.length === 0 && !picker.uploading;
  const submit = (event: React.FormEvent): void => {
    event.preventDefault();
    if (ready && !picker.sending) onSend();
  };
  return (
    <form className={styles.form} onSubmit={submit} noValidate data-template-form={template.name}>
      <div className={styles.formHead}>
        <Button appearance="subtle" size="small" icon={<span aria-hidden="true">←</span>} aria-label={localize("Template_Back")} title={localize("Template_Back")} onClick={onBack} />
        <div className={styles.formTitle}>
          <span className={styles.rowTop}>
            <span className={styles.name}>{template.name}</span>
            <CategoryBadge className={styles.badge} category={template.category} />
          </span>
          <span className={styles.languageText}>{languageLabel(template.language, locale)}</span>
        </div>
      </div>
      <div className={styles.formScroll}>
        {marketingOptOut && isMarketing(template) && (
          // In a block of its own: as a grid item, the bar's own grid keeps one line's height.
          <div>
            <MessageBar intent="warning" layout="multiline" data-opt-out-warning="">
              <MessageBarBody>{localize("Template_OptOutWarning")}</MessageBarBody>
            </MessageBar>
          </div>
        )}
        <TemplatePreviewCard preview={preview} mediaFilename={picker.mediaFile?.filename} />
        {fields.length === 0 ? (
          <div className={styles.why}>{localize("Template_NoFields")}</div>
        ) : (
          <h3 className={styles.fieldsTitle}>{localize("Template_Fields")}</h3>
        )}
        {fields.map((field) =>
          field.media ? (
            <MediaField key={field.key} field={field} picker={picker} onUpload={onUpload} />
          ) : (
            <Field key={field.key} label={field.label} required size="small" hint={fieldHint(field, picker.prefilled.includes(field.key))}>
              <Input
                ref={field.key === focusKey ? first : undefined}
                value={picker.values[field.key] ?? ""}
                placeholder={field.example}
                readOnly={picker.sending}
                data-field={field.key}
                onChange={(_, data) => onChange(field.key, data.value)}
              />
            </Field>
          ),
        )}
      </div>
      {picker.notice && (
        <div className={styles.formNotice}>
          <NoticeBar notice={picker.notice} onDismiss={onDismissNotice} />
        </div>
      )}
      <div className={styles.actions}>
        <span className={styles.why} id={whyId} aria-live="polite">
          {missing.length > 0 ? (fields.length > 1 ? localize("Template_FillMore", missing.length, fields.length) : localize("Template_FillAll")) : ""}
        </span>
        <Button ref={send} appearance="primary" type="submit" disabledFocusable={!ready || picker.sending} aria-describedby={whyId}>
          {picker.sending ? localize("Template_Sending") : localize("Template_Send")}
        </Button>
      </div>
    </form>
  );
}

function fieldHint(field: TemplateField, prefilled: boolean): string | undefined {
  const parts = [
    prefilled ? localize("Template_FromRecord") : undefined,
    field.around ? localize("Template_Around", field.around) : undefined,
    !prefilled && field.example ? localize("Template_Example", field.example) : undefined,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(" ") : undefined;
}

const UPLOAD_HINTS = { image: "Template_UploadHint_image", video: "Template_UploadHint_video", document: "Template_UploadHint_document" } as const;

/** A media header: a file through the chat's upload; its name shows once uploaded. */
function MediaField({ field, picker, onUpload }: { field: TemplateField; picker: PickerState; onUpload: (key: string, file: File) => void }): React.ReactElement {
  const styles = useStyles();
  const input = React.useRef<HTMLInputElement>(null);
  const media = field.media ?? "image";
  const uploaded = picker.mediaFile?.key === field.key ? picker.mediaFile.filename : undefined;
  const picked = (event: React.ChangeEvent<HTMLInputElement>): void => {
    const file = event.target.files?.[0];
    event.target.value = "";
    if (file) onUpload(field.key, file);
  };
  return (
    <Field label={field.label} required size="small" hint={uploaded ? localize("Template_Uploaded", uploaded) : localize(UPLOAD_HINTS[media])}>
      <div className={styles.upload}>
        <input ref={input} className={styles.hiddenInput} type="file" accept={ACCEPT[media]} aria-label={field.label} data-field={field.key} onChange={picked} />
        <Button size="small" onClick={() => input.current?.click()} disabled={picker.uploading || picker.sending}>
          {picker.uploading ? localize("Template_Uploading") : localize("Template_Upload")}
        </Button>
      </div>
    </Field>
  );
}
