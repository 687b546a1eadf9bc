// The real coding CLIs' success path: claude, codex, gemini and opencode, installed from npm, run
// through a real agent and the real mesh against the scripted model server on 127.0.0.1
// (test/model-server), which answers with the CLI's own write tool and a relative path. Each attempt
// must succeed with the file in its worktree's commit, and the file must appear nowhere else. The
// mesh's tokens must be what the server served, its cost the CLI's own figure or our rates × those
// tokens, its session id recorded; and no CLI may reach any other host (docs/real-clis.md).
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CliFamily, RateTable } from "../../agents/runtime/cost-rates.ts";
import { PROJECT_ROOT } from "../../launcher/dev-server.ts";
import type { TaskView } from "../../protocol/index.ts";
import { waitFor } from "../integration/mesh-harness.ts";
import { servedUsage } from "../model-server/model-server.ts";
import { writeThenSay } from "../model-server/scripted-turns.ts";
import { pinnedVersions } from "./install-clis.ts";
import { SCRIPTED_TIERS } from "./scripted-cli-setup.ts";
import { cliProcesses, type ScriptedMesh, startScriptedMesh, unexpectedOutbound } from "./scripted-mesh.ts";

const PROOF = "mesh-proof.txt";
const PROOF_TEXT = "written by the scripted model through the mesh";
/** Usage per answer: distinct per CLI run so a sum taken from the wrong requests cannot match. */
const USAGE = { input: 1234, output: 56 };

let scripted: ScriptedMesh;
/** One line per CLI for docs/real-clis.md: version, request paths, tokens served and parsed, cost, session. */
const figures: string[] = [];

/** Where a stray proof file would show that a CLI wrote outside its worktree. */
const elsewhere = (): string[] =>
  [scripted.repo, scripted.agentDir, PROJECT_ROOT, scripted.home]
    .map((dir) => join(dir, PROOF))
    .filter((path) => existsSync(path));

beforeAll(async () => {
  scripted = await startScriptedMesh({
    agentName: "vm-scripted",
    turns: writeThenSay(PROOF, `${PROOF_TEXT}\n`).map((turn) => ({ ...turn, usage: USAGE })),
  });
});

afterEach(() => {
  // A stray file is the failure of the test that made it, not of the next CLI's.
  for (const path of elsewhere()) rmSync(path, { force: true });
});

afterAll(async () => {
  if (figures.length > 0) console.log(`figures (docs/real-clis.md):\n${figures.join("\n")}`);
  await scripted?.stop();
});

describe("the real CLIs against the scripted model server", () => {
  it.each(SCRIPTED_TIERS)(
    "$cli ($tier): its own write tool writes in its worktree only; tokens, cost and session as served",
    async ({ tier, cli, api, pkg }) => {
      const { mesh, server } = scripted;
      const before = server.requests.length;
      const created = await mesh.api<TaskView>("/api/tasks", {
        method: "POST",
        body: { instruction: `Write ${PROOF}.`, executor: tier, agent: scripted.agentName, cwd: scripted.repo },
      });
      expect(created.status).toBe(201);
      const task = await mesh.finished(created.body.task_id, 90_000);
      const requests = server.requests.slice(before);
      const strays = elsewhere();
      console.log(
        `${cli} (${tier}): ${task.status}${task.error === undefined ? "" : ` ${task.error.code}: ${task.error.message}`}; requests ${JSON.stringify(requests.map((r) => `${r.method} ${r.path} ${r.answered}`))}; written outside its worktree: ${JSON.stringify(strays)}`,
      );
      if (task.status !== "succeeded")
        console.log(`${cli} agent output:\n${scripted.agentOutput.slice(-40).join("\n")}`);

      // It called the scripted model on its own API, and was answered with the write, then the text.
      const model = requests.filter((request) => api.test(request.path));
      expect(model.map((request) => request.answered)).toEqual(expect.arrayContaining([`write ${PROOF}`, "text"]));
      expect(
        requests.filter((request) => request.status >= 400 && request.answered !== "outbound refused"),
        "no request the server refused",
      ).toEqual([]);
      expect(unexpectedOutbound(requests, cli), "connections to other hosts (a new phone-home?)").toEqual([]);
      // NO_PROXY held: the model was called directly, not through the proxy.
      expect(model.filter((request) => request.viaProxy === true)).toEqual([]);
      // The file is nowhere outside the worktree: not the user's checkout, the agent's directory, the project.
      expect(strays, "files the CLI wrote outside its worktree").toEqual([]);
      expect(scripted.git(scripted.repo, "status", "--porcelain"), "the user's checkout").toBe("");
      expect(scripted.git(scripted.repo, "rev-parse", "HEAD")).toBe(scripted.repoHead);

      expect(task.status).toBe("succeeded");
      expect(task.attempts).toHaveLength(1);
      const attempt = task.attempts[0];
      if (attempt === undefined) throw new Error("no attempt");
      expect(attempt.executor).toBe(cli);

      // Tokens: what the server served, summed over the CLI's requests. opencode leaves its title call
      // (a request offering no tools, logged `side`) out of its own report.
      const served = servedUsage(model);
      const reported = servedUsage(cli === "opencode" ? model.filter((request) => request.answered !== "side") : model);
      expect(attempt.tokens).toEqual(reported);
      // Cost: the CLI's own figure where it reports one (claude, opencode), else our rates × tokens; the
      // agent's summary line says "(from rates)" exactly when it priced the tokens itself.
      const fromRates = new RateTable().costOf(
        [{ input: reported.input, cacheRead: 0, cacheWrite: 0, cacheWrite1h: 0, output: reported.output }],
        attempt.model,
        cli as CliFamily,
      );
      const summary = (await scripted.logs(task.task_id))
        .map((line) => line.text)
        .find((text) => text.startsWith("[agent] ") && text.includes(" tokens in, "));
      const cliReportsCost = cli === "claude" || cli === "opencode";
      expect(summary, "the agent's run summary").toBeDefined();
      expect(summary?.includes("(from rates)")).toBe(!cliReportsCost);
      if (!cliReportsCost) expect(attempt.cost_usd).toBeCloseTo(fromRates, 10);
      expect(attempt.cost_usd).toBeGreaterThan(0);
      // The session id the CLI printed is on the attempt.
      expect(attempt.session_id ?? "").toMatch(/^[\w-]{8,}$/);
      figures.push(
        `| ${cli} | ${pinnedVersions()[pkg]} | ${[...new Set(requests.map((r) => `${r.method} ${r.path.split("?")[0]}${r.answered === "outbound refused" ? " (refused)" : ""}`))].join(", ")} | ${served.input}/${served.output} | ${attempt.tokens.input}/${attempt.tokens.output} | $${attempt.cost_usd.toFixed(6)} (${cliReportsCost ? "CLI's own" : "rates"}; rates say $${fromRates.toFixed(6)}) | ${attempt.session_id ?? "none"} |`,
      );

      expect(attempt.commit).toBeDefined();
      expect(attempt.changed_files).toEqual([PROOF]);
      const diff = await mesh.api<string>(`/api/tasks/${task.task_id}/diff`);
      expect(diff.status).toBe(200);
      expect(diff.body).toContain(`+++ b/${PROOF}`);
      expect(diff.body).toContain(`+${PROOF_TEXT}`);
    },
  );

  it("leaves no process of theirs behind", async () => {
    await waitFor("every CLI process to be gone", () => cliProcesses().length === 0, 15_000);
  });
});
