// Reads the page's fragment (`#task=<id>&token=<token>`): credentials ride there so no server log sees them.

/** What the page was opened for: a task to watch and the credential to watch it with, each optional. */
export type PageParams = { taskId: string | null; token: string | null };

/** Prefix of a task-scoped viewer link (`v1.task-<id>.<exp>.<sig>`); such a link may not open the registry. */
const TASK_LINK_PREFIX = "v1.task-";

/**
 * Parses `#a=b&c=d` by hand rather than with URLSearchParams, which would turn a `+` in a token
 * into a space. A task link alone names its task, so `#token=v1.task-…` selects that task too.
 */
export function parsePageFragment(hash: string): PageParams {
  const values = new Map<string, string>();
  for (const pair of hash.replace(/^#/, "").split("&")) {
    if (pair === "") continue;
    const at = pair.indexOf("=");
    const key = decodePart(at === -1 ? pair : pair.slice(0, at));
    const value = at === -1 ? "" : decodePart(pair.slice(at + 1));
    if (key !== null && value !== null) values.set(key, value.trim());
  }
  const token = values.get("token") || null;
  const taskId = values.get("task") || (token === null ? null : taskIdOfLink(token));
  return { taskId, token };
}

/** Whether a token is a viewer link scoped to one task. */
export function isTaskLink(token: string): boolean {
  return token.startsWith(TASK_LINK_PREFIX);
}

/** The task a task link is scoped to; null for any other token. */
export function taskIdOfLink(token: string): string | null {
  if (!isTaskLink(token)) return null;
  const id = token.slice(TASK_LINK_PREFIX.length).split(".")[0] ?? "";
  return id === "" ? null : id;
}

/** The fragment that opens `taskId` with `token`: the form the mesh's watch links use. */
export function taskFragment(taskId: string, token: string): string {
  return `#task=${encodeURIComponent(taskId)}&token=${encodeURIComponent(token)}`;
}

/** The fragment that opens the dashboard with `token`. */
export function dashboardFragment(token: string): string {
  return `#token=${encodeURIComponent(token)}`;
}

function decodePart(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}
