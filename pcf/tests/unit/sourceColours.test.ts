import { describe, expect, it } from "vitest";
import { type Literal, controlSources, literalsOf } from "./sourceScan";

/**
 * Every colour in the controls is a Fluent theme token, so the theme (light, dark, high contrast)
 * decides all of them: no #hex, rgb(), hsl() or named colour in their code.
 */

const FUNCTION = /\b(rgba?|hsla?|hwb|lab|lch|oklab|oklch|color)\(/i;
const HEX = /(^|[^\w&])#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})\b/i;
// CSS's named colours (CSS Color 4).
const NAMED = new Set(
  (
    "aliceblue antiquewhite aqua aquamarine azure beige bisque black blanchedalmond blue blueviolet brown burlywood cadetblue chartreuse " +
    "chocolate coral cornflowerblue cornsilk crimson cyan darkblue darkcyan darkgoldenrod darkgray darkgreen darkgrey darkkhaki darkmagenta " +
    "darkolivegreen darkorange darkorchid darkred darksalmon darkseagreen darkslateblue darkslategray darkslategrey darkturquoise darkviolet " +
    "deeppink deepskyblue dimgray dimgrey dodgerblue firebrick floralwhite forestgreen fuchsia gainsboro ghostwhite gold goldenrod gray grey " +
    "green greenyellow honeydew hotpink indianred indigo ivory khaki lavender lavenderblush lawngreen lemonchiffon lightblue lightcoral " +
    "lightcyan lightgoldenrodyellow lightgray lightgreen lightgrey lightpink lightsalmon lightseagreen lightskyblue lightslategray " +
    "lightslategrey lightsteelblue lightyellow lime limegreen linen magenta maroon mediumaquamarine mediumblue mediumorchid mediumpurple " +
    "mediumseagreen mediumslateblue mediumspringgreen mediumturquoise mediumvioletred midnightblue mintcream mistyrose moccasin navajowhite " +
    "navy oldlace olive olivedrab orange orangered orchid palegoldenrod palegreen paleturquoise palevioletred papayawhip peachpuff peru pink " +
    "plum powderblue purple rebeccapurple red rosybrown royalblue saddlebrown salmon sandybrown seagreen seashell sienna silver skyblue " +
    "slateblue slategray slategrey snow springgreen steelblue tan teal thistle tomato turquoise violet wheat white whitesmoke yellow yellowgreen"
  ).split(" "),
);
// The system colours of forced-colours mode: colours in a colour property, ordinary words elsewhere ("field").
const SYSTEM = new Set(
  "canvas canvastext linktext visitedtext activetext buttonface buttontext buttonborder field fieldtext highlight highlighttext selecteditem selecteditemtext mark marktext graytext accentcolor accentcolortext".split(
    " ",
  ),
);
// Properties that take a colour: a named colour there is a colour, elsewhere it may be a word.
const COLOUR_PROPERTY = /^property:.*(color|colour|background|border|outline|shadow|fill|stroke|caret|accent|decoration|columnRule)/i;

/** Colours the theme cannot decide, each with why. None today; a new one must say why here. */
const ALLOWED: { file: string; text: string; why: string }[] = [];

function colourIn(literal: Literal): string | undefined {
  const hex = HEX.exec(literal.text);
  if (hex) return hex[0].trim();
  const call = FUNCTION.exec(literal.text);
  if (call) return call[0];
  const words = literal.text.toLowerCase().split(/[^a-z]+/);
  if (COLOUR_PROPERTY.test(literal.where)) return words.find((word) => NAMED.has(word) || SYSTEM.has(word));
  // Elsewhere only a whole value is a colour ("red"), not a word in a sentence.
  const whole = literal.text.trim().toLowerCase();
  return literal.where === "string" && NAMED.has(whole) ? whole : undefined;
}

describe("the controls' colours", () => {
  const literals = controlSources().flatMap(literalsOf);

  it("are all theme tokens: no colour is written in the code", () => {
    const written = literals
      .filter((literal) => !ALLOWED.some((entry) => entry.file === literal.file && entry.text === literal.text))
      .flatMap((literal) => {
        const colour = colourIn(literal);
        return colour ? [`${literal.file}:${literal.line} ${colour} in "${literal.text}"`] : [];
      });
    expect(written).toEqual([]);
  });

  it("the scan sees a colour however it is written", () => {
    const probe = (text: string, where = "property:color"): string | undefined => colourIn({ file: "probe.ts", line: 1, text, where });
    expect(probe("#53bdeb")).toBe("#53bdeb");
    expect(probe("1px solid #fff", "property:border")).toBe("#fff");
    expect(probe("rgba(11, 20, 26, 0.06)", "property:backgroundColor")).toBe("rgba(");
    expect(probe("hsl(120 50% 50%)")).toBe("hsl(");
    expect(probe("2px dashed red", "property:outline")).toBe("red");
    expect(probe("white", "string")).toBe("white");
    expect(probe("Highlight", "property:outlineColor")).toBe("highlight");
    // Not colours: a theme token's CSS variable, an id, a sentence that names one.
    expect(probe("var(--colorNeutralBackground1)")).toBeUndefined();
    expect(probe('[data-message-id="#12"]', "string")).toBeUndefined();
    expect(probe("The red button", "property:text")).toBeUndefined();
  });
});
