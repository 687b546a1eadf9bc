import { type TaskRecord, type TaskView, taskMermaid } from "../../protocol/index.ts";

/** How long a watch link in a returned task stays valid. */
export const WATCH_LINK_TTL_MS = 24 * 60 * 60 * 1000;

/** The page URL that opens one task live; the credential rides in the fragment, so it never reaches a server log. */
export function watchUrl(origin: string, taskId: string, linkToken: string): string {
  return `${origin}/#task=${taskId}&token=${encodeURIComponent(linkToken)}`;
}

export function presentTask(task: TaskRecord, url: string): TaskView {
  return { ...task, mermaid: taskMermaid(task), watch_url: url };
}
