/**
 * How a message quotes what a caller sent: a bounded, escaped excerpt, so an
 * error about a 200,000-character field stays a short line (a long
 * grpc-message makes some clients fail the whole call) and no control,
 * format or invisible character of the input reaches a reply or a log line
 * as itself.
 */

/** Characters of the input quoted before the excerpt is cut. */
export const EXCERPT_CHARACTERS = 32;

/**
 * Escaped as \uXXXX: C0 and C1 controls, DEL, and the spaces, joiners, marks
 * and separators that look like nothing or like an ordinary space (NBSP, BOM,
 * U+2028, ...), and lone surrogates.
 */
const INVISIBLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this pattern's job
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: the surrogate ranges match lone surrogates on purpose
  /[\u0000-\u001f\u007f-\u00a0\u00ad\u034f\u061c\u115f\u1160\u1680\u17b4\u17b5\u180b-\u180f\u2000-\u200f\u2028-\u202f\u205f-\u206f\u2800\u3000\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * `text` in double quotes, escaped, cut after `maxCharacters` code points;
 * a cut excerpt says how long the whole text was: `"aaaa…" (10000 characters)`.
 */
export function excerpt(text: string, maxCharacters = EXCERPT_CHARACTERS): string {
  const codePoints = Array.from(text.length > maxCharacters * 2 + 2 ? text.slice(0, maxCharacters * 2 + 2) : text);
  const cut = codePoints.length > maxCharacters;
  const shown = (cut ? codePoints.slice(0, maxCharacters) : codePoints).join("");
  const escaped = shown.replace(/["\\\n\r\t]/g, (character) => SHORT_ESCAPES[character]!).replace(INVISIBLE, escapeCodeUnits);
  return cut ? `"${escaped}…" (${text.length} characters)` : `"${escaped}"`;
}

function escapeCodeUnits(match: string): string {
  let escaped = "";
  for (let index = 0; index < match.length; index++) escaped += `\\u${match.charCodeAt(index).toString(16).padStart(4, "0")}`;
  return escaped;
}
