import * as React from "react";
import { Button, Popover, PopoverSurface, PopoverTrigger, makeStyles, mergeClasses, tokens, useArrowNavigationGroup } from "@fluentui/react-components";
import { REACTION_EMOJI } from "../model/reactions";
import { localize } from "../strings/strings";
import { EDGE } from "./edges";

/** Set on the message's row while the pointer or focus is on it: the React button shows then. */
export const REACT_VISIBLE = "--wa-react-opacity";

const useStyles = makeStyles({
  trigger: {
    alignSelf: "center",
    flexShrink: 0,
    marginLeft: "4px",
    minWidth: "28px",
    width: "28px",
    height: "28px",
    padding: 0,
    borderRadius: tokens.borderRadiusCircular,
    fontSize: "16px",
    color: tokens.colorNeutralForeground2,
    backgroundColor: tokens.colorNeutralBackground1,
    boxShadow: tokens.shadow2,
    border: EDGE,
    opacity: `var(${REACT_VISIBLE}, 0)`,
    transitionProperty: "opacity",
    transitionDuration: tokens.durationFaster,
    ":focus-visible": { opacity: 1 },
    "@media (hover: none)": { opacity: 1 },
  },
  open: { opacity: 1 },
  surface: { padding: "4px" },
  choices: { display: "flex", gap: "2px" },
  choice: {
    minWidth: "36px",
    width: "36px",
    height: "36px",
    padding: 0,
    fontSize: "20px",
    borderRadius: tokens.borderRadiusCircular,
  },
  current: { backgroundColor: tokens.colorBrandBackground2, ":hover": { backgroundColor: tokens.colorBrandBackground2Hover } },
});

export interface ReactionChoicesProps {
  /** The agent's reaction on the message now, if any: choosing it again takes it away. */
  current?: string;
  onChoose: (emoji: string) => void;
}

/** The quick set of emoji, in a row the arrow keys move along; the agent's current one is pressed. */
export function ReactionChoices({ current, onChoose }: ReactionChoicesProps): React.ReactElement {
  const styles = useStyles();
  const arrows = useArrowNavigationGroup({ axis: "horizontal", circular: true });
  return (
    <div className={styles.choices} role="toolbar" aria-label={localize("Reaction_Picker")} {...arrows}>
      {REACTION_EMOJI.map((emoji) => {
        const mine = emoji === current;
        const label = mine ? localize("Reaction_Remove", emoji) : localize("Reaction_Choose", emoji);
        return (
          <Button
            key={emoji}
            className={mergeClasses(styles.choice, mine && styles.current)}
            appearance="subtle"
            aria-pressed={mine}
            aria-label={label}
            title={label}
            data-emoji={emoji}
            onClick={() => onChoose(emoji)}
          >
            {emoji}
          </Button>
        );
      })}
    </div>
  );
}

export interface ReactionPickerProps extends ReactionChoicesProps {
  disabled?: boolean;
}

/** The React button beside a customer's message (shown on hover or focus), opening the quick set of emoji. */
export function ReactionPicker({ current, onChoose, disabled }: ReactionPickerProps): React.ReactElement {
  const styles = useStyles();
  const [open, setOpen] = React.useState(false);
  // The chat history the button sits in: the emoji row stays inside it (not over the composer or off the panel).
  const trigger = React.useRef<HTMLButtonElement>(null);
  const [boundary, setBoundary] = React.useState<HTMLElement | null>(null);
  const openChange = (next: boolean): void => {
    if (next) setBoundary(trigger.current?.closest<HTMLElement>("[role=log]") ?? null);
    setOpen(next);
  };
  const choose = (emoji: string): void => {
    setOpen(false);
    onChoose(emoji);
  };
  const label = current ? `${localize("Reaction_Open")}. ${localize("Reaction_Yours", current)}` : localize("Reaction_Open");
  return (
    <Popover
      open={open}
      onOpenChange={(_, data) => openChange(data.open)}
      positioning={{ position: "above", align: "center", overflowBoundary: boundary ?? undefined, overflowBoundaryPadding: 4 }}
      withArrow
      trapFocus
      size="small"
    >
      <PopoverTrigger disableButtonEnhancement>
        <Button
          ref={trigger}
          className={mergeClasses(styles.trigger, open && styles.open)}
          appearance="subtle"
          aria-label={label}
          title={localize("Reaction_Open")}
          aria-haspopup="true"
          aria-expanded={open}
          disabled={disabled}
          data-react-button=""
        >
          <span aria-hidden="true">☺</span>
        </Button>
      </PopoverTrigger>
      <PopoverSurface className={styles.surface} aria-label={localize("Reaction_Picker")} data-testid="reaction-picker">
        <ReactionChoices current={current} onChoose={choose} />
      </PopoverSurface>
    </Popover>
  );
}
