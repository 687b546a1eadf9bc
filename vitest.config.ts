import { defineConfig } from "vitest/config";

// Two groups, run one after the other: the unit tests (no server; files in parallel on every core),
// then the integration tests, one file at a time: each starts a real partykit dev server (~300 MB)
// and some a real Chromium, and the machine has 2 cores. `npx vitest run --project unit` is the
// quick loop.
const shared = { testTimeout: 90_000, hookTimeout: 120_000 };

export default defineConfig({
  test: {
    reporters: ["default"],
    // Vitest leaves one core free by default; on 2 cores that is one worker. The unit group uses both.
    maxWorkers: 2,
    minWorkers: 1,
    projects: [
      {
        test: {
          ...shared,
          name: "unit",
          include: ["test/**/*.test.ts"],
          // The real CLIs are installed from npm and run by `npm run test:real-clis` (test/real-clis/README.md).
          exclude: ["test/integration/**", "test/real-clis/**", "**/node_modules/**"],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          // One file at a time, in one child process (files stay isolated from each other).
          poolOptions: { forks: { singleFork: true } },
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
