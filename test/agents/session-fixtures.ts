// CLI sessions as the session tests need them (docs/sessions.md): claude's transcript and codex's
// rollout as those CLIs write them, and an archive's pieces joined as the task room serves them.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { claudeProjectName } from "../../agents/runtime/session-files.ts";
import type { AttemptSessionArchive, ExecutorSpec, SessionArchiveDownload } from "../../protocol/index.ts";

export const CLAUDE_ID = "94b1eb50-04b0-42ce-ba62-34b98aa75d5a";
export const CODEX_ID = "01a2520c-fabb-7322-ac8c-49be523cd4a1";

const jsonLines = (entries: readonly object[]): string =>
  `${entries.map((entry) => JSON.stringify(entry)).join("\n")}\n`;

/** A transcript as claude 2.1 writes one: an entry per line, each naming the cwd. */
export const claudeTranscript = (cwd: string, extra = ""): string =>
  jsonLines([
    { type: "user", message: { role: "user", content: "Write first.txt" }, cwd, sessionId: CLAUDE_ID },
    {
      type: "assistant",
      message: {
        role: "assistant",
        content: [{ type: "tool_use", name: "Write", input: { file_path: `${cwd}/first.txt`, content: extra } }],
      },
      cwd,
      sessionId: CLAUDE_ID,
    },
  ]);

/** A rollout as codex 0.171 writes one: session_meta first, with the cwd in its payload. */
export const codexRollout = (cwd: string): string =>
  jsonLines([
    { type: "session_meta", payload: { id: CODEX_ID, cwd, runtime_workspace_roots: [cwd] } },
    {
      type: "response_item",
      payload: {
        type: "message",
        role: "user",
        content: [{ type: "input_text", text: `<cwd>${cwd}</cwd> Write first.txt` }],
      },
    },
  ]);

/** Claude's transcript of session CLAUDE_ID for `cwd`, where claude keeps it under `home`. */
export function writeClaudeTranscript(home: string, cwd: string): void {
  const folder = join(home, ".claude/projects", claudeProjectName(cwd));
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, `${CLAUDE_ID}.jsonl`), claudeTranscript(cwd));
}

/** claude as an executor that resumes sessions, with its HOME when given. */
export const claudeExecutor = (home?: string): ExecutorSpec => ({
  command: ["claude", "-p", "{prompt}"],
  format: "claude-stream-json",
  timeout_s: 60,
  resume: ["--resume", "{session_id}"],
  ...(home === undefined ? {} : { env: { HOME: home } }),
});

/** The pieces joined as the task room serves them, with the attempt's diff when it has one. */
export function downloadOf(pieces: AttemptSessionArchive[], diff?: string): SessionArchiveDownload {
  const { type: _type, index: _index, data: _data, ...facts } = pieces[0] as AttemptSessionArchive;
  return { ...facts, data: pieces.map((piece) => piece.data).join(""), ...(diff === undefined ? {} : { diff }) };
}
