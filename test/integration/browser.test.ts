// Real headless Chromium opens the page served by the mesh and watches a task's lines arrive live.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskView } from "../../protocol/index.ts";
import { closeChromium, launchChromium } from "./headless-chromium.ts";
import { FIXTURES, type Mesh, startAgent, startMesh, type TestAgent, waitFor } from "./mesh-harness.ts";

const LINES = 300;
let mesh: Mesh;
let agent: TestAgent;
let browser: BrowserContext;

beforeAll(async () => {
  mesh = await startMesh({}, { page: true });
  agent = await startAgent(mesh, "vm-browser", {
    // ~6 s of output: 10 lines every 200 ms, so the page must show them as they come. opus names a CLI that is not
    // installed: the agent's preflight does not offer it (docs/real-clis.md), and the dashboard says so.
    executors: {
      sonnet: {
        command: [process.execPath, join(FIXTURES, "print-lines.mjs"), String(LINES), "0", "10", "200"],
        format: "text",
        timeout_s: 120,
      },
      opus: { command: ["mesh-no-such-cli", "{prompt}"], format: "text", timeout_s: 60 },
    },
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await closeChromium(browser);
  await agent?.stop();
  await mesh?.stop();
});

describe("the browser page", () => {
  it("shows a task's lines live through its watch link, then its final status", async () => {
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "print", executor: "sonnet" },
    });
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(created.body.watch_url);
    // Lines the page holds (the log renders only the rows in view).
    const lineCount = async (): Promise<number> =>
      Number(await page.getByTestId("line-count").getAttribute("data-count"));
    // Lines appear while the task still runs: seen twice, growing, before the task ends.
    const first = await waitFor("the first lines on the page", async () => {
      const count = await lineCount();
      return count > 5 ? count : null;
    });
    const later = await waitFor("more lines on the page", async () => {
      const count = await lineCount();
      return count > first ? count : null;
    });
    expect((await mesh.task(created.body.task_id)).status).toBe("running");
    expect(later).toBeGreaterThan(first);
    await waitFor(
      "the task to succeed on the page",
      async () => (await page.getByTestId("task-status").textContent())?.includes("succeeded"),
      60_000,
    );
    // The log is virtualised (only rows in view are in the DOM): its download holds every line the page received, in
    // order.
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("log-download").click()]);
    expect(download.suggestedFilename()).toBe(`task-${created.body.task_id}.log`);
    const texts = readFileSync(await download.path(), "utf8").split("\n");
    const stdout = texts.filter((text) => text.startsWith("line "));
    expect(stdout).toEqual(Array.from({ length: LINES }, (_, i) => `line ${i} ${"x".repeat(i % 50)}`));
    expect(Number(await page.getByTestId("line-count").getAttribute("data-count"))).toBe(texts.length - 1);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it("says what a queued task waits for, and drops it once the wait ends", async () => {
    // No agent serves opus: the task waits for one until it is cancelled.
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "print", executor: "opus", queue_timeout_s: 600 },
    });
    const page = await browser.newPage();
    await page.goto(created.body.watch_url);
    await waitFor("the waiting line", async () =>
      (await page.getByTestId("task-waiting").textContent())?.includes("an agent that serves opus"),
    );
    await mesh.api(`/api/tasks/${created.body.task_id}/cancel`, { method: "POST" });
    await waitFor("the task to be cancelled on the page", async () =>
      (await page.getByTestId("task-status").textContent())?.includes("cancelled"),
    );
    expect(await page.getByTestId("task-waiting").count()).toBe(0);
    await page.close();
  });

  it("lists the registered agents and the budget with a dashboard link", async () => {
    const link = (await mesh.api<{ url: string }>("/api/links", { method: "POST", body: {} })).body.url;
    const page = await browser.newPage();
    await page.goto(link);
    const row = page.locator('[data-testid="agents"] [data-agent="vm-browser"]');
    await waitFor("the agent row", async () => (await row.count()) === 1);
    expect(await row.textContent()).toContain("online");
    const unavailable = row.getByTestId("tier-unavailable");
    expect(await unavailable.textContent()).toBe(" opus unavailable");
    expect(await unavailable.getAttribute("title")).toContain("'mesh-no-such-cli' is not installed");
    await waitFor("the budget line", async () =>
      /breaker closed/.test((await page.getByTestId("budget").textContent()) ?? ""),
    );
    expect(await page.getByTestId("budget").textContent()).toMatch(/of \$20\.00/);
    await page.close();
  });

  it("lets a person approve a task waiting for one, from the task's page with an operator link", async () => {
    const human = await startAgent(mesh, "vm-human", {
      executors: {
        deepseek: {
          command: [process.execPath, join(FIXTURES, "exit-with.mjs"), "1", "deepseek"],
          format: "text",
          timeout_s: 60,
        },
      },
    });
    try {
      const created = await mesh.api<TaskView>("/api/tasks", {
        method: "POST",
        body: { instruction: "needs a person", agent: "vm-human" },
      });
      await waitFor(
        "the human step",
        async () => (await mesh.task(created.body.task_id)).status === "awaiting_human",
        30_000,
      );
      const link = (await mesh.api<{ token: string }>("/api/links", { method: "POST", body: { operator: true } })).body
        .token;
      const page = await browser.newPage();
      await page.goto(`${mesh.url}/#task=${created.body.task_id}&token=${encodeURIComponent(link)}`);
      await page.getByTestId("human-step").waitFor({ state: "visible" });
      expect(await page.getByTestId("human-summary").textContent()).toContain("#1 deepseek");
      await page.getByTestId("human-approve").click();
      await waitFor(
        "the task to succeed on the page",
        async () => (await page.getByTestId("task-status").textContent())?.includes("succeeded"),
        30_000,
      );
      const task = await mesh.task(created.body.task_id);
      expect(task).toMatchObject({ status: "succeeded", winner: 1, human: { decision: "approve" } });
      // A task's own watch link is read-only, and so is a plain dashboard link: the API refuses it too.
      const dashboard = (await mesh.api<{ token: string }>("/api/links", { method: "POST", body: {} })).body.token;
      expect(
        (
          await mesh.api(`/api/tasks/${created.body.task_id}/resolve`, {
            method: "POST",
            body: { decision: "reject" },
            token: dashboard,
          })
        ).status,
      ).toBe(403);
      const readOnly = await browser.newPage();
      const other = await mesh.api<TaskView>("/api/tasks", {
        method: "POST",
        body: { instruction: "another", agent: "vm-human" },
      });
      await waitFor(
        "the human step",
        async () => (await mesh.task(other.body.task_id)).status === "awaiting_human",
        30_000,
      );
      await readOnly.goto((await mesh.task(other.body.task_id)).watch_url);
      await readOnly.getByTestId("human-step").waitFor({ state: "visible" });
      // Absent, not merely disabled, with one line on how to get a link that may decide.
      expect(await readOnly.getByTestId("human-approve").count()).toBe(0);
      expect(await readOnly.getByTestId("read-only-note").textContent()).toContain("operator link");
      await page.close();
      await readOnly.close();
    } finally {
      await human.stop();
    }
  });

  it("shows an attempt's work and its diff to a watch link (no apply), and applies it with an operator link", async () => {
    const repo = mkdtempSync(join(tmpdir(), "mesh-page-repo-"));
    const git = (...args: string[]): string =>
      execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], {
        cwd: repo,
        encoding: "utf8",
      });
    const worker = await startAgent(mesh, "vm-page-git", {
      executors: {
        deepseek: {
          command: [process.execPath, join(FIXTURES, "git-writer.mjs"), "page", "fixed.txt=right"],
          format: "text",
          timeout_s: 60,
        },
      },
    });
    try {
      git("init", "-q", "-b", "main");
      writeFileSync(join(repo, "fixed.txt"), "broken\n");
      git("add", ".");
      git("commit", "-qm", "initial");
      const created = await mesh.api<TaskView>("/api/tasks", {
        method: "POST",
        body: { instruction: "fix it", cwd: repo, agent: "vm-page-git", acceptance: { command: "cat fixed.txt" } },
      });
      await waitFor(
        "the task to succeed",
        async () => (await mesh.task(created.body.task_id)).status === "succeeded",
        30_000,
      );
      const watcher = await browser.newPage();
      const pageErrors: string[] = [];
      watcher.on("pageerror", (error) => pageErrors.push(error.message));
      await watcher.goto(created.body.watch_url);
      await watcher.locator('[data-testid="diff-view"] .d2h-ins .d2h-code-line-ctn').first().waitFor();
      expect(await watcher.locator('[data-testid="diff-view"] .d2h-ins .d2h-code-line-ctn').allTextContents()).toEqual([
        "right",
      ]);
      expect(await watcher.locator('[data-testid="diff-view"] .d2h-del .d2h-code-line-ctn').allTextContents()).toEqual([
        "broken",
      ]);
      expect(await watcher.getByTestId("work-result").textContent()).toMatch(
        /^result: attempt 1 on mesh\/.+\/1-deepseek · commit [0-9a-f]{12} from [0-9a-f]{12} · 1 file \+1 -1$/,
      );
      expect(await watcher.getByTestId("acceptance-1").textContent()).toContain(
        "#1 acceptance passed: cat fixed.txt (exit 0)right",
      );
      expect(await watcher.getByTestId("work-apply").count()).toBe(0);
      const link = (await mesh.api<{ token: string }>("/api/links", { method: "POST", body: { operator: true } })).body
        .token;
      const operator = await browser.newPage();
      operator.on("pageerror", (error) => pageErrors.push(error.message));
      await operator.goto(`${mesh.url}/#task=${created.body.task_id}&token=${encodeURIComponent(link)}`);
      await waitFor("the apply button enabled", async () => operator.getByTestId("work-apply").isEnabled());
      await operator.getByTestId("work-apply").click();
      await operator.getByTestId("work-apply-confirm").click();
      await waitFor("the apply outcome", async () =>
        /^Applied: your checkout is at [0-9a-f]{12}/.test(
          (await operator.getByTestId("work-apply-outcome").textContent()) ?? "",
        ),
      );
      expect(readFileSync(join(repo, "fixed.txt"), "utf8")).toBe("right\n");
      await waitFor("the applied line", async () =>
        /^applied .*: the checkout is at /.test((await operator.getByTestId("work-applied").textContent()) ?? ""),
      );
      expect(await operator.getByTestId("work-apply").isDisabled()).toBe(true);
      expect(pageErrors).toEqual([]);
      await watcher.close();
      await operator.close();
    } finally {
      await worker.stop();
      rmSync(repo, { recursive: true, force: true });
    }
  });

  it("tells the person when the link is not valid", async () => {
    const page = await browser.newPage();
    await page.goto(`${mesh.url}/#task=${"0".repeat(26)}&token=v1.task-x.1.forged`);
    await waitFor(
      "an explanation on the page",
      async () => /invalid or expired/i.test((await page.textContent("body")) ?? ""),
      30_000,
    );
    await page.close();
  });
});
