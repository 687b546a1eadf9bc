// Capturing a CLI session on one machine and restoring it on another (docs/sessions.md): where
// claude's and codex's files are, the cap, pieces, the cwd rewrite, and what is refused.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  captureSession,
  carriedCliOf,
  claudeProjectName,
  restoreSession,
  rewriteCwd,
} from "../../agents/runtime/session-files.ts";
import { AttemptSessionArchive, SESSION_ARCHIVE_PIECE_CHARS } from "../../protocol/index.ts";
import { tempDirs } from "../temp-dirs.ts";
import {
  CLAUDE_ID,
  CODEX_ID,
  claudeExecutor as claudeExecutorFor,
  claudeTranscript,
  codexRollout,
  downloadOf,
} from "./session-fixtures.ts";

const tempDir = tempDirs();
const temp = (): string => tempDir("mesh-session-files-");
const claudeExecutor = claudeExecutorFor();

describe("which CLIs' sessions can move", () => {
  it("claude, codex and opencode, by program and format; gemini and text executors cannot", () => {
    expect(carriedCliOf(claudeExecutor)).toBe("claude");
    expect(
      carriedCliOf({ command: ["/opt/bin/codex", "exec", "{prompt}"], format: "codex-jsonl", timeout_s: 60 }),
    ).toBe("codex");
    expect(
      carriedCliOf({ command: ["gemini", "-p", "{prompt}"], format: "gemini-stream-json", timeout_s: 60 }),
    ).toBeUndefined();
    expect(carriedCliOf({ command: ["opencode", "run", "{prompt}"], format: "opencode-json", timeout_s: 60 })).toBe(
      "opencode",
    );
    expect(carriedCliOf({ command: ["claude", "{prompt}"], format: "text", timeout_s: 60 })).toBeUndefined();
  });

  it("names claude's project folder as claude 2.1 does: every character but letters and digits becomes '-'", () => {
    expect(claudeProjectName("/tmp/sh-probe/w1/sub.dir")).toBe("-tmp-sh-probe-w1-sub-dir");
    expect(claudeProjectName("/tmp/sh-probe/w2/other_x y")).toBe("-tmp-sh-probe-w2-other-x-y");
  });
});

describe("a claude session from one HOME to another", () => {
  it("is captured from the old cwd's project folder and restored under the new cwd's, every cwd rewritten", async () => {
    const [homeA, homeB] = [temp(), temp()];
    const oldCwd = "/work/agent-a/worktrees/repo/01TASK/1-sonnet";
    const newCwd = "/srv/agent-b/worktrees/repo/01TASK/2-sonnet";
    const folder = join(homeA, ".claude/projects", claudeProjectName(oldCwd));
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `${CLAUDE_ID}.jsonl`), claudeTranscript(oldCwd));

    const captured = await captureSession({
      cli: "claude",
      attempt: 1,
      sessionId: CLAUDE_ID,
      cwd: oldCwd,
      env: { HOME: homeA },
    });
    if (!captured.ok) throw new Error(captured.error);
    expect(captured.value.pieces).toHaveLength(1);
    const piece = AttemptSessionArchive.parse(captured.value.pieces[0]);
    expect(piece).toMatchObject({
      cli: "claude",
      session_id: CLAUDE_ID,
      cwd: oldCwd,
      file: `${CLAUDE_ID}.jsonl`,
      count: 1,
      index: 0,
      bytes: claudeTranscript(oldCwd).length,
    });
    expect(piece.gzip_bytes).toBeLessThan(piece.bytes);

    const restored = await restoreSession(downloadOf(captured.value.pieces), newCwd, { HOME: homeB });
    if (!restored.ok) throw new Error(restored.error);
    const path = join(homeB, ".claude/projects", claudeProjectName(newCwd), `${CLAUDE_ID}.jsonl`);
    expect(restored.value).toBe(`restored to ${path}`);
    expect(readFileSync(path, "utf8")).toBe(claudeTranscript(newCwd));
  });

  it("takes CLAUDE_CONFIG_DIR over HOME, as claude does", async () => {
    const [home, config] = [temp(), temp()];
    const cwd = "/w/1";
    mkdirSync(join(config, "projects", claudeProjectName(cwd)), { recursive: true });
    writeFileSync(join(config, "projects", claudeProjectName(cwd), `${CLAUDE_ID}.jsonl`), claudeTranscript(cwd));
    const captured = await captureSession({
      cli: "claude",
      attempt: 1,
      sessionId: CLAUDE_ID,
      cwd,
      env: { HOME: home, CLAUDE_CONFIG_DIR: config },
    });
    expect(captured.ok).toBe(true);
  });

  it("says so when there is no file of that session", async () => {
    const captured = await captureSession({
      cli: "claude",
      attempt: 1,
      sessionId: CLAUDE_ID,
      cwd: "/w/1",
      env: { HOME: temp() },
    });
    expect(captured).toMatchObject({
      ok: false,
      error: expect.stringContaining(`claude left no session file for ${CLAUDE_ID}`),
    });
  });
});

describe("a codex rollout from one CODEX_HOME to another", () => {
  it("is found by its id under sessions/YYYY/MM/DD and restored at the same place under the new home", async () => {
    const [homeA, homeB] = [temp(), temp()];
    const day = join(homeA, "sessions/2026/12/07");
    mkdirSync(day, { recursive: true });
    const name = `rollout-2026-12-07T19-48-32-${CODEX_ID}.jsonl`;
    writeFileSync(join(day, name), codexRollout("/a/1-codex"));
    writeFileSync(join(day, "rollout-2026-12-07T19-00-00-other.jsonl"), "{}\n");

    const captured = await captureSession({
      cli: "codex",
      attempt: 1,
      sessionId: CODEX_ID,
      cwd: "/a/1-codex",
      env: { HOME: temp(), CODEX_HOME: homeA },
    });
    if (!captured.ok) throw new Error(captured.error);
    expect(captured.value.pieces[0]?.file).toBe(`2026/12/07/${name}`);
    const restored = await restoreSession(downloadOf(captured.value.pieces), "/b/2-codex", {
      HOME: temp(),
      CODEX_HOME: homeB,
    });
    if (!restored.ok) throw new Error(restored.error);
    expect(restored.value).toBe(`restored to ${join(homeB, "sessions/2026/12/07", name)}`);
    expect(readFileSync(join(homeB, "sessions/2026/12/07", name), "utf8")).toBe(codexRollout("/b/2-codex"));
  });
});

/**
 * A stand-in for opencode's own export and import (the real ones are run in test/real-clis): the
 * database is a folder of `<id>.json` under $HOME; import also notes the cwd it ran in.
 */
function fakeOpencode(dir: string): string {
  const program = join(dir, "opencode");
  writeFileSync(
    program,
    `#!${process.execPath}
const fs = require("node:fs"), path = require("node:path");
const store = path.join(process.env.HOME, "db");
fs.mkdirSync(store, { recursive: true });
const [command, arg] = process.argv.slice(2);
if (command === "export") process.stdout.write(fs.readFileSync(path.join(store, arg + ".json"), "utf8"));
else if (command === "import") { const text = fs.readFileSync(arg, "utf8"); const id = JSON.parse(text).info.id; fs.writeFileSync(path.join(store, id + ".json"), text); fs.writeFileSync(path.join(store, id + ".cwd"), process.cwd()); }
else process.exit(2);
`,
  );
  chmodSync(program, 0o755);
  return program;
}

describe("an opencode session from one HOME to another", () => {
  it("is exported by opencode itself, and imported from the new cwd with every cwd rewritten", async () => {
    const [homeA, homeB, bin, oldCwd, newCwd] = [temp(), temp(), temp(), temp(), temp()];
    const program = fakeOpencode(bin);
    const exported = JSON.stringify(
      {
        info: { id: "ses_1", directory: oldCwd },
        messages: [{ parts: [{ type: "tool", state: { input: { filePath: `${oldCwd}/first.txt` } } }] }],
      },
      null,
      2,
    );
    mkdirSync(join(homeA, "db"));
    writeFileSync(join(homeA, "db/ses_1.json"), exported);
    const captured = await captureSession({
      cli: "opencode",
      attempt: 1,
      sessionId: "ses_1",
      cwd: oldCwd,
      env: { ...process.env, HOME: homeA },
      program,
    });
    if (!captured.ok) throw new Error(captured.error);
    expect(captured.value.pieces[0]).toMatchObject({
      cli: "opencode",
      cwd: oldCwd,
      file: "ses_1.json",
      bytes: exported.length,
    });
    const restored = await restoreSession(
      downloadOf(captured.value.pieces),
      newCwd,
      { ...process.env, HOME: homeB },
      program,
    );
    expect(restored).toEqual({ ok: true, value: "imported into opencode's database" });
    expect(readFileSync(join(homeB, "db/ses_1.json"), "utf8")).toBe(exported.split(oldCwd).join(newCwd));
    expect(readFileSync(join(homeB, "db/ses_1.cwd"), "utf8")).toBe(newCwd);
  });

  it("says why when opencode cannot export the session", async () => {
    const program = fakeOpencode(temp());
    const captured = await captureSession({
      cli: "opencode",
      attempt: 1,
      sessionId: "ses_gone",
      cwd: temp(),
      env: { ...process.env, HOME: temp() },
      program,
    });
    expect(captured).toMatchObject({ ok: false, error: expect.stringContaining(`${program} export failed`) });
  });
});

describe("limits and refusals", () => {
  it("splits a large session into pieces of at most SESSION_ARCHIVE_PIECE_CHARS that join back to the same file", async () => {
    const [homeA, homeB] = [temp(), temp()];
    // A '-' never occurs in base64: the random text cannot hold the cwd by chance.
    const cwd = "/w-1";
    const folder = join(homeA, ".claude/projects", claudeProjectName(cwd));
    mkdirSync(folder, { recursive: true });
    // Random text does not compress: 150 KB of it is three pieces or more.
    const transcript = claudeTranscript(cwd, randomBytes(110_000).toString("base64"));
    writeFileSync(join(folder, `${CLAUDE_ID}.jsonl`), transcript);
    const captured = await captureSession({
      cli: "claude",
      attempt: 3,
      sessionId: CLAUDE_ID,
      cwd,
      env: { HOME: homeA },
    });
    if (!captured.ok) throw new Error(captured.error);
    const pieces = captured.value.pieces;
    expect(pieces.length).toBeGreaterThanOrEqual(2);
    for (const [index, piece] of pieces.entries()) {
      expect(AttemptSessionArchive.safeParse(piece).success).toBe(true);
      expect(piece).toMatchObject({ index, count: pieces.length, attempt: 3 });
      expect(piece.data.length).toBeLessThanOrEqual(SESSION_ARCHIVE_PIECE_CHARS);
    }
    const restored = await restoreSession(downloadOf(pieces), "/w-2", { HOME: homeB });
    if (!restored.ok) throw new Error(restored.error);
    expect(readFileSync(join(homeB, ".claude/projects", claudeProjectName("/w-2"), `${CLAUDE_ID}.jsonl`), "utf8")).toBe(
      transcript.split("/w-1").join("/w-2"),
    );
  });

  it("keeps nothing over the cap, and says the sizes", async () => {
    const home = temp();
    const cwd = "/w/1";
    mkdirSync(join(home, ".claude/projects", claudeProjectName(cwd)), { recursive: true });
    writeFileSync(
      join(home, ".claude/projects", claudeProjectName(cwd), `${CLAUDE_ID}.jsonl`),
      claudeTranscript(cwd, randomBytes(20_000).toString("base64")),
    );
    const captured = await captureSession({
      cli: "claude",
      attempt: 1,
      sessionId: CLAUDE_ID,
      cwd,
      env: { HOME: home },
      maxBytes: 4096,
    });
    expect(captured).toMatchObject({
      ok: false,
      error: expect.stringMatching(/is \d+\.\d KiB compressed \(\d+\.\d KiB as written\), over the 4\.0 KiB cap/),
    });
  });

  it("refuses an archive whose bytes do not match its checksum, and writes nothing", async () => {
    const [homeA, homeB] = [temp(), temp()];
    mkdirSync(join(homeA, ".claude/projects", claudeProjectName("/w/1")), { recursive: true });
    writeFileSync(
      join(homeA, ".claude/projects", claudeProjectName("/w/1"), `${CLAUDE_ID}.jsonl`),
      claudeTranscript("/w/1"),
    );
    const captured = await captureSession({
      cli: "claude",
      attempt: 1,
      sessionId: CLAUDE_ID,
      cwd: "/w/1",
      env: { HOME: homeA },
    });
    if (!captured.ok) throw new Error(captured.error);
    const download = downloadOf(captured.value.pieces);
    const restored = await restoreSession({ ...download, sha256: "0".repeat(64) }, "/w/2", { HOME: homeB });
    expect(restored).toEqual({ ok: false, error: "the session archive does not match its checksum" });
    expect(existsSync(join(homeB, ".claude"))).toBe(false);
  });

  it("rewrites a cwd wherever the file writes it, JSON-escaped or not", () => {
    const from = '/w/it\'s "odd"';
    const line = JSON.stringify({ cwd: from, text: `<cwd>${from}</cwd>` });
    const rewritten = rewriteCwd(line, from, "/w/new");
    expect(JSON.parse(rewritten)).toEqual({ cwd: "/w/new", text: "<cwd>/w/new</cwd>" });
    expect(rewriteCwd("/w/1/a and /w/1", "/w/1", "/v/2")).toBe("/v/2/a and /v/2");
  });
});
