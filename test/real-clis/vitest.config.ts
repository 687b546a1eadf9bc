import { defineConfig } from "vitest/config";

// `npm run test:real-clis`: the real coding CLIs, installed from npm into .cache/real-clis (never the
// project's dependencies), run through a real agent and the real mesh (README.md here).
export default defineConfig({
  test: {
    include: ["test/real-clis/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 600_000,
    reporters: ["default"],
  },
});
