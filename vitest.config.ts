import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["{app,runtime,actors,gateway,chatmgmt,proto,deploy,test}/**/*.test.ts"],
    exclude: ["node_modules/**"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default"],
  },
});
