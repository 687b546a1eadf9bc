import { defineConfig } from "vitest/config";

// Two groups, run one after the other: the unit tests (no server; files in parallel on every core),
// then the integration tests, one file at a time: each starts a real partykit dev server (~300 MB)
// and some a real Chromium, and the machine has 2 cores. `npm run test:unit` is the quick loop
// (docs/testing.md).
const shared = { testTimeout: 90_000, hookTimeout: 120_000 };

// Files outside test/integration/ that start a real server: they run with the integration group.
const startsServer = ["test/fuzz/corpus.test.ts", "test/launcher/server-safety.test.ts"];

export default defineConfig({
  test: {
    reporters: ["default"],
    // Vitest leaves one core free by default; on 2 cores that is one worker. The unit group uses both.
    maxWorkers: 2,
    minWorkers: 1,
    // Unit files share their worker's processes and module graph instead of a new process each:
    // importing the protocol's schemas and the rooms again for each of ~100 files cost more than the
    // tests themselves. So a unit file must leave no global changed (timers, env, mocks, cwd): each
    // restores what it changes. (Vitest reads this from the root config only.)
    poolOptions: { forks: { isolate: false } },
    projects: [
      {
        test: {
          ...shared,
          name: "unit",
          include: ["test/**/*.test.ts"],
          // The real CLIs are installed from npm and run by `npm run test:real-clis` (test/real-clis/README.md).
          exclude: ["test/integration/**", "test/real-clis/**", "**/node_modules/**", ...startsServer],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: "integration",
          include: ["test/integration/**/*.test.ts", ...startsServer],
          // One file at a time, in one child process, each file with fresh modules.
          poolOptions: { forks: { singleFork: true, isolate: true } },
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
