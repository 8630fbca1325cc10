import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../../runtime/config.js";
import {
  CLUSTER_ROLES,
  durationMs,
  ENTRYPOINT_ENV,
  GATEWAY_DRAIN_MS,
  hasCommand,
  OPTION_ENV_NAMES,
  ROOT,
  readRepoFile,
} from "./deploy-support.js";

/** docker-compose.yaml, checked without a container engine: Compose's own validation, then its meaning. */
interface Healthcheck {
  test?: string[] | string;
  disable?: boolean;
}
interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: Healthcheck;
  stop_grace_period?: string;
  ports?: string[];
  secrets?: string[];
}
interface ComposeFile {
  services: Record<string, Service>;
  secrets?: Record<string, { file: string }>;
}

const compose = parse(readRepoFile("docker-compose.yaml"), { merge: true }) as ComposeFile;
/** Read when its test runs, so that a missing override fails that test alone. */
const devOverride = (): ComposeFile =>
  parse(readRepoFile("deploy/compose/dev.override.yaml"), { merge: true }) as ComposeFile;
const services = compose.services;
const isPlatform = (service: Service) => service.image?.startsWith("messaging-platform:") === true;
const commandOf = (service: Service): string[] =>
  Array.isArray(service.command) ? service.command : (service.command ?? "").split(" ");
const roleOf = (service: Service): string | undefined => {
  const command = commandOf(service);
  const index = command.indexOf("--role");
  return index === -1 ? undefined : command[index + 1];
};
const roleServices = Object.entries(services).filter(
  ([, service]) => isPlatform(service) && roleOf(service) !== undefined,
);
const envOf = (service: Service): Record<string, string> =>
  Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([key, value]) => [
      key,
      value === null ? "" : String(value),
    ]),
  );
/** Compose interpolation with defaults: `${X:-default}` -> default. */
const interpolate = (value: string) => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, "$1");

describe("docker-compose.yaml", () => {
  const composeV1 = hasCommand("docker-compose", ["version"]);
  it.skipIf(!composeV1)("is accepted by `docker-compose config` (Compose v1)", () => {
    for (const files of [
      ["docker-compose.yaml"],
      ["docker-compose.yaml", "deploy/compose/dev.override.yaml"],
    ]) {
      const result = spawnSync("docker-compose", [...files.flatMap((file) => ["-f", file]), "config", "-q"], {
        cwd: ROOT,
        encoding: "utf8",
      });
      expect(result.stderr, files.join(" + ")).toBe("");
      expect(result.status).toBe(0);
    }
  });
  if (!composeV1) {
    it("is validated by docker-compose when it is installed", () => {
      console.warn(
        "docker-compose is not installed: only the YAML checks ran (apt-get install -y docker-compose)",
      );
    });
  }

  it("runs two gateways, three ingest nodes, a fanout worker and chat management from the platform image", () => {
    const count = (role: string) => roleServices.filter(([, service]) => roleOf(service) === role).length;
    expect(count("gateway")).toBe(2);
    expect(count("ingest")).toBe(3);
    expect(count("fanout")).toBeGreaterThanOrEqual(1);
    expect(count("chatmgmt")).toBeGreaterThanOrEqual(1);
    for (const [name, service] of roleServices) {
      expect(CLUSTER_ROLES, name).toContain(roleOf(service));
      expect(service.build?.dockerfile, name).toBe("deploy/Dockerfile");
    }
  });

  it("runs the engines: Kafka in KRaft mode from apache/kafka, Redis 7 without persistence, dynalite", () => {
    expect(services.kafka?.image).toMatch(/^apache\/kafka:4\./);
    expect(services.kafka?.environment?.KAFKA_PROCESS_ROLES).toBe("broker,controller");
    expect(services.redis?.image).toBe("redis:7");
    expect(commandOf(services.redis ?? {})).toEqual(expect.arrayContaining(["--appendonly", "no"]));
    expect(commandOf(services.dynamodb ?? {})[0]).toBe("dynalite");
  });

  it("creates tables and topics in one-shot jobs that every role waits for", () => {
    expect(commandOf(services.tables ?? {})).toEqual(["tables"]);
    expect(services.tables?.depends_on?.dynamodb?.condition).toBe("service_healthy");
    expect(services.topics?.depends_on?.kafka?.condition).toBe("service_healthy");
    for (const [name, service] of roleServices) {
      expect(service.depends_on?.tables?.condition, name).toBe("service_completed_successfully");
      expect(service.depends_on?.topics?.condition, name).toBe("service_completed_successfully");
    }
  });

  it("creates the topics with the partition counts the roles are configured with", () => {
    const script = commandOf(services.topics ?? {}).join(" ");
    const specs = /for spec in ([^;]+);/.exec(script)?.[1] ?? "";
    const created = Object.fromEntries(
      [...specs.matchAll(/([a-z_.]+):(\d+)/g)].map((match) => [match[1], Number(match[2])]),
    );
    for (const [name, service] of roleServices) {
      const config = loadConfig({ env: envOf(service), argv: [] });
      expect(created, name).toEqual({
        "messages.persisted": config.messagesPartitions,
        "memberships.changed": config.lifecyclePartitions,
        "chats.created": config.lifecyclePartitions,
        dead_letters: config.deadLetterPartitions,
      });
    }
  });

  it("starts services only after dependencies that can report readiness, in an order without cycles", () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        const target = services[dependency];
        expect(target, `${name} depends on unknown ${dependency}`).toBeDefined();
        if (condition === "service_healthy") {
          expect(target?.healthcheck?.test, `${dependency} needs a health check`).toBeDefined();
          expect(target?.healthcheck?.disable, dependency).not.toBe(true);
        }
      }
    }
    const state = new Map<string, "visiting" | "done">();
    const visit = (name: string, path: string[]) => {
      if (state.get(name) === "done") return;
      expect(state.get(name), `cycle: ${[...path, name].join(" -> ")}`).not.toBe("visiting");
      state.set(name, "visiting");
      for (const dependency of Object.keys(services[name]?.depends_on ?? {}))
        visit(dependency, [...path, name]);
      state.set(name, "done");
    };
    for (const name of Object.keys(services)) visit(name, []);
  });

  it("health-checks every long-running service", () => {
    for (const [name, service] of Object.entries(services)) {
      if (name === "tables" || name === "topics") continue;
      expect(service.healthcheck?.test, name).toBeDefined();
    }
    for (const [name, service] of roleServices) {
      expect(service.healthcheck?.test, name).toEqual([
        "CMD",
        "/app/deploy/docker-entrypoint.sh",
        "healthcheck",
      ]);
    }
  });

  it("sets only real options on the platform's processes, and values they accept", () => {
    for (const [name, service] of Object.entries(services)) {
      if (!isPlatform(service)) continue;
      const env = envOf(service);
      for (const key of Object.keys(env)) {
        expect(OPTION_ENV_NAMES.has(key) || ENTRYPOINT_ENV.has(key), `${name}: ${key}`).toBe(true);
      }
      const resolved = Object.fromEntries(
        Object.entries(env).map(([key, value]) => [key, interpolate(value)]),
      );
      const role = roleOf(service);
      if (role === undefined) continue;
      const config = loadConfig({ env: resolved, argv: ["--role", role] });
      expect(config.role).toBe(role);
      expect(config.host, `${name} binds to and advertises its container address`).toBe("auto");
    }
  });

  it("gives every node its own NODE_ID and points every role at the shared engines", () => {
    const ids = roleServices.map(([, service]) => envOf(service).NODE_ID);
    expect(new Set(ids).size).toBe(roleServices.length);
    for (const [name, service] of roleServices) {
      const env = envOf(service);
      expect(env.DYNAMODB_ENDPOINT, name).toBe("http://dynamodb:4567");
      expect(env.KAFKA_BROKERS, name).toBe("kafka:19092");
      expect(env.REDIS_URL, name).toBe("redis://redis:6379");
    }
  });

  it("lets gateways drain for 30 s and verify tokens with chat management's JWKS", () => {
    for (const [name, service] of roleServices.filter(([, s]) => roleOf(s) === "gateway")) {
      const env = envOf(service);
      expect(Number(env.SHUTDOWN_GRACE_MS), name).toBeGreaterThanOrEqual(GATEWAY_DRAIN_MS);
      expect(durationMs(service.stop_grace_period ?? "10s"), name).toBeGreaterThan(
        Number(env.SHUTDOWN_GRACE_MS),
      );
      expect(env.JWKS_URL, name).toBe("http://chatmgmt:8080/.well-known/jwks.json");
      expect(service.depends_on?.chatmgmt?.condition, name).toBe("service_healthy");
    }
  });

  it("has an entry point that sends /v1/ws to the gateways, only the public API and browser client to chat management, 404 for the rest", () => {
    const entry = services.entry;
    expect(entry?.ports).toEqual(["127.0.0.1:8080:8080"]);
    const nginx = commandOf(entry ?? {}).join("\n");
    const gateways = roleServices.filter(([, s]) => roleOf(s) === "gateway").map(([name]) => name);
    const upstream = /upstream gateways \{([^}]*)\}/.exec(nginx)?.[1] ?? "";
    for (const gateway of gateways) expect(upstream).toContain(`server ${gateway}:8080`);
    expect(nginx).toMatch(/location \/v1\/ws \{[^}]*proxy_pass http:\/\/gateways;/);
    expect(nginx).toMatch(/proxy_set_header Upgrade \$\$http_upgrade/);
    const toChatmgmt = [...nginx.matchAll(/location ([^{]+?) \{ proxy_pass http:\/\/chatmgmt; \}/g)].map(
      (match) => match[1],
    );
    expect(toChatmgmt.sort()).toEqual(
      ["/api/", "= /.well-known/jwks.json", "= /health", "= /", "= /index.html", "/web/"].sort(),
    );
    expect(nginx).toMatch(/location \/ \{[^}]*return 404 /);
    expect(nginx).not.toMatch(/:9090|\/admin|\/inspector|\/metrics/);
  });

  it("publishes no role's port on the host: the internal listener (9090) stays inside the stack", () => {
    for (const [name, service] of roleServices) {
      expect(service.ports, name).toBeUndefined();
      const config = loadConfig({ env: envOf(service), argv: ["--role", roleOf(service) ?? ""] });
      expect(config.internalPort, name).toBe(9090);
      expect(config.internalHost, name).toBe("0.0.0.0");
    }
  });

  it("starts every role in production mode, its secrets mounted from files the stack declares", async () => {
    const { productionProblems } = await import("../../app/production-requirements.js");
    for (const [name, service] of roleServices) {
      const env = envOf(service);
      expect(env.DEV_MODE, name).toBe("false");
      // Behind the entry every request comes from its address: the per-IP limits need it trusted.
      expect(env.TRUSTED_PROXIES, name).toBeTruthy();
      // As the entry point and the platform read them: each *_FILE names a mounted secret of this service.
      const resolved: Record<string, string> = {};
      for (const [key, value] of Object.entries(env)) {
        const file = /^\/run\/secrets\/(.+)$/.exec(value)?.[1];
        if (file === undefined) {
          resolved[key] = interpolate(value);
          continue;
        }
        expect(service.secrets, `${name}: ${key}`).toContain(file);
        expect(compose.secrets?.[file]?.file, file).toMatch(/^\.\/deploy\/compose\/secrets\//);
        if (key === "JWT_PRIVATE_KEY_FILE") resolved[key] = value;
        else resolved[key.replace(/_FILE$/, "")] = randomBytes(24).toString("hex");
      }
      const config = loadConfig({ env: resolved, argv: ["--role", roleOf(service) ?? ""] });
      expect(config.devMode, name).toBe(false);
      expect(productionProblems(config), name).toEqual([]);
      expect(
        Object.keys(env).filter((key) => /TOKEN$|PEPPER$/.test(key)),
        `${name}: no secret inline`,
      ).toEqual([]);
    }
  });

  it("has a dev override for a local demo that every role accepts", () => {
    for (const [name, service] of roleServices) {
      const override = devOverride().services[name];
      expect(override?.environment, name).toBeDefined();
      const env = { ...envOf(service), ...envOf(override ?? {}) };
      const config = loadConfig({
        env: { ...env, HOST: "10.0.0.7" },
        argv: ["--role", roleOf(service) ?? ""],
      });
      expect(config.devMode, name).toBe(true);
    }
  });
});
