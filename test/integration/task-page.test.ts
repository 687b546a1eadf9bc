// The task page in real headless Chromium against the real mesh: ANSI colours as coloured
// spans, the task's path drawn as an SVG, an attempt's diff drawn by diff2html with a
// side-by-side / unified switch, cancel / resolve / apply working with an operator link and absent
// with a task link, and a 100,000-line log that scrolls to its middle. Screenshots go to
// $MESH_SCREENSHOTS (default ./screenshots): task-page.png, diff.png, task-page-375.png.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskView } from "../../protocol/index.ts";
import { closeChromium, launchChromium } from "./headless-chromium.ts";
import { FIXTURES, type Mesh, startAgent, startMesh, type TestAgent, waitFor } from "./mesh-harness.ts";

const SHOTS = resolve(process.env.MESH_SCREENSHOTS ?? "screenshots");
const BIG_LOG_LINES = 100_000;
/** The line the fake CLI writes into src/greet.ts (git-writer.mjs: `_` for a space). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: TypeScript source, its template literal meant as written
const GREETING = "export function greet(name: string): string { return `hello, ${name}`; }";
let mesh: Mesh;
let agents: TestAgent[] = [];
let browser: BrowserContext;
let operatorToken: string;

const node = (fixture: string, ...args: string[]): string[] => [process.execPath, join(FIXTURES, fixture), ...args];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  mesh = await startMesh({}, { page: true });
  agents = await Promise.all([
    startAgent(mesh, "vm-page", {
      executors: {
        sonnet: { command: node("print-ansi.mjs"), format: "text", timeout_s: 60 },
        deepseek: {
          command: node(
            "git-writer.mjs",
            "page",
            `src/greet.ts=${GREETING.replaceAll(" ", "_")}`,
            "README.md=greets_people",
          ),
          format: "text",
          timeout_s: 60,
        },
        "gemini-flash": { command: node("sleeper.mjs", "/dev/null"), format: "text", timeout_s: 300 },
        "gemini-pro": { command: node("print-lines.mjs", String(BIG_LOG_LINES)), format: "text", timeout_s: 300 },
      },
    }),
    startAgent(mesh, "vm-page-human", {
      executors: { deepseek: { command: node("exit-with.mjs", "1", "deepseek"), format: "text", timeout_s: 60 } },
    }),
  ]);
  operatorToken = (await mesh.api<{ token: string }>("/api/links", { method: "POST", body: { operator: true } })).body
    .token;
  browser = await launchChromium();
});

afterAll(async () => {
  await closeChromium(browser);
  await Promise.all(agents.map((agent) => agent.stop()));
  await mesh?.stop();
});

const create = async (body: Record<string, unknown>): Promise<TaskView> => {
  const created = await mesh.api<TaskView>("/api/tasks", { method: "POST", body });
  expect(created.status).toBe(201);
  return created.body;
};

/** A page 1280 px wide that records its uncaught errors. */
async function openPage(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(url);
  return { page, errors };
}

const operatorUrl = (taskId: string): string =>
  `${mesh.url}/#task=${taskId}&token=${encodeURIComponent(operatorToken)}`;

describe("the task page", () => {
  it("renders ANSI-coloured lines as coloured spans, each line's colours its own, and draws the path as an SVG", async () => {
    const task = await create({ instruction: "print colours", agent: "vm-page", executor: "sonnet" });
    await mesh.finished(task.task_id);
    const { page, errors } = await openPage(task.watch_url);
    const red = page.locator('[data-testid="log"] [data-seq] .text .ansi-red-fg');
    await red.first().waitFor();
    expect(await red.first().textContent()).toBe("red");
    // The class carries a real colour from task-page.css, not the browser's default text colour.
    const colours = await red
      .first()
      .evaluate((span) => [getComputedStyle(span).color, getComputedStyle(span.closest(".line") ?? span).color]);
    expect(colours[0]).not.toBe(colours[1]);
    expect(
      await page
        .locator(".ansi-green-fg")
        .first()
        .evaluate((span) => getComputedStyle(span).fontWeight),
    ).toBe("700");
    const texts = await page.locator('[data-testid="log"] [data-seq] .text').allTextContents();
    expect(texts).toEqual(
      expect.arrayContaining([
        "red",
        "bold green then plain",
        "orange white on blue",
        "yellow left open",
        "plain after an open colour",
        "<b>not bold</b> & not HTML",
      ]),
    );
    // A colour left open at a line's end stays on that line.
    const after = page.locator('[data-testid="log"] [data-seq] .text', { hasText: "plain after an open colour" });
    expect(await after.locator("span").count()).toBe(0);
    expect(await page.locator('[data-testid="log"] b').count()).toBe(0);
    // The path: the page's SVG, with the attempt's node in it.
    const svg = page.locator('[data-testid="task-diagram"] svg');
    await svg.waitFor({ timeout: 30_000 });
    expect(await svg.textContent()).toContain("#1 sonnet on vm-page");
    expect(await page.getByTestId("task-diagram-error").count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("shows the attempt's diff with diff2html, switches side by side and unified, and applies with an operator link", async () => {
    const repo = mkdtempSync(join(tmpdir(), "mesh-task-page-repo-"));
    const git = (...args: string[]): string =>
      execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], {
        cwd: repo,
        encoding: "utf8",
      });
    try {
      git("init", "-q", "-b", "main");
      mkdirSync(join(repo, "src"));
      writeFileSync(join(repo, "src/greet.ts"), "export function greet(name: string): string { return name; }\n");
      writeFileSync(join(repo, "README.md"), "a greeter\n");
      git("add", ".");
      git("commit", "-qm", "initial");
      const task = await create({
        instruction: "make greet say hello",
        cwd: repo,
        agent: "vm-page",
        executor: "deepseek",
        acceptance: { command: "grep -q hello src/greet.ts" },
      });
      expect((await mesh.finished(task.task_id)).status).toBe("succeeded");
      const { page, errors } = await openPage(operatorUrl(task.task_id));
      const view = page.getByTestId("diff-view");
      await view.locator(".d2h-file-wrapper").first().waitFor({ timeout: 30_000 });
      // The change itself: the new line added, the old one removed, both files named.
      expect(await view.locator(".d2h-ins .d2h-code-line-ctn").allTextContents()).toContain(GREETING);
      expect(await view.locator(".d2h-del .d2h-code-line-ctn").allTextContents()).toContain(
        "export function greet(name: string): string { return name; }",
      );
      expect(await view.locator(".d2h-file-name").allTextContents()).toEqual(
        expect.arrayContaining(["src/greet.ts", "README.md"]),
      );
      // Highlighted by highlight.js: the TypeScript keywords are tokens.
      expect(await view.locator(".hljs-keyword").count()).toBeGreaterThan(0);
      // The acceptance evidence sits in the attempts table.
      expect(await page.getByTestId("acceptance-1").textContent()).toContain(
        "#1 acceptance passed: grep -q hello src/greet.ts (exit 0)",
      );
      // 1280 px wide and no choice stored: side by side; the switch changes the layout, and is remembered.
      expect(await page.getByTestId("diff-side-by-side").getAttribute("aria-pressed")).toBe("true");
      expect(await view.locator(".d2h-file-side-diff").count()).toBeGreaterThan(0);
      await page.getByTestId("diff-unified").click();
      await waitFor(
        "the unified layout",
        async () =>
          (await view.locator(".d2h-file-side-diff").count()) === 0 &&
          (await view.locator(".d2h-file-diff").count()) > 0,
      );
      expect(await page.getByTestId("diff-unified").getAttribute("aria-pressed")).toBe("true");
      expect(await page.evaluate(() => localStorage.getItem("agent-mesh.diff-layout"))).toBe("line-by-line");
      await page.getByTestId("diff-side-by-side").focus();
      await page.keyboard.press("Enter");
      await view.locator(".d2h-file-side-diff").first().waitFor();
      await page.getByTestId("task-diagram").locator("svg").waitFor({ timeout: 30_000 });
      await page.screenshot({ path: join(SHOTS, "task-page.png"), fullPage: true });
      await page.getByTestId("work").screenshot({ path: join(SHOTS, "diff.png") });
      // At 375 px: no sideways scroll of the page; the diff and the log scroll inside their boxes.
      await page.setViewportSize({ width: 375, height: 800 });
      await page.getByTestId("diff-unified").click();
      await waitFor("the unified layout at 375 px", async () => (await view.locator(".d2h-file-diff").count()) > 0);
      await page.screenshot({ path: join(SHOTS, "task-page-375.png"), fullPage: true });
      const overflowing = await page.evaluate(() =>
        [...document.querySelectorAll("body *")]
          .filter(
            (node) =>
              node.getBoundingClientRect().right > 376 && !node.closest(".log, .diff-view, .table-scroll, .diagram"),
          )
          .map((node) => `${node.tagName}.${node.className}`)
          .slice(0, 5),
      );
      expect(overflowing).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
      await page.setViewportSize({ width: 1280, height: 900 });
      // Apply: the operator's button merges the result into the checkout, once confirmed.
      await waitFor("the apply button enabled", async () => page.getByTestId("work-apply").isEnabled());
      await page.getByTestId("work-apply").click();
      await page.getByTestId("work-apply-confirm").click();
      await waitFor("the apply outcome", async () =>
        /^Applied: your checkout is at [0-9a-f]{12}/.test(
          (await page.getByTestId("work-apply-outcome").textContent()) ?? "",
        ),
      );
      expect(readFileSync(join(repo, "src/greet.ts"), "utf8")).toContain("hello");
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });

  it("cancels a running task with an operator link after a confirming second click", async () => {
    const task = await create({ instruction: "run for a while", agent: "vm-page", executor: "gemini-flash" });
    await waitFor("the task to run", async () => (await mesh.task(task.task_id)).status === "running");
    const { page, errors } = await openPage(operatorUrl(task.task_id));
    const cancel = page.getByTestId("task-cancel");
    await cancel.waitFor();
    await cancel.click();
    expect(await cancel.textContent()).toBe("click again to cancel");
    expect((await mesh.task(task.task_id)).status).toBe("running");
    await cancel.click();
    await waitFor("the task to be cancelled on the page", async () =>
      (await page.getByTestId("task-status").textContent())?.includes("cancelled"),
    );
    expect((await mesh.task(task.task_id)).status).toBe("cancelled");
    expect(await page.getByTestId("task-action-outcome").textContent()).toBe("Cancelled.");
    // A finished task has nothing to cancel.
    await waitFor("the cancel button gone", async () => !(await cancel.isVisible()));
    expect(errors).toEqual([]);
    await page.close();
  });

  it("resolves a task waiting for a person with an operator link; a task link shows no buttons at all", async () => {
    const task = await create({ instruction: "needs a person", agent: "vm-page-human" });
    await waitFor("the human step", async () => (await mesh.task(task.task_id)).status === "awaiting_human", 30_000);
    // The task's own watch link is read-only: the question, no buttons, one line on how to act.
    const watcher = await openPage(task.watch_url);
    await watcher.page.getByTestId("human-step").waitFor({ state: "visible" });
    for (const testid of [
      "human-approve",
      "human-retry",
      "human-reject",
      "human-guidance",
      "task-cancel",
      "work-apply",
    ])
      expect(await watcher.page.getByTestId(testid).count()).toBe(0);
    expect(await watcher.page.getByTestId("read-only-note").textContent()).toContain("operator link");
    const operator = await openPage(operatorUrl(task.task_id));
    await operator.page.getByTestId("human-step").waitFor({ state: "visible" });
    expect(await operator.page.getByTestId("read-only-note").count()).toBe(0);
    await operator.page.getByTestId("human-guidance").fill("fine as it is");
    await operator.page.getByTestId("human-reject").click();
    await waitFor(
      "the task to fail on the page",
      async () => (await operator.page.getByTestId("task-status").textContent())?.includes("failed"),
      30_000,
    );
    expect(await mesh.task(task.task_id)).toMatchObject({ status: "failed", human: { decision: "reject" } });
    // The watcher follows live.
    await waitFor("the watcher to see it", async () =>
      (await watcher.page.getByTestId("task-status").textContent())?.includes("failed"),
    );
    expect([...watcher.errors, ...operator.errors]).toEqual([]);
    await watcher.page.close();
    await operator.page.close();
  });

  it("scrolls a 100,000-line log: jumping to the middle renders the rows there, and few rows are in the DOM", async () => {
    const task = await create({ instruction: "print a lot", agent: "vm-page", executor: "gemini-pro" });
    const { page, errors } = await openPage(task.watch_url);
    await waitFor(
      "all lines on the page",
      async () => Number(await page.getByTestId("line-count").getAttribute("data-count")) >= BIG_LOG_LINES,
      240_000,
      500,
    );
    const log = page.getByTestId("log");
    const rowsInDom = async (): Promise<number> => log.locator("[data-seq]").count();
    expect(await rowsInDom()).toBeLessThan(200);
    // Jump to the middle: the rows there are rendered, and following stops.
    await log.evaluate((box) => {
      box.scrollTop = box.scrollHeight / 2;
    });
    const seqs = await waitFor("rows from the middle", async () => {
      const shown = (await log
        .locator("[data-seq]")
        .evaluateAll((rows) => rows.map((row) => Number(row.getAttribute("data-seq"))))) as number[];
      return shown.some((seq) => seq > 40_000 && seq < 60_000) ? shown : null;
    });
    expect(seqs.length).toBeLessThan(200);
    expect(await page.getByTestId("follow").isChecked()).toBe(false);
    // Back at the end, it follows again.
    await log.evaluate((box) => {
      box.scrollTop = box.scrollHeight;
    });
    await waitFor("follow on again", async () => page.getByTestId("follow").isChecked());
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
