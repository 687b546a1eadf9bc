// What a newcomer sees first, in real headless Chromium against the real mesh running the bundled demo CLI in a demo
// repository (as `npm start` does): budget meters empty at $0, tables usable at 375 px, the demo's log and diff telling
// one story in colour, the task's path drawn from the task record without Mermaid, long side-by-side lines wrapped,
// calm empty diff cells in dark mode, and apply asking first (and a second apply saying it did nothing, on the page,
// the API and MCP). One mesh, one agent, one browser. Screenshots go to $MESH_SCREENSHOTS (default ./screenshots):
// first-hour-<dashboard|task>-<1280|375>-<light|dark>.png.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../launcher/dev-server.ts";
import type { TaskView } from "../../protocol/index.ts";
import { closeChromium, launchChromium } from "./headless-chromium.ts";
import { type Mesh, startAgent, startMesh, type TestAgent, waitFor } from "./mesh-harness.ts";

const SHOTS = resolve(process.env.MESH_SCREENSHOTS ?? "screenshots");
const DEMO_CLI = join(PROJECT_ROOT, "agents/demo-cli/demo-cli.mjs");
/** What the page would fetch if it still drew the path with Mermaid (its chunks, ELK's, dagre's). */
const DIAGRAM_LIBRARY = /mermaid|elk|dagre|flowDiagram|cytoscape|katex/i;
let mesh: Mesh;
let agent: TestAgent;
let browser: BrowserContext;
let repo: string;
let operatorToken: string;
let task: TaskView;

const git = (...args: string[]): string =>
  execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], {
    cwd: repo,
    encoding: "utf8",
  });

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  mesh = await startMesh({}, { page: true });
  agent = await startAgent(mesh, "vm-hour", {
    executors: {
      sonnet: {
        command: [DEMO_CLI, "--format", "claude-stream-json", "-m", "claude-sonnet-4-5-20250929", "{prompt}"],
        format: "claude-stream-json",
        timeout_s: 120,
        env: { DEMO_CLI_DELAY_MS: "1" },
      },
    },
  });
  operatorToken = (await mesh.api<{ token: string }>("/api/links", { method: "POST", body: { operator: true } })).body
    .token;
  // The repository npm start makes: a router without validation, and the marker that lets the demo CLI edit it.
  repo = mkdtempSync(join(tmpdir(), "mesh-first-hour-"));
  mkdirSync(join(repo, "src"));
  writeFileSync(join(repo, ".mesh-demo"), "the demo CLI may edit this repository\n");
  writeFileSync(
    join(repo, "src/router.ts"),
    "export type Body = { name: string };\n\nexport function parseBody(text: string): Body {\n  return JSON.parse(text) as Body;\n}\n",
  );
  git("init", "-q", "-b", "main");
  git("add", ".");
  git("commit", "-qm", "a router without validation");
  browser = await launchChromium();
});

afterAll(async () => {
  await closeChromium(browser);
  await agent?.stop();
  await mesh?.stop();
  if (repo) rmSync(repo, { recursive: true, force: true });
});

/** A page that records its uncaught errors and every address it fetches. */
async function openPage(url: string, width = 1280): Promise<{ page: Page; errors: string[]; fetched: string[] }> {
  const page = await browser.newPage();
  await page.setViewportSize({ width, height: 900 });
  const errors: string[] = [];
  const fetched: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("request", (request) => fetched.push(request.url()));
  await page.goto(url);
  return { page, errors, fetched };
}

/** Light and dark at 1280 and 375 px, full page. */
async function shoot(page: Page, name: string): Promise<void> {
  for (const width of [1280, 375]) {
    for (const colorScheme of ["light", "dark"] as const) {
      await page.setViewportSize({ width, height: 900 });
      await page.emulateMedia({ colorScheme });
      await page.screenshot({ path: join(SHOTS, `first-hour-${name}-${width}-${colorScheme}.png`), fullPage: true });
    }
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.emulateMedia({ colorScheme: "light" });
}

/** Whether every element is on screen horizontally at this width (not cut at a card's edge). */
const withinWidth = async (page: Page, selector: string, width: number): Promise<boolean> =>
  page
    .locator(selector)
    .evaluateAll(
      (cells, max) =>
        cells.length > 0 &&
        cells.every(
          (cell) =>
            cell.getBoundingClientRect().width > 0 &&
            cell.getBoundingClientRect().left >= 0 &&
            cell.getBoundingClientRect().right <= max,
        ),
      width,
    );

describe("the page a newcomer opens", () => {
  it("shows empty meters and a cent scale before anything is spent, and the agents table whole at 375 px", async () => {
    const { page, errors } = await openPage(`${mesh.url}/#token=${encodeURIComponent(operatorToken)}`);
    await page.getByTestId("budget-today").waitFor();
    for (const meter of ["budget-today", "budget-month"]) {
      expect(
        await page
          .getByTestId(meter)
          .locator(".meter-spent")
          .evaluate((bar) => bar.getBoundingClientRect().width),
      ).toBe(0);
      expect(await page.getByTestId(meter).getAttribute("class")).not.toContain("over");
    }
    expect(await page.getByTestId("budget-days-scale").textContent()).toBe("full height $0.01/day");
    await page.locator('tr[data-agent="vm-hour"]').waitFor();
    await shoot(page, "dashboard");
    // At 375 px each agent is a stack of named cells: its state and heartbeat are on screen, the page does not scroll
    // sideways.
    await page.setViewportSize({ width: 375, height: 800 });
    for (const label of ["state", "load", "last heartbeat"])
      expect(await withinWidth(page, `tr[data-agent="vm-hour"] td[data-label="${label}"]`, 375), label).toBe(true);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("runs the demo: its log tells the diff's story in colour, the path is drawn without Mermaid, the diff is whole and calm", async () => {
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: {
        instruction: "Add input validation to the router and cover it with tests",
        cwd: repo,
        agent: "vm-hour",
        executor: "sonnet",
        acceptance: { command: "grep -n 'status: 4' src/router.ts", allowed_paths: ["src", "test"] },
      },
    });
    expect(created.status).toBe(201);
    task = await mesh.finished(created.body.task_id, 60_000);
    expect(task.status).toBe("succeeded");
    const { page, errors, fetched } = await openPage(
      `${mesh.url}/#task=${task.task_id}&token=${encodeURIComponent(operatorToken)}`,
    );
    // The path: the page's own SVG, from the task record; nothing of a diagram library fetched.
    const svg = page.locator('[data-testid="task-diagram"] svg');
    await svg.waitFor();
    expect(await svg.locator('[data-node="a1"]').textContent()).toContain("#1 sonnet on vm-hour");
    expect(await svg.locator('[data-node="final"] text').textContent()).toBe("succeeded");
    expect(await page.getByTestId("task-path-source").textContent()).toMatch(/^flowchart LR/);
    // The log and the diff tell one story: the router's validation, with the test runner's colours.
    const log = page.getByTestId("log");
    await log.locator(".ansi-red-fg").first().waitFor();
    expect((await log.textContent()) ?? "").toContain("src/router.ts");
    expect((await log.textContent()) ?? "").not.toContain("math.js");
    const view = page.getByTestId("diff-view");
    await view.locator(".d2h-file-wrapper").first().waitFor({ timeout: 30_000 });
    expect(await view.locator(".d2h-file-name").allTextContents()).toEqual(
      expect.arrayContaining(["src/router.ts", "test/router.test.ts"]),
    );
    expect(fetched.filter((url) => DIAGRAM_LIBRARY.test(new URL(url).pathname))).toEqual([]);
    // Side by side at 1280 px a long line wraps inside its half, and the halves' rows stay level.
    expect(await page.getByTestId("diff-side-by-side").getAttribute("aria-pressed")).toBe("true");
    const sides = await view
      .locator(".d2h-files-diff")
      .first()
      .evaluate((files) => {
        const halves = [...files.querySelectorAll(":scope > .d2h-file-side-diff")];
        const cut = halves.flatMap((half) =>
          [...half.querySelectorAll(".d2h-code-line-ctn")].filter(
            (line) => line.getBoundingClientRect().right > half.getBoundingClientRect().right + 1,
          ),
        );
        const rows = halves.map((half) =>
          [...half.querySelectorAll("tbody tr")].map((row) => Math.round(row.getBoundingClientRect().height)),
        );
        return { cut: cut.length, left: rows[0], right: rows[1] };
      });
    expect(sides.cut).toBe(0);
    expect(sides.left).toEqual(sides.right);
    expect(Math.max(...(sides.left ?? []))).toBeGreaterThan(Math.min(...(sides.left ?? [])));
    // Dark: the cells a side does not have are one calm fill, without stripes or borders.
    await page.emulateMedia({ colorScheme: "dark" });
    const empty = await view.locator(".d2h-code-side-emptyplaceholder, .d2h-emptyplaceholder").evaluateAll((cells) =>
      cells.map((cell) => {
        const style = getComputedStyle(cell);
        return `${style.backgroundColor} ${style.backgroundImage} ${style.borderTopColor} ${style.borderBottomColor} ${style.borderLeftColor}`;
      }),
    );
    expect(empty.length).toBeGreaterThan(0);
    expect(new Set(empty).size).toBe(1);
    expect(empty[0]).toMatch(/ none rgba\(0, 0, 0, 0\) rgba\(0, 0, 0, 0\) rgba\(0, 0, 0, 0\)$/);
    await page.emulateMedia({ colorScheme: "light" });
    await shoot(page, "task");
    // At 375 px the attempt is a stack of named cells: status, cost and acceptance on screen.
    await page.setViewportSize({ width: 375, height: 800 });
    for (const label of ["status", "cost", "acceptance"])
      expect(await withinWidth(page, `tr[data-attempt="1"] td[data-label="${label}"]`, 375), label).toBe(true);
    expect(await page.locator('tr[data-attempt="1"] td[data-label="cost"]').textContent()).toBe("$0.0854");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    // The path is wider than a phone: it scrolls in its box, and the cut edge fades until scrolled there.
    const diagram = page.locator('[data-testid="task-diagram"]');
    await page.waitForFunction(
      () => document.querySelector('[data-testid="task-diagram"]')?.classList.contains("cut-right") === true,
    );
    expect(await diagram.evaluate((box) => box.scrollWidth > box.clientWidth)).toBe(true);
    await diagram.evaluate((box) => {
      box.scrollLeft = box.scrollWidth;
    });
    await page.waitForFunction(() => {
      const box = document.querySelector('[data-testid="task-diagram"]');
      return box?.classList.contains("cut-left") === true && !box.classList.contains("cut-right");
    });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("asks before apply, naming the checkout; cancel changes nothing; once applied, applying again says it did nothing", async () => {
    const head = git("rev-parse", "HEAD").trim();
    const { page, errors } = await openPage(
      `${mesh.url}/#task=${task.task_id}&token=${encodeURIComponent(operatorToken)}`,
    );
    const apply = page.getByTestId("work-apply");
    await waitFor("the apply button enabled", async () => apply.isEnabled());
    await apply.click();
    const question = page.getByTestId("work-apply-question");
    await question.waitFor();
    expect(await question.textContent()).toMatch(
      new RegExp(`^Merge mesh/\\S+ into branch main of \\S*${basename(repo)}\\?`),
    );
    await page.getByTestId("work").screenshot({ path: join(SHOTS, "first-hour-apply-confirm.png") });
    await page.getByTestId("work-apply-cancel").click();
    expect(await question.isVisible()).toBe(false);
    expect(await page.getByTestId("work-apply-outcome").textContent()).toBe("Not applied: nothing changed.");
    expect(git("rev-parse", "HEAD").trim()).toBe(head);
    expect((await mesh.task(task.task_id)).applied).toBeUndefined();
    // Confirmed, it merges.
    await apply.click();
    await page.getByTestId("work-apply-confirm").click();
    await waitFor("the apply outcome", async () =>
      /^Applied: your checkout is at [0-9a-f]{12}/.test(
        (await page.getByTestId("work-apply-outcome").textContent()) ?? "",
      ),
    );
    expect(readFileSync(join(repo, "src/router.ts"), "utf8")).toContain("status: 400");
    const applied = (await mesh.task(task.task_id)).applied;
    expect(applied).toBeDefined();
    await waitFor("the already-applied note", async () =>
      /^already applied .*\(commit [0-9a-f]{12}\): applying again would change nothing$/.test(
        (await page.getByTestId("work-apply-note").textContent()) ?? "",
      ),
    );
    expect(await apply.isDisabled()).toBe(true);
    // The API applies nothing a second time: the same record comes back.
    const again = await mesh.api<TaskView>(`/api/tasks/${task.task_id}/apply`, { method: "POST" });
    expect(again.status).toBe(200);
    expect(again.body.applied).toEqual(applied);
    // MCP's apply says so in words.
    const client = new Client({ name: "first-hour", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${mesh.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${mesh.orchestratorToken}` } },
      }),
    );
    try {
      const answer = (await client.callTool({ name: "apply", arguments: { task_id: task.task_id } })) as CallToolResult;
      const text = answer.content.map((part) => (part.type === "text" ? part.text : "")).join("\n");
      expect(text).toContain(
        `already applied at ${new Date(applied?.at ?? 0).toISOString()} (the checkout at ${applied?.commit}): nothing changed this time`,
      );
    } finally {
      await client.close();
    }
    expect(errors).toEqual([]);
    await page.close();
  });
});
