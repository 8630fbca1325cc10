import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * `npm start` as an operator runs it: `node app/main.ts` in a process of its own, with only the
 * environment given (no variable of the test process leaks in but PATH and HOME). Its stdout (JSON logs)
 * and stderr are captured whole.
 */
export interface PlatformProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** The JSON log lines written so far. */
  logLines(): Array<Record<string, unknown>>;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  /** SIGTERM, SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnPlatform(env: Record<string, string>): PlatformProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "app/main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", EXIT_WITH_PARENT: "true", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const logLines = () =>
    out.split("\n").flatMap((line) => {
      if (!line.startsWith("{")) return [];
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    logLines,
    exited,
    stop: async (graceMs = 10_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits for the `platform started` log line and returns it (its `url`), or fails with the output. */
export async function waitForStart(
  platform: PlatformProcess,
  timeoutMs = 60_000,
): Promise<Record<string, unknown> & { url: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const started = platform.logLines().find((line) => line.msg === "platform started");
    if (started !== undefined && typeof started.url === "string") {
      return started as Record<string, unknown> & { url: string };
    }
    const exited = platform.child.exitCode !== null || platform.child.signalCode !== null;
    if (exited || Date.now() > deadline) {
      await platform.stop(1_000);
      throw new Error(
        `the platform ${exited ? `exited (${platform.child.exitCode})` : "did not start in time"}:\n${platform.stderr().slice(-3000)}\n${platform.stdout().slice(-3000)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
