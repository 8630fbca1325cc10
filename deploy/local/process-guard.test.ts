import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { engineEndpoint } from "../../test/support/engines.js";
import { waitFor } from "../../test/support/wait-for.js";

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const tsx = join(import.meta.dirname, "..", "..", "node_modules", ".bin", "tsx");
const fixture = join(import.meta.dirname, "fixtures", "guarded-redis.ts");

// Needs the redis-server binary, which the test command provides wherever it provides Redis.
describe.skipIf(!engineEndpoint("redis"))("an interrupted launcher", () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`stops the engine it started when it receives ${signal}, leaving no process behind`, async () => {
      // Its own process group, so the signal reaches only the launcher, as when a parent forwards it.
      const launcher = spawn(tsx, [fixture], { stdio: ["ignore", "pipe", "inherit"], detached: true });
      const lines = createInterface({ input: launcher.stdout });
      const [first] = (await once(lines, "line")) as [string];
      const { pid } = JSON.parse(first) as { pid: number };
      try {
        expect(isRunning(pid)).toBe(true);
        const exited = once(launcher, "exit");
        launcher.kill(signal);
        const [code] = (await exited) as [number | null];
        expect(code).toBe(signal === "SIGINT" ? 130 : 143);
        await waitFor(() => !isRunning(pid), { timeoutMs: 5_000, what: `redis-server pid ${pid} to exit` });
      } finally {
        // Whatever happened above, this test leaves no process of its own running.
        for (const own of [pid, launcher.pid])
          if (own !== undefined && isRunning(own)) process.kill(own, "SIGKILL");
      }
    });
  }
});
