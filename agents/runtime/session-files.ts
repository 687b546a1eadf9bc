// Where each CLI keeps a session, and how one is taken from this machine and put on another
// (docs/sessions.md). claude keeps each session as a transcript under its config folder, in a folder
// named after the cwd (every character but letters and digits made `-`), and resumes a session only
// from the folder of the cwd it runs in; codex keeps a rollout file under its home's `sessions/`
// (found by id wherever it is); opencode's goes through its own export and import. Each writes the
// cwd into the session: it is rewritten for the new one.
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { promisify } from "node:util";
import { gunzip as gunzipCallback, gzip as gzipCallback } from "node:zlib";
import {
  type AttemptSessionArchive,
  type CarriedCli,
  type ExecutorSpec,
  type Result,
  SESSION_ARCHIVE_MAX_BYTES,
  SESSION_ARCHIVE_PIECE_CHARS,
  type SessionArchiveDownload,
} from "../../protocol/index.ts";
import { asObject, parseJson, parseJsonObject, str } from "./formats/json-reader.ts";
import { exportOpencodeSession, importOpencodeSession } from "./opencode-session.ts";

/** The CLI whose session an executor's runs leave where this agent can carry it from, or undefined (gemini, text). */
export function carriedCliOf(executor: ExecutorSpec): CarriedCli | undefined {
  const program = basename(executor.command[0] ?? "");
  if (program === "claude" && (executor.format === "claude-stream-json" || executor.format === "claude-json"))
    return "claude";
  if (program === "codex" && executor.format === "codex-jsonl") return "codex";
  if (program === "opencode" && executor.format === "opencode-json") return "opencode";
  return undefined;
}

/**
 * The folder claude or codex keeps its sessions in, under the environment the executor runs with (its own `env` over
 * the agent's).
 */
export function sessionFolderOf(cli: Exclude<CarriedCli, "opencode">, env: NodeJS.ProcessEnv): string | undefined {
  const home = env.HOME;
  if (cli === "claude") return env.CLAUDE_CONFIG_DIR ?? (home === undefined ? undefined : join(home, ".claude"));
  const codexHome = env.CODEX_HOME ?? (home === undefined ? undefined : join(home, ".codex"));
  return codexHome === undefined ? undefined : join(codexHome, "sessions");
}

/** claude's folder name for a cwd (measured with claude 2.1: `/tmp/a_b c/d.e` → `-tmp-a-b-c-d-e`). */
export function claudeProjectName(cwd: string): string {
  return cwd.replace(/[^a-zA-Z0-9]/g, "-");
}

/**
 * claude shortens folder names past this length (with a hash we do not reproduce): such a cwd's session is not carried.
 */
const CLAUDE_NAME_MAX = 200;

/** Where the session file is: claude's under its cwd's project folder, codex's wherever its id names it. */
async function findSessionFile(
  cli: Exclude<CarriedCli, "opencode">,
  folder: string,
  sessionId: string,
  cwd: string,
): Promise<string | undefined> {
  if (cli === "claude") {
    const path = join(folder, "projects", claudeProjectName(cwd), `${sessionId}.jsonl`);
    if (await isFile(path)) return path;
    // A cwd claude saw through a symbolic link (macOS /tmp is /private/tmp) names another folder: any project's file of
    // that id.
    const projects = await readdir(join(folder, "projects")).catch(() => []);
    for (const project of projects)
      if (await isFile(join(folder, "projects", project, `${sessionId}.jsonl`)))
        return join(folder, "projects", project, `${sessionId}.jsonl`);
    return undefined;
  }
  return findRollout(folder, sessionId, 0);
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** codex's `sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl`: newest day first, three levels deep. */
export async function findRollout(dir: string, sessionId: string, depth: number): Promise<string | undefined> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  if (depth === 3) {
    const file = entries.find(
      (e) => e.isFile() && e.name.startsWith("rollout-") && e.name.endsWith(`-${sessionId}.jsonl`),
    );
    return file === undefined ? undefined : join(dir, file.name);
  }
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => b.name.localeCompare(a.name))) {
    const found = await findRollout(join(dir, entry.name), sessionId, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

export interface CaptureInput {
  cli: CarriedCli;
  attempt: number;
  sessionId: string;
  /** The directory the CLI ran in. */
  cwd: string;
  /** The executor's environment (HOME, CODEX_HOME, CLAUDE_CONFIG_DIR). */
  env: NodeJS.ProcessEnv;
  /** The executor's program (its command's first element): opencode exports its session itself. */
  program?: string;
  /** The cap on the gzip (SESSION_ARCHIVE_MAX_BYTES; smaller in tests). */
  maxBytes?: number;
}

/** The session as the CLI keeps it, and where (relative to its session folder). */
async function sessionSource(input: CaptureInput): Promise<Result<{ raw: Buffer; file: string }, string>> {
  if (input.cli === "opencode") {
    const exported = await exportOpencodeSession(input.program ?? "opencode", input.sessionId, input.cwd, input.env);
    return exported.ok
      ? { ok: true, value: { raw: Buffer.from(exported.value, "utf8"), file: `${input.sessionId}.json` } }
      : exported;
  }
  const folder = sessionFolderOf(input.cli, input.env);
  if (folder === undefined) return { ok: false, error: `no HOME to find ${input.cli}'s sessions in` };
  const path = await findSessionFile(input.cli, folder, input.sessionId, input.cwd);
  if (path === undefined)
    return { ok: false, error: `${input.cli} left no session file for ${input.sessionId} under ${folder}` };
  return {
    ok: true,
    value: {
      raw: await readFile(path),
      file: input.cli === "claude" ? `${input.sessionId}.jsonl` : relative(folder, path),
    },
  };
}

/**
 * The session in pieces for `attempt.session_archive`, with its sizes; an error says why not (no session, over the
 * cap).
 */
export async function captureSession(
  input: CaptureInput,
): Promise<Result<{ pieces: AttemptSessionArchive[]; bytes: number; gzipBytes: number }, string>> {
  const source = await sessionSource(input);
  if (!source.ok) return source;
  const { raw, file } = source.value;
  const cwd = cwdWritten(raw.toString("utf8")) ?? input.cwd;
  // Off the main thread: a long transcript at level 9 would stall the agent's other attempts and its heartbeat.
  const gzip = await gzipAsync(raw, { level: 9 });
  const cap = input.maxBytes ?? SESSION_ARCHIVE_MAX_BYTES;
  if (gzip.byteLength > cap)
    return {
      ok: false,
      error: `${input.cli}'s session ${input.sessionId} is ${kib(gzip.byteLength)} compressed (${kib(raw.byteLength)} as written), over the ${kib(cap)} cap`,
    };
  const data = gzip.toString("base64");
  const count = Math.ceil(data.length / SESSION_ARCHIVE_PIECE_CHARS);
  const facts = {
    attempt: input.attempt,
    cli: input.cli,
    session_id: input.sessionId,
    cwd,
    file,
    encoding: "gzip-base64" as const,
    bytes: raw.byteLength,
    gzip_bytes: gzip.byteLength,
    sha256: createHash("sha256").update(gzip).digest("hex"),
    count,
  };
  const pieces = Array.from(
    { length: count },
    (_, index): AttemptSessionArchive => ({
      type: "attempt.session_archive",
      ...facts,
      index,
      data: data.slice(index * SESSION_ARCHIVE_PIECE_CHARS, (index + 1) * SESSION_ARCHIVE_PIECE_CHARS),
    }),
  );
  return { ok: true, value: { pieces, bytes: raw.byteLength, gzipBytes: gzip.byteLength } };
}

/**
 * The cwd the CLI wrote into its session (claude: each entry's `cwd`; codex: `session_meta`'s `payload.cwd`; opencode:
 * `info.directory`), as it saw it.
 */
function cwdWritten(text: string): string | undefined {
  const absolute = (path: string | undefined): string | undefined =>
    path?.startsWith("/") === true ? path : undefined;
  if (text.startsWith("{\n")) {
    const directory = absolute(str(asObject(asObject(parseJson(text))?.info), "directory"));
    if (directory !== undefined) return directory;
  }
  for (const line of text.split("\n").slice(0, 50)) {
    const entry = parseJsonObject(line);
    const cwd = absolute(str(entry, "cwd")) ?? absolute(str(asObject(entry?.payload), "cwd"));
    if (cwd !== undefined) return cwd;
  }
  return undefined;
}

const gzipAsync = promisify(gzipCallback);
const gunzipAsync = promisify(gunzipCallback);

export const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

/**
 * The session's text with the old cwd made the new one, as written in the file: plainly and
 * JSON-escaped (a path holding a quote or backslash is escaped inside JSON strings).
 */
export function rewriteCwd(text: string, from: string, to: string): string {
  if (from === to) return text;
  const escaped = (path: string): string => JSON.stringify(path).slice(1, -1);
  const once = text.split(escaped(from)).join(escaped(to));
  return escaped(from) === from ? once : once.split(from).join(to);
}

/**
 * Puts a fetched session where its CLI looks for it when run in `cwd` (opencode: imports it); what was done, or why
 * not.
 */
export async function restoreSession(
  archive: SessionArchiveDownload,
  cwd: string,
  env: NodeJS.ProcessEnv,
  program?: string,
): Promise<Result<string, string>> {
  const gzip = Buffer.from(archive.data, "base64");
  if (createHash("sha256").update(gzip).digest("hex") !== archive.sha256)
    return { ok: false, error: "the session archive does not match its checksum" };
  let text: string;
  try {
    text = (await gunzipAsync(gzip)).toString("utf8");
  } catch (cause) {
    return {
      ok: false,
      error: `the session archive does not unpack (${cause instanceof Error ? cause.message : String(cause)})`,
    };
  }
  if (archive.cli === "opencode")
    return importOpencodeSession(program ?? "opencode", rewriteCwd(text, archive.cwd, cwd), cwd, env);
  const folder = sessionFolderOf(archive.cli, env);
  if (folder === undefined) return { ok: false, error: `no HOME to put ${archive.cli}'s session in` };
  let path: string;
  if (archive.cli === "claude") {
    const name = claudeProjectName(cwd);
    if (name.length > CLAUDE_NAME_MAX)
      return {
        ok: false,
        error: `the worktree path is longer than claude's ${CLAUDE_NAME_MAX}-character project names`,
      };
    path = join(folder, "projects", name, `${archive.session_id}.jsonl`);
  } else {
    path = join(folder, archive.file);
  }
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, rewriteCwd(text, archive.cwd, cwd), { mode: 0o600 });
  return { ok: true, value: `restored to ${path}` };
}
