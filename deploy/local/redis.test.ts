import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { engineEndpoint } from "../../test/support/engines.js";
import { startRedis } from "./redis.js";

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

// Needs the redis-server binary, which the test command provides wherever it provides Redis.
describe.skipIf(!engineEndpoint("redis"))("a Redis engine restarted by its owner", () => {
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    it(`comes back on the same port, empty, as a new process (${signal})`, async () => {
      const engine = await startRedis({ cacheDir: "", progress: () => {} });
      const client = new Redis(engine.endpoint, { maxRetriesPerRequest: 20, retryStrategy: () => 50 });
      try {
        await client.set("restart-probe", "before");
        const before = engine.pid;
        await engine.restart?.(signal);
        expect(engine.pid).not.toBe(before);
        expect(before !== undefined && isRunning(before)).toBe(false);
        // The same endpoint serves again; nothing survived (no RDB, no AOF).
        expect(await client.get("restart-probe")).toBeNull();
        await client.set("restart-probe", "after");
        expect(await client.get("restart-probe")).toBe("after");
      } finally {
        client.disconnect();
        await engine.stop();
      }
      expect(engine.pid !== undefined && isRunning(engine.pid)).toBe(false);
    });
  }
});
