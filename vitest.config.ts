import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The real CLIs are installed from npm and run by `npm run test:real-clis` (test/real-clis/README.md).
    exclude: ["test/real-clis/**", "**/node_modules/**"],
    // Integration tests each start a real partykit dev server (~300 MB, 2 cores here): one file at a time.
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 120_000,
    reporters: ["default"],
  },
});
