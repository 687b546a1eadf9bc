import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readExecutorsFile, tiersOf } from "../../agents/runtime/executors-file.ts";

const dir = mkdtempSync(join(tmpdir(), "mesh-executors-"));
function fileWith(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe("readExecutorsFile", () => {
  it("reads a valid file, fills the default timeout and lists its tiers in ladder order", () => {
    const path = fileWith(
      "valid.json",
      JSON.stringify({
        executors: {
          opus: {
            command: ["claude", "-p", "{prompt}", "--model", "opus"],
            format: "claude-stream-json",
            timeout_s: 600,
          },
          sonnet: { command: ["claude", "-p", "{prompt}"], format: "claude-stream-json", env: { A: "1" } },
        },
      }),
    );
    const result = readExecutorsFile(path);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.executors.sonnet?.timeout_s).toBe(1800);
    expect(result.value.executors.opus?.timeout_s).toBe(600);
    expect(tiersOf(result.value)).toEqual(["sonnet", "opus"]);
  });

  it("names the bad field and the file when a command is empty", () => {
    const path = fileWith(
      "empty-command.json",
      JSON.stringify({ executors: { sonnet: { command: [], format: "text" } } }),
    );
    const result = readExecutorsFile(path);
    expect(result).toEqual({
      ok: false,
      error: { code: "invalid", message: expect.stringContaining("executors.sonnet.command:") },
    });
    if (!result.ok) expect(result.error.message).toContain(path);
  });

  it("names the bad field when a format is unknown", () => {
    const path = fileWith(
      "bad-format.json",
      JSON.stringify({ executors: { codex: { command: ["codex"], format: "xml" } } }),
    );
    const result = readExecutorsFile(path);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toContain("executors.codex.format:");
  });

  it("refuses an unknown tier and lists the tiers there are", () => {
    const path = fileWith("bad-tier.json", JSON.stringify({ executors: { gpt5: { command: ["x"], format: "text" } } }));
    const result = readExecutorsFile(path);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.message).toContain("gpt5");
      expect(result.error.message).toContain("tiers are deepseek");
    }
  });

  it("refuses a file with no tiers", () => {
    const result = readExecutorsFile(fileWith("no-tiers.json", JSON.stringify({ executors: {} })));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toContain("executors: name at least one tier");
  });

  it("reads an executor's resume pieces, and refuses them when none holds {session_id}", () => {
    const sonnet = { command: ["claude", "-p", "{prompt}"], format: "claude-stream-json" };
    const good = readExecutorsFile(
      fileWith(
        "resume.json",
        JSON.stringify({ executors: { sonnet: { ...sonnet, resume: ["--resume", "{session_id}"] } } }),
      ),
    );
    expect(good.ok && good.value.executors.sonnet?.resume).toEqual(["--resume", "{session_id}"]);
    const path = fileWith(
      "resume-no-id.json",
      JSON.stringify({ executors: { sonnet: { ...sonnet, resume: ["--resume", "--continue"] } } }),
    );
    expect(readExecutorsFile(path)).toEqual({
      ok: false,
      error: {
        code: "invalid",
        message: `executors file ${path}: executors.sonnet.resume: resume: one piece must contain {session_id}`,
      },
    });
    const empty = readExecutorsFile(
      fileWith("resume-empty.json", JSON.stringify({ executors: { sonnet: { ...sonnet, resume: [] } } })),
    );
    expect(empty).toEqual({
      ok: false,
      error: { code: "invalid", message: expect.stringContaining("executors.sonnet.resume:") },
    });
  });

  it("refuses a file that is not JSON", () => {
    const path = fileWith("not-json.json", "{ executors: ");
    const result = readExecutorsFile(path);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(/not valid JSON/);
  });

  it("says the file is missing and what to pass", () => {
    const path = join(dir, "missing.json");
    const result = readExecutorsFile(path);
    expect(result).toEqual({
      ok: false,
      error: {
        code: "absent",
        message: `executors file ${path}: no such file; pass --executors with the path of your executors JSON file`,
      },
    });
  });
});
