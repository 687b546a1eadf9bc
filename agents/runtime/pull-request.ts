// A draft pull request through the agent's own `gh` (docs/delivery.md): the agent's login is the
// only credential, and gh's own words are what a person sees when it fails.
import type { Result } from "../../protocol/index.ts";
import { redactUrl, runProgram } from "./remote-git.ts";

/** gh talks to the forge's API; a minute covers a slow one and still frees the agent. */
const GH_TIMEOUT_MS = 120_000;

/**
 * `[HOST/]OWNER/REPO` as gh's `--repo` takes it, from an https, ssh or scp-like git URL; undefined
 * for a URL that names no forge (a `file://` path), where gh reads the repository from its cwd.
 */
export function repoSlugOf(url: string): string | undefined {
  const scp = url.match(/^(?:[^@/\s]+@)?([A-Za-z0-9.-]+):(?!\/)([^\s]+)$/);
  const parsed = scp === null ? safeUrl(url) : { host: scp[1] ?? "", path: scp[2] ?? "" };
  if (parsed === undefined || parsed.host === "") return undefined;
  const parts = parsed.path
    .replace(/^\/+|\/+$/g, "")
    .replace(/\.git$/, "")
    .split("/");
  if (parts.length !== 2 || parts.some((part) => part === "")) return undefined;
  const [owner, name] = parts;
  return parsed.host.toLowerCase() === "github.com" ? `${owner}/${name}` : `${parsed.host}/${owner}/${name}`;
}

function safeUrl(url: string): { host: string; path: string } | undefined {
  try {
    const parsed = new URL(url);
    if (!["https:", "http:", "ssh:", "git:"].includes(parsed.protocol)) return undefined;
    return { host: parsed.host, path: parsed.pathname };
  } catch {
    return undefined;
  }
}

/**
 * Opens a draft pull request from `head` into `base` and returns its URL (gh prints it last on
 * stdout). Fails with gh's words and what to do: install gh, or `gh auth login` on the agent.
 */
export async function openPullRequest(request: {
  url: string;
  cwd: string;
  head: string;
  base: string;
  title: string;
  body: string;
}): Promise<Result<string, string>> {
  const slug = repoSlugOf(request.url);
  const args = [
    "pr",
    "create",
    "--draft",
    "--head",
    request.head,
    "--base",
    request.base,
    "--title",
    request.title,
    "--body",
    request.body,
    ...(slug === undefined ? [] : ["--repo", slug]),
  ];
  const run = await runProgram("gh", request.cwd, args, GH_TIMEOUT_MS);
  if (run.missing === true)
    return {
      ok: false,
      error:
        "the GitHub CLI (gh) is not installed on this agent: install it (https://cli.github.com), run `gh auth login` as the agent's user, then open the pull request by hand or run the task again",
    };
  const said = redactUrl(`${run.stderr}\n${run.stdout}`.trim()).slice(0, 1500);
  if (run.code !== 0)
    return {
      ok: false,
      error: `gh pr create exited ${run.code}: ${said || "(no output)"}. If it is about authentication, run \`gh auth login\` as the agent's user; then open the pull request by hand or run the task again`,
    };
  const url = run.stdout
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /^https?:\/\/\S+$/.test(line))
    .pop();
  if (url === undefined)
    return { ok: false, error: `gh pr create printed no pull request URL: ${said || "(no output)"}` };
  return { ok: true, value: url };
}
