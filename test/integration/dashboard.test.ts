// The dashboard (docs/page.md) in real headless Chromium against the real mesh: the task list follows the
// directory live (and again after the server restarts), filters, searches, pins what waits for a
// person, opens a task, moves by keyboard, and stays a window of rows with 10,000 tasks.
// Screenshots go to $MESH_SCREENSHOTS (default ./screenshots).
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { PROJECT_ROOT } from "../../launcher/dev-server.ts";
import { DirectoryToDashboard, type ExecutorFormat, type TaskSummary, type TaskView } from "../../protocol/index.ts";
import { closeChromium, launchChromium } from "./headless-chromium.ts";
import { FIXTURES, type Mesh, startAgent, startMesh, type TestAgent, waitFor } from "./mesh-harness.ts";

const SHOTS = resolve(process.env.MESH_SCREENSHOTS ?? "screenshots");
let mesh: Mesh;
let agents: TestAgent[] = [];
let browser: BrowserContext;
let dashboardUrl: string;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  mesh = await startMesh({}, { page: true });
  agents = await Promise.all([
    // The demo CLI (npm start's) replays real output formats with tokens and cost, so the budget has something to draw.
    startAgent(mesh, "vm-dash", {
      executors: {
        sonnet: demo("claude-stream-json", "claude-sonnet-4-5-20250929"),
        codex: demo("codex-jsonl", "gpt-5.3-codex"),
      },
    }),
    startAgent(mesh, "vm-dash-human", {
      executors: {
        deepseek: {
          command: [process.execPath, join(FIXTURES, "exit-with.mjs"), "1", "deepseek"],
          format: "text",
          timeout_s: 60,
        },
      },
    }),
  ]);
  browser = await launchChromium();
  dashboardUrl = (await mesh.api<{ url: string }>("/api/links", { method: "POST", body: {} })).body.url;
});

afterAll(async () => {
  await closeChromium(browser);
  await Promise.all(agents.map((agent) => agent.stop()));
  await mesh?.stop();
});

function demo(format: ExecutorFormat, model: string) {
  return {
    command: [join(PROJECT_ROOT, "agents/demo-cli/demo-cli.mjs"), "--format", format, "-m", model, "{prompt}"],
    format,
    timeout_s: 120,
  };
}

const create = async (body: Record<string, unknown>): Promise<TaskView> => {
  const created = await mesh.api<TaskView>("/api/tasks", { method: "POST", body });
  expect(created.status).toBe(201);
  return created.body;
};
const row = (page: Page, taskId: string) => page.locator(`[data-testid="task-list"] [data-task="${taskId}"]`);
const shownIds = (page: Page): Promise<string[]> =>
  page
    .locator('[data-testid="task-list"] [data-task]')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-task") ?? ""));

describe("the dashboard", () => {
  let painted: TaskView;
  let coded: TaskView;
  let person: TaskView;
  let queued: TaskView;

  it("lists a new task within a second of its creation, then follows its status live", async () => {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(dashboardUrl);
    await waitFor("the empty list", async () =>
      /No tasks yet/.test((await page.getByTestId("task-list-empty").textContent()) ?? ""),
    );
    painted = await create({ instruction: "alpha: paint the fence", executor: "sonnet", agent: "vm-dash" });
    await waitFor("the new task's row", async () => (await row(page, painted.task_id).count()) === 1, 1_000, 20);
    await waitFor(
      "the task to succeed in the list",
      async () => (await row(page, painted.task_id).getAttribute("data-status")) === "succeeded",
      30_000,
    );
    expect(await row(page, painted.task_id).textContent()).toContain("vm-dash");
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it("pins the task waiting for a person on top, filters by status and searches the instruction", async () => {
    coded = await create({ instruction: "echo: refactor the parser", executor: "codex", agent: "vm-dash" });
    person = await create({ instruction: "bravo: needs a person", agent: "vm-dash-human" });
    await waitFor("the human step", async () => (await mesh.task(person.task_id)).status === "awaiting_human", 30_000);
    // No agent serves opus: it stays queued, and is newer than the task waiting for a person.
    queued = await create({ instruction: "charlie: waits for opus", executor: "opus", queue_timeout_s: 600 });
    const page = await browser.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(dashboardUrl);
    await waitFor("four rows", async () => (await shownIds(page)).length === 4);
    expect(await shownIds(page)).toEqual([person.task_id, queued.task_id, coded.task_id, painted.task_id]);
    expect(await row(page, person.task_id).getAttribute("class")).toContain("pinned");
    await page.getByTestId("task-filter").selectOption("queued");
    await waitFor(
      "only the queued task",
      async () => JSON.stringify(await shownIds(page)) === JSON.stringify([queued.task_id]),
    );
    await page.getByTestId("task-filter").selectOption("all");
    await page.getByTestId("task-search").fill("ALPHA fence");
    await waitFor(
      "only the painted task",
      async () => JSON.stringify(await shownIds(page)) === JSON.stringify([painted.task_id]),
    );
    await page.getByTestId("task-search").fill("no such words");
    await waitFor("no rows and a note", async () =>
      /No task matches/.test((await page.getByTestId("task-list-empty").textContent()) ?? ""),
    );
    await page.getByTestId("task-search").fill("");
    await waitFor("four rows again", async () => (await shownIds(page)).length === 4);
    await waitFor(
      "the codex task to succeed",
      async () => (await row(page, coded.task_id).getAttribute("data-status")) === "succeeded",
      60_000,
    );
    await waitFor(
      "the agents and the budget",
      async () =>
        (await page.locator('[data-testid="agents"] [data-agent]').count()) === 2 &&
        (await page.getByTestId("budget-days").locator("rect").count()) === 30,
    );
    await waitFor(
      "spend by tier",
      async () => (await page.locator('[data-testid="budget-by-tier"] [data-key]').count()) === 2,
    );
    await page.screenshot({ path: join(SHOTS, "dashboard.png"), fullPage: true });
    await page.close();
  });

  it("opens a task by click and by keyboard, and goes back to the list", async () => {
    const page = await browser.newPage();
    await page.goto(dashboardUrl);
    await row(page, painted.task_id).click();
    await waitFor("the task's page", async () => (await page.getByTestId("task-id").textContent()) === painted.task_id);
    await page.getByTestId("back-to-dashboard").click();
    await waitFor("the list again", async () => (await shownIds(page)).length === 4);
    // Tab reaches the list's first row; arrows move; Enter opens.
    await row(page, person.task_id).focus();
    await page.keyboard.press("ArrowDown");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-task"))).toBe(queued.task_id);
    await page.keyboard.press("End");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-task"))).toBe(painted.task_id);
    await page.keyboard.press("ArrowUp");
    await page.keyboard.press("Enter");
    await waitFor(
      "the codex task's page",
      async () => (await page.getByTestId("task-id").textContent()) === coded.task_id,
    );
    await page.close();
  });

  it("fits a 375 px wide screen without scrolling sideways", async () => {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(dashboardUrl);
    await waitFor("four rows", async () => (await shownIds(page)).length === 4);
    await waitFor("the agents", async () => (await page.locator('[data-testid="agents"] [data-agent]').count()) === 2);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.screenshot({ path: join(SHOTS, "dashboard-375.png"), fullPage: true });
    await page.close();
  });

  it("gives a returning subscriber only what changed while it was away (its epoch and seq)", async () => {
    const first = await subscribe({ type: "tasks.subscribe" });
    expect(first.type).toBe("tasks.snapshot");
    if (first.type === "error") throw new Error(first.message);
    const added = await create({ instruction: "delta: made while away", executor: "opus", queue_timeout_s: 600 });
    const back = await subscribe({ type: "tasks.subscribe", epoch: first.epoch, seq: first.seq });
    expect(back.type).toBe("tasks.changed");
    if (back.type !== "tasks.changed") throw new Error(back.type);
    expect(back.tasks.map((task) => task.task_id)).toEqual([added.task_id]);
    expect(back.seq).toBeGreaterThan(first.seq);
    // Another room instance's epoch: the whole list.
    expect((await subscribe({ type: "tasks.subscribe", epoch: "another", seq: back.seq })).type).toBe("tasks.snapshot");
    await mesh.api(`/api/tasks/${added.task_id}/cancel`, { method: "POST" });
  });

  it("follows on after the server restarts: it reconnects and lists what was made since", async () => {
    const page = await browser.newPage();
    await page.goto(dashboardUrl);
    await waitFor("the list", async () => (await shownIds(page)).length >= 4);
    await mesh.stopServer();
    await waitFor(
      "the page to notice",
      async () => (await page.getByTestId("connection-state").getAttribute("data-state")) !== "live",
      15_000,
    );
    await mesh.startServer();
    const after = await create({
      instruction: "foxtrot: made after the restart",
      executor: "opus",
      queue_timeout_s: 600,
    });
    await waitFor(
      "the new task on the reconnected page",
      async () => (await row(page, after.task_id).count()) === 1,
      30_000,
    );
    expect(await page.getByTestId("connection-state").getAttribute("data-state")).toBe("live");
    // Nothing listed before went missing, nothing is there twice.
    const ids = await shownIds(page);
    expect(ids).toEqual(
      expect.arrayContaining([person.task_id, queued.task_id, coded.task_id, painted.task_id, after.task_id]),
    );
    expect(new Set(ids).size).toBe(ids.length);
    await mesh.api(`/api/tasks/${after.task_id}/cancel`, { method: "POST" });
    await page.close();
  });

  it("keeps 10,000 tasks a window of rows: scrolls to the oldest, filters and searches them", async () => {
    // The real directory room, with 10,000 summaries as task rooms would list them (10,000 live task
    // rooms would not fit a test machine's memory under partykit dev).
    const now = Date.now();
    const ids = Array.from({ length: 10_000 }, (_, i) => `00${String(i).padStart(8, "0")}ZZZZZZZZZZZZZZZZ`);
    for (let start = 0; start < ids.length; start += 100) {
      await Promise.all(
        ids.slice(start, start + 100).map(async (id, j) => {
          const summary: TaskSummary = {
            task_id: id,
            status: (start + j) % 5 === 0 ? "failed" : "succeeded",
            tier: "deepseek",
            instruction: `bulk task ${start + j} of ten thousand`,
            created_at: now - 86_400_000,
            updated_at: now - 86_400_000,
          };
          const reply = await mesh.api(`/parties/directory/main`, {
            method: "POST",
            body: { type: "task.register", summary },
          });
          expect(reply.status).toBe(201);
        }),
      );
    }
    const page = await browser.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(dashboardUrl);
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("console", (line) => errors.push(line.text()));
    await waitFor(
      "the whole list counted",
      async () => Number(await page.getByTestId("task-count").getAttribute("data-count")) >= 10_006,
      30_000,
    ).catch(async (error: unknown) => {
      throw new Error(
        `${String(error)}; the page says ${await page.getByTestId("task-count").textContent()}; ${errors.join(" | ")}`,
      );
    });
    expect(await page.locator('[data-testid="task-list"] [data-task]').count()).toBeLessThan(60);
    await page.getByTestId("task-list").evaluate((list) => list.scrollTo({ top: list.scrollHeight }));
    await waitFor("the oldest row", async () => (await row(page, ids[0] ?? "").count()) === 1);
    await page.getByTestId("task-search").fill("task 7777 of");
    await waitFor("one bulk task", async () => JSON.stringify(await shownIds(page)) === JSON.stringify([ids[7777]]));
    await page.getByTestId("task-search").fill("");
    await page.getByTestId("task-filter").selectOption("failed");
    await waitFor(
      "the failed ones",
      async () => (await page.getByTestId("task-count").getAttribute("data-count")) === "2000",
    );
    await page.close();
  });
});

/** One socket to the directory: sends `message`, returns the first answer. */
function subscribe(message: object): Promise<DirectoryToDashboard> {
  return new Promise((resolveAnswer, reject) => {
    const socket = new WebSocket(
      `${mesh.url.replace(/^http/, "ws")}/parties/directory/main?token=${encodeURIComponent(mesh.orchestratorToken)}`,
    );
    socket.on("open", () => socket.send(JSON.stringify(message)));
    socket.on("message", (data) => {
      socket.close();
      resolveAnswer(DirectoryToDashboard.parse(JSON.parse(String(data))));
    });
    socket.on("error", reject);
  });
}
