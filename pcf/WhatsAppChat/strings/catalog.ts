/**
 * A control's words: the platform's strings file (`context.resources.getString`, which D365 answers
 * from the .resx of the user's language), with the English table as the fallback where the platform
 * has none (the harness, the tests). The table's keys are the only keys there are: a key that is not
 * in it does not compile, and a unit test keeps it, the English .resx and its translations the same.
 */

/** `{0}`, `{1}`… filled in with the values, in the one place both controls format their words. */
export function fillPlaceholders(text: string, values: readonly (string | number)[]): string {
  return text.replace(/\{(\d+)\}/g, (whole, index: string) => {
    const value = values[Number(index)];
    return value === undefined ? whole : String(value);
  });
}

// Function-valued properties, not methods: each module exports them on their own.
export interface StringCatalog<Key extends string> {
  /** Reads the platform's strings from now on (undefined: the English table). */
  load: (getString: ((key: string) => string) | undefined) => void;
  /** The word for `key`, with `{0}`, `{1}`… filled in. */
  localize: (key: Key, ...values: (string | number)[]) => string;
}

export function stringCatalog<Key extends string>(english: Readonly<Record<Key, string>>): StringCatalog<Key> {
  let active: Readonly<Record<Key, string>> = english;
  return {
    load: (getString) => {
      if (!getString) {
        active = english;
        return;
      }
      const loaded: Record<Key, string> = { ...english };
      for (const key of Object.keys(english) as Key[]) {
        let value: unknown;
        try {
          value = getString(key);
        } catch {
          value = undefined;
        }
        // The platform answers the key itself (or nothing) for a name its strings file does not have.
        if (typeof value === "string" && value.trim() !== "" && value !== key) loaded[key] = value;
      }
      active = loaded;
    },
    localize: (key, ...values) => fillPlaceholders(active[key], values),
  };
}
