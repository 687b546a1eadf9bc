// One log line's ANSI colours, through ansi_up (a maintained converter, not a parser of our own).
// Each line starts from a fresh converter: its colours never depend on the line before it, so the
// virtualised log may render any line alone, in any order.
import { AnsiUp } from "ansi_up";

/**
 * CSI (colours, cursor moves), OSC (titles, hyperlinks: their visible text stays), charset picks and two-byte escapes.
 */
const ANSI_SEQUENCE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[()][0-9A-Za-z]|\x1b[@-Z\\-_]/g;

/** Whether a line carries any escape at all: most do not, and those skip the converter. */
export function hasAnsi(text: string): boolean {
  return text.includes("\x1b");
}

/**
 * The line as HTML: text escaped by ansi_up, colours as `ansi-<colour>-fg|bg` classes (themed in
 * task-page.css for light and dark), true colours as inline styles.
 */
export function ansiLineHtml(text: string): string {
  const converter = new AnsiUp();
  converter.use_classes = true;
  return converter.ansi_to_html(text);
}

/** The line as plain text, every escape sequence removed: what copy and download give. */
export function stripAnsi(text: string): string {
  return hasAnsi(text) ? text.replace(ANSI_SEQUENCE, "") : text;
}
