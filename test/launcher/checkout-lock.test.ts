// One `npm start` per checkout (docs/command-line.md): a second one, even on another port, is refused
// with one line naming the first (its pid and URL); a lock left by a process that is gone is taken over.
// Real processes: a stand-in `start.js` that sleeps holds the lock, and the built `npm start` is refused.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lockHolder, takeLock } from "../../launcher/checkout-lock.ts";
import { PROJECT_ROOT } from "../../launcher/dev-server.ts";
import { freePort } from "../integration/mesh-harness.ts";

const dir = mkdtempSync(join(tmpdir(), "mesh-lock-"));
const standIn = join(dir, "start.js");
let holder: ChildProcess;

beforeAll(() => {
  writeFileSync(standIn, "setInterval(() => {}, 1000);\n");
  holder = spawn(process.execPath, [standIn], { stdio: "ignore" });
});

afterAll(() => {
  holder.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("the checkout lock", () => {
  it("is taken when free, names a running holder, is taken over from a gone one, and is released only by its own", async () => {
    const file = join(dir, "a", "start.lock");
    const mine = takeLock(file, "http://127.0.0.1:1999");
    expect(mine.ok).toBe(true);
    expect(readFileSync(file, "utf8")).toBe(`${process.pid}\nhttp://127.0.0.1:1999\n`);
    if (mine.ok) mine.value.release();
    expect(existsSync(file)).toBe(false);

    writeFileSync(file, `${holder.pid}\nhttp://127.0.0.1:2999\n`);
    expect(lockHolder(file)).toEqual({ pid: holder.pid, url: "http://127.0.0.1:2999" });
    expect(takeLock(file, "http://127.0.0.1:1999")).toMatchObject({
      ok: false,
      error: { code: "held", holder: { pid: holder.pid, url: "http://127.0.0.1:2999" } },
    });

    // A pid that runs something other than npm start (this test's own runner is not start.js): not a holder.
    writeFileSync(file, `${process.ppid}\nhttp://127.0.0.1:2999\n`);
    expect(lockHolder(file)).toBeUndefined();

    const gone = spawn(process.execPath, [standIn], { stdio: "ignore" });
    await new Promise((exited) => {
      gone.once("exit", exited);
      gone.kill("SIGKILL");
    });
    writeFileSync(file, `${gone.pid}\nhttp://127.0.0.1:2999\n`);
    const taken = takeLock(file, "http://127.0.0.1:1999");
    expect(taken.ok).toBe(true);
    // Another process took it meanwhile: this one's release leaves it.
    writeFileSync(file, `${holder.pid}\nhttp://127.0.0.1:2999\n`);
    if (taken.ok) taken.value.release();
    expect(existsSync(file)).toBe(true);
  });

  it("npm start refuses to start a second time from one checkout, even on a free port, with one line", async (context) => {
    const lockFile = join(PROJECT_ROOT, ".mesh", "start.lock");
    // A real npm start of this checkout holds it now: leave it alone.
    if (lockHolder(lockFile) !== undefined) return context.skip();
    mkdirSync(dirname(lockFile), { recursive: true });
    writeFileSync(lockFile, `${holder.pid}\nhttp://127.0.0.1:1999\n`);
    try {
      const port = await freePort();
      const run = spawn(process.execPath, ["dist/start.js", "--port", String(port)], {
        cwd: PROJECT_ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      run.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      // Were it to start a mesh instead, it is ended here and the test fails on its status.
      const timer = setTimeout(() => run.kill("SIGTERM"), 20_000);
      const status = await new Promise((exited) => run.once("exit", exited));
      clearTimeout(timer);
      expect(status).toBe(2);
      expect(stderr).toBe(
        `error: npm start already runs from this checkout (pid ${holder.pid}, http://127.0.0.1:1999); use it, or stop it first: two would share .mesh/ (the rooms' storage, the agent's name and worktrees)\n`,
      );
    } finally {
      if (lockHolder(lockFile)?.pid === holder.pid) rmSync(lockFile, { force: true });
    }
  });
});
