// Temporary git repositories for the worktree engine's tests: real git, under os.tmpdir(), removed
// after each test by `removeTemporaryFolders`.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { prepareWorkspace, type WorkspaceRequest, type WorktreeWorkspace } from "../../../agents/runtime/worktree/index.ts";

const made: string[] = [];

export function temporaryFolder(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function removeTemporaryFolders(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** git in cwd, as the user would run it (their identity only where a commit needs one). */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.email=user@example.com", "-c", "user.name=user", ...args], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

export function writeFile(root: string, path: string, content: string | Buffer): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

/** A repository on `main` with one commit: src/app.ts, docs/guide.md, old.txt, and a .gitignore of *.log. */
export function userRepository(): string {
  const dir = temporaryFolder("mesh-wt-repo-");
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "src/app.ts", "export const app = 1;\n");
  writeFile(dir, "docs/guide.md", "# Guide\n");
  writeFile(dir, "old.txt", "to be deleted\n");
  writeFile(dir, ".gitignore", "*.log\n");
  git(dir, "add", ".");
  git(dir, "commit", "-qm", "initial");
  return dir;
}

/** What must stay identical in the user's checkout while attempts run: HEAD, branch, status and stashes. */
export function checkoutState(repo: string): string {
  return [git(repo, "rev-parse", "HEAD"), git(repo, "symbolic-ref", "-q", "HEAD"), git(repo, "status", "--porcelain=v1", "--untracked-files=all", "--ignored"), git(repo, "stash", "list")].join("\n---\n");
}

const base: Omit<WorkspaceRequest, "cwd"> = { taskId: "01JTASKULID", taskName: "fix-login", attempt: 1, tier: "sonnet" };

/** A worktree workspace for the request (failing the test otherwise). */
export async function worktreeFor(cwd: string, worktreesDir: string, request: Partial<WorkspaceRequest> = {}): Promise<WorktreeWorkspace> {
  const prepared = await prepareWorkspace({ ...base, cwd, ...request }, { worktreesDir });
  if (!prepared.ok) throw new Error(`prepareWorkspace failed: ${prepared.error}`);
  if (prepared.value.isolation !== "worktree") throw new Error(`ran in place: ${prepared.value.reason}`);
  return prepared.value;
}
