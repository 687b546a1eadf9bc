import { z } from "zod";

// Repositories by URL and delivery (docs/repositories.md): a task may name a git URL instead of a
// `cwd`; the agent clones it into a mirror with its own credentials, none of which travel here.

/** A repository URL as a task names it; `repoUrlProblem` says what is wrong with one. */
export const RepoUrl = z.string().min(1).max(2000);

/** What happens to a repo task's result: nothing (default), its branch pushed, or pushed and a draft PR opened. */
export const DeliverMode = z.enum(["none", "push", "pr"]);
export type DeliverMode = z.infer<typeof DeliverMode>;

/** Where a repo task's result went (filled once the task succeeded and delivery ran). */
export const Delivery = z.object({
  mode: DeliverMode,
  /** The branch on the remote, `mesh/<task name or id>/<n>-<tier>`. */
  remote_branch: z.string().optional(),
  pushed_commit: z.string().optional(),
  pr_url: z.string().optional(),
  /** Why the push or the PR failed: the remote's own words; the result and its local branch stay. */
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type Delivery = z.infer<typeof Delivery>;

const CREDENTIALS_ADVICE =
  "credentials in the URL would reach logs; use the agent's git credential helper, SSH agent or gh login";
const SCHEMES = ["https", "http", "ssh", "git", "file"];
const LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]", "::1"];
/**
 * `[user@]host:path`, git's scp-like syntax: no slash before the colon, a host of two or more characters (not a drive
 * letter).
 */
const SCP_LIKE = /^(?:([^@/:\s]+)@)?([A-Za-z0-9][A-Za-z0-9.-]+):(?!\/\/)(.+)$/;

/** A repository URL split into what names its mirror; null when it is not one git URL we accept. */
export type RepoUrlParts = { scheme: string; host: string; port: string; path: string };

/**
 * What is wrong with a repository URL, or null: only https, ssh (`ssh://` or `user@host:path`), git
 * and file URLs (plain http to a loopback host only, for a local git server); never credentials in it.
 */
export function repoUrlProblem(url: string): string | null {
  if (/[\s\u0000-\u001f\u007f]/.test(url) || url.startsWith("-"))
    return "repo: a git URL has no spaces or control characters and does not start with '-'";
  const scp = SCP_LIKE.exec(url);
  if (!url.includes("://") && scp !== null) {
    if (url.slice(0, url.indexOf("@") + 1).includes(":")) return `repo: ${CREDENTIALS_ADVICE}`;
    return null;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "repo: not a git URL; give https://host/owner/name.git, ssh://git@host/owner/name.git, git@host:owner/name.git, git://host/name or file:///path";
  }
  const scheme = parsed.protocol.replace(/:$/, "");
  if (!SCHEMES.includes(scheme)) return `repo: the scheme '${scheme}' is not accepted; use https, ssh, git or file`;
  if (scheme === "http" && !LOOPBACK_HOSTS.includes(parsed.hostname))
    return "repo: plain http is accepted for a loopback host only; use https";
  if (parsed.password !== "" || (parsed.username !== "" && scheme !== "ssh")) return `repo: ${CREDENTIALS_ADVICE}`;
  if (parsed.search !== "" || parsed.hash !== "") return "repo: a git URL has no query or fragment";
  if (scheme === "file" ? parsed.pathname.length < 2 : parsed.hostname === "" || parsed.pathname.length < 2)
    return "repo: the URL names no repository path";
  return null;
}

/** The host, port and path of an accepted repository URL (for its mirror's directory name). */
export function repoUrlParts(url: string): RepoUrlParts {
  const scp = SCP_LIKE.exec(url);
  if (!url.includes("://") && scp !== null) return { scheme: "ssh", host: scp[2] ?? "", port: "", path: scp[3] ?? "" };
  const parsed = new URL(url);
  return {
    scheme: parsed.protocol.replace(/:$/, ""),
    host: parsed.hostname,
    port: parsed.port,
    path: decodeURIComponent(parsed.pathname),
  };
}

/**
 * The URL with any user information replaced, for messages and logs (we refuse credentials, but say nothing of one that
 * slips by).
 */
export function redactRepoUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, "$1***@").replace(/^[^@/:]*:[^@/]*@/, "***@");
}

/** What is wrong with a task's repository arguments together, or null (each message names its field). */
export function repoArgsProblem(args: {
  repo?: string | undefined;
  deliver?: string | undefined;
  cwd?: string | undefined;
  isolation?: string | undefined;
}): string | null {
  if (args.repo === undefined)
    return args.deliver !== undefined && args.deliver !== "none"
      ? "deliver: only a task with a repo delivers; give repo or drop deliver"
      : null;
  if (args.cwd !== undefined)
    return "repo: give repo or cwd, not both (a repo task runs in a worktree of the agent's mirror of it)";
  if (args.isolation === "none") return "isolation: a repo task always runs in its own worktree; drop isolation: none";
  return repoUrlProblem(args.repo);
}
