import * as React from "react";
import { makeStyles, mergeClasses, tokens } from "@fluentui/react-components";
import type { Delivery } from "../model/delivery";
import { DELIVERY_MARK, deliveryLabel } from "../model/delivery";

const useStyles = makeStyles({
  ticks: { marginLeft: "4px", fontSize: tokens.fontSizeBase200, letterSpacing: "-2px", color: tokens.colorNeutralForeground3 },
  // Read: the brand's blue, as WhatsApp's blue ticks (the label and title say it in words too).
  read: { color: tokens.colorBrandForeground1, fontWeight: tokens.fontWeightBold },
  failed: { color: tokens.colorPaletteRedForeground1, fontWeight: tokens.fontWeightBold, letterSpacing: "0" },
  sending: { letterSpacing: "0" },
});

/** ✓ sent, ✓✓ delivered, blue ✓✓ read, ! failed, ◷ still with WhatsApp. */
export function DeliveryTicks({ delivery }: { delivery: Delivery }): React.ReactElement | null {
  const styles = useStyles();
  if (delivery === "none") return null;
  const className = mergeClasses(
    styles.ticks,
    delivery === "read" && styles.read,
    delivery === "failed" && styles.failed,
    delivery === "sending" && styles.sending,
  );
  return (
    <span className={className} role="img" aria-label={deliveryLabel(delivery)} title={deliveryLabel(delivery)} data-delivery={delivery}>
      {DELIVERY_MARK[delivery]}
    </span>
  );
}
