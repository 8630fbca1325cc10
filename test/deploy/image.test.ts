import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, readRepoFile } from "./deploy-support.js";

/**
 * The container image without a container engine: deploy/docker-entrypoint.sh is run directly (as the image
 * runs it), and deploy/Dockerfile and .dockerignore are read for what the image must have.
 */
const ENTRYPOINT = join(ROOT, "deploy", "docker-entrypoint.sh");

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the entry point with a clean environment (PATH and HOME only) plus `env`; async so servers can answer. */
function runEntrypoint(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(ENTRYPOINT, args, {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

interface StubReport {
  role?: string;
  host?: string;
  args: string[];
  pemInEnv: boolean;
  key?: { path: string; text: string; mode: number };
  secrets: Record<string, string | undefined>;
}

describe("deploy/docker-entrypoint.sh", () => {
  /** An APP_DIR whose app/main.ts reports what it was started with, to see exactly what the script passes on. */
  let stubApp: string;
  beforeAll(() => {
    stubApp = mkdtempSync(join(tmpdir(), "entrypoint-"));
    mkdirSync(join(stubApp, "app"));
    symlinkSync(join(ROOT, "node_modules"), join(stubApp, "node_modules"));
    writeFileSync(
      join(stubApp, "app", "main.ts"),
      `import { readFileSync, statSync } from "node:fs";
const keyFile = process.env.JWT_PRIVATE_KEY_FILE;
const key = keyFile === undefined ? undefined : { path: keyFile, text: readFileSync(keyFile, "utf8"), mode: statSync(keyFile).mode & 0o777 };
const names = ["ADMIN_TOKEN", "ADMIN_TOKEN_FILE", "OTP_PEPPER", "OTP_PEPPER_FILE"];
const secrets = Object.fromEntries(names.map((name) => [name, process.env[name]]));
const report = { role: process.env.ROLE, host: process.env.HOST, args: process.argv.slice(2), pemInEnv: "JWT_PRIVATE_KEY_PEM" in process.env, key, secrets };
console.log(JSON.stringify(report));`,
    );
  });
  afterAll(() => rmSync(stubApp, { recursive: true, force: true }));
  const stub = async (args: string[], env: Record<string, string> = {}) => {
    const run = await runEntrypoint(args, { APP_DIR: stubApp, ...env });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    return JSON.parse(run.stdout) as StubReport;
  };

  it("prints the platform's help for `--role fanout --help` and exits 0", async () => {
    const run = await runEntrypoint(["--role", "fanout", "--help"]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("Usage: npm start");
    expect(run.stdout).toContain("SHUTDOWN_GRACE_MS");
  });

  it("turns `--role X` and `--role=X` into ROLE and passes every other argument on unchanged", async () => {
    expect(await stub(["--role", "gateway", "--port", "9000", "--log-level=debug"])).toMatchObject({
      role: "gateway",
      args: ["--port", "9000", "--log-level=debug"],
    });
    expect(await stub(["--port", "1", "--role=ingest"])).toMatchObject({
      role: "ingest",
      args: ["--port", "1"],
    });
  });

  it("takes the role from ROLE when no flag is given, lets the flag win, and defaults to the embedded role", async () => {
    expect((await stub([], { ROLE: "chatmgmt" })).role).toBe("chatmgmt");
    expect((await stub(["--role", "fanout"], { ROLE: "chatmgmt" })).role).toBe("fanout");
    expect((await stub([])).role).toBe("all");
  });

  it("refuses an unknown role with a message naming the valid ones, before node starts", async () => {
    for (const [args, env] of [
      [["--role", "gatway"], {}],
      [["--role=web"], {}],
      [[], { ROLE: "everything" }],
    ] as const) {
      const run = await runEntrypoint([...args], { APP_DIR: stubApp, ...env });
      expect(run.status).toBe(64);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(/unknown role ".+" \(expected one of: all gateway ingest fanout chatmgmt\)/);
    }
    const missing = await runEntrypoint(["--role"], { APP_DIR: stubApp });
    expect(missing.status).toBe(64);
    expect(missing.stderr).toContain("--role needs a value");
  });

  it("resolves HOST=auto to the container's own IPv4 address and leaves other hosts alone", async () => {
    const auto = await runEntrypoint(["--role", "ingest"], { APP_DIR: stubApp, HOST: "auto" });
    if (auto.status === 64) {
      // A machine without a non-loopback interface: the script must say so rather than bind to nothing.
      expect(auto.stderr).toContain("HOST=auto");
    } else {
      const report = JSON.parse(auto.stdout) as { host: string };
      expect(report.host).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(report.host.startsWith("127.")).toBe(false);
    }
    expect((await stub(["--role", "ingest"], { HOST: "10.1.2.3" })).host).toBe("10.1.2.3");
  });

  it("writes a signing key passed as JWT_PRIVATE_KEY_PEM to JWT_PRIVATE_KEY_FILE, private, and hides the variable", async () => {
    const pem = "-----BEGIN PRIVATE KEY-----\nnot-a-real-key\n-----END PRIVATE KEY-----";
    const path = join(stubApp, "keys", "jwt.pem");
    const report = await stub(["--role", "chatmgmt"], {
      JWT_PRIVATE_KEY_PEM: pem,
      JWT_PRIVATE_KEY_FILE: path,
    });
    expect(report.pemInEnv).toBe(false);
    expect(report.key).toEqual({ path, text: `${pem}\n`, mode: 0o600 });
    const defaulted = await stub(["--role", "chatmgmt"], {
      JWT_PRIVATE_KEY_PEM: pem,
      DATA_DIR: join(stubApp, "d"),
    });
    expect(defaulted.key?.path).toBe(join(stubApp, "d", "jwt-signing-key.pem"));
    expect((await stub(["--role", "chatmgmt"])).key).toBeUndefined();
  });

  it("reads ADMIN_TOKEN_FILE and OTP_PEPPER_FILE into their options and hides the file variables", async () => {
    const admin = join(stubApp, "admin_token");
    const pepper = join(stubApp, "otp_pepper");
    writeFileSync(admin, "admin-secret-from-a-file\n");
    writeFileSync(pepper, "pepper-secret-from-a-file");
    const report = await stub(["--role", "chatmgmt"], { ADMIN_TOKEN_FILE: admin, OTP_PEPPER_FILE: pepper });
    expect(report.secrets).toEqual({
      ADMIN_TOKEN: "admin-secret-from-a-file",
      OTP_PEPPER: "pepper-secret-from-a-file",
    });
    for (const [env, message] of [
      [{ ADMIN_TOKEN: "x", ADMIN_TOKEN_FILE: admin }, "set ADMIN_TOKEN or ADMIN_TOKEN_FILE, not both"],
      [{ OTP_PEPPER_FILE: join(stubApp, "missing") }, "OTP_PEPPER_FILE: cannot read"],
    ] as const) {
      const run = await runEntrypoint(["--role", "chatmgmt"], { APP_DIR: stubApp, ...env });
      expect(run.status).toBe(64);
      expect(run.stdout).toBe("");
      expect(run.stderr).toContain(message);
    }
  });

  it("runs the tables command for setup jobs", async () => {
    const run = await runEntrypoint(["tables", "--help"]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("Usage: npm run tables");
  });

  describe("healthcheck", () => {
    let server: Server;
    let status = 200;
    let port = 0;
    beforeAll(async () => {
      server = createServer((request, response) => {
        response.statusCode = request.url === "/health" ? status : 404;
        response.end("{}");
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("succeeds only while /health answers 200", async () => {
      status = 200;
      expect((await runEntrypoint(["healthcheck"], { HOST: "127.0.0.1", PORT: String(port) })).status).toBe(
        0,
      );
      expect((await runEntrypoint(["healthcheck"], { HOST: "0.0.0.0", PORT: String(port) })).status).toBe(0);
      status = 503;
      expect((await runEntrypoint(["healthcheck"], { HOST: "127.0.0.1", PORT: String(port) })).status).toBe(
        1,
      );
    });

    it("fails when nothing listens", async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
      const freePort = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      expect(
        (await runEntrypoint(["healthcheck"], { HOST: "127.0.0.1", PORT: String(freePort) })).status,
      ).toBe(1);
    });
  });

  it("is a POSIX sh script that `sh -n` accepts", () => {
    const result = spawnSync("sh", ["-n", ENTRYPOINT], { encoding: "utf8" });
    expect(result.status).toBe(0);
    expect(readRepoFile("deploy/docker-entrypoint.sh").split("\n")[0]).toBe("#!/bin/sh");
  });
});

describe("deploy/Dockerfile", () => {
  const dockerfile = readRepoFile("deploy/Dockerfile");
  const instructions = dockerfile
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const lastStage = instructions.slice(instructions.findLastIndex((line) => line.startsWith("FROM ")));

  it("builds in stages: production dependencies apart, runtime on a slim Node 20 image", () => {
    const stages = instructions.filter((line) => line.startsWith("FROM "));
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/ARG NODE_IMAGE=node:20[\w.-]*slim/);
    expect(instructions.some((line) => /npm ci --omit=dev/.test(line))).toBe(true);
  });

  it("starts in production mode, its internal listener on every interface of the container, on a port of its own", () => {
    const env = Object.fromEntries(
      lastStage
        .filter((line) => line.startsWith("ENV "))
        .flatMap((line) => line.slice(4).trim().split(/\s+/))
        .map((pair) => pair.split("=") as [string, string]),
    );
    expect(env).toMatchObject({
      DEV_MODE: "false",
      INTERNAL_HOST: "0.0.0.0",
      INTERNAL_PORT: "9090",
      PORT: "8080",
    });
    const exposed = lastStage
      .find((line) => line.startsWith("EXPOSE "))
      ?.split(/\s+/)
      .slice(1);
    expect(exposed).toEqual(expect.arrayContaining(["8080", "9090"]));
  });

  it("runs as a non-root user, with a health check and the entry point script", () => {
    const user = lastStage.filter((line) => line.startsWith("USER "));
    expect(user.length).toBe(1);
    expect(user[0]).not.toMatch(/USER (root|0)\b/);
    expect(
      lastStage.some((line) =>
        /^HEALTHCHECK .*CMD \["\/app\/deploy\/docker-entrypoint\.sh", "healthcheck"\]/.test(line),
      ),
    ).toBe(true);
    expect(lastStage).toContain('ENTRYPOINT ["/app/deploy/docker-entrypoint.sh"]');
  });

  it("copies what the roles load at run time, which .dockerignore does not exclude", () => {
    const copied = lastStage
      .filter((line) => line.startsWith("COPY ") && !line.includes("--from="))
      .flatMap((line) =>
        line
          .split(/\s+/)
          .filter((word) => !word.startsWith("--"))
          .slice(1, -1),
      );
    for (const path of ["runtime", "actors", "gateway", "chatmgmt", "proto", "types", "package.json"]) {
      expect(copied).toContain(path);
      expect(existsSync(join(ROOT, path)), path).toBe(true);
    }
    const ignored = readRepoFile(".dockerignore")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("#") && !line.startsWith("!"));
    for (const path of copied) expect(ignored, path).not.toContain(path);
    expect(ignored).toContain("node_modules");
  });
});
