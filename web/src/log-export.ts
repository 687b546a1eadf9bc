// The log as plain text for a person to keep: copied to the clipboard or downloaded as a file.
import type { LogLine } from "../../protocol/index.ts";
import { stripAnsi } from "./ansi-line.ts";

/** Every line, in order, without colour codes, one per line. */
export function logPlainText(lines: readonly LogLine[]): string {
  return lines.map((line) => stripAnsi(line.text)).join("\n") + (lines.length > 0 ? "\n" : "");
}

/** The file a download is saved as: `task-<id>.log`. */
export function logFileName(taskId: string): string {
  return `task-${taskId.replace(/[^\w.-]/g, "_")}.log`;
}

/** Saves `text` as a file through a temporary object URL. */
export function downloadText(text: string, fileName: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has read the URL once the click's task ran.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/**
 * Puts `text` on the clipboard: the async Clipboard API where the page may use it (a secure context:
 * https or localhost), else a hidden textarea and execCommand, which plain-http pages still allow.
 */
export async function copyText(text: string): Promise<boolean> {
  if (window.isSecureContext && navigator.clipboard !== undefined) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Denied (no permission, page not focused): the fallback may still work.
    }
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  try {
    return document.execCommand("copy");
  } finally {
    area.remove();
  }
}
