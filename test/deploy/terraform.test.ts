import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parse } from "@cdktf/hcl2json";
import { beforeAll, describe, expect, it } from "vitest";
import { TABLE_KEYS, TABLES } from "../../runtime/adapters/dynamodb/tables.js";
import { TOPICS } from "../../runtime/topics.js";
import {
  ENTRYPOINT_ENV,
  GATEWAY_DRAIN_MS,
  HARD_KILL_S,
  hasCommand,
  OPTION_ENV_NAMES,
  ROOT,
} from "./deploy-support.js";

/**
 * deploy/terraform, checked offline: providers cannot be downloaded here, so `terraform validate` cannot run.
 * Every file is parsed (HCL -> JSON), and the parts that must agree with the code are compared with it:
 * the tables of runtime/adapters/dynamodb/tables.ts, the topics and partition counts of D10, the options of
 * runtime/config.ts, the drain times of spec §5, and the plane rules of spec §1 for network and IAM.
 */
const TERRAFORM = join(ROOT, "deploy", "terraform");

// biome-ignore lint/suspicious/noExplicitAny: HCL turned into JSON is checked field by field.
type Hcl = Record<string, any>;

function tfFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (entry.startsWith(".")) return [];
    if (statSync(path).isDirectory()) return tfFiles(path);
    return entry.endsWith(".tf") ? [path] : [];
  });
}

const parsed = new Map<string, Hcl>();

/** All files of one module directory merged: block type => name => [bodies]; locals merged into one object. */
function moduleOf(dir: string): Hcl {
  const merged: Hcl = { locals: {}, variable: {}, output: {}, module: {}, resource: {}, data: {} };
  for (const [path, json] of parsed) {
    if (relative(join(TERRAFORM, dir), path).includes("/")) continue;
    if (!path.startsWith(join(TERRAFORM, dir))) continue;
    for (const locals of json.locals ?? []) Object.assign(merged.locals, locals);
    for (const kind of ["variable", "output", "module"]) Object.assign(merged[kind], json[kind] ?? {});
    for (const kind of ["resource", "data"]) {
      for (const [type, byName] of Object.entries((json[kind] ?? {}) as Hcl)) {
        merged[kind][type] = { ...(merged[kind][type] ?? {}), ...byName };
      }
    }
  }
  return merged;
}
/** `${expression}` as hcl2json renders an HCL expression. */
const ref = (expression: string): string => ["$", "{", expression, "}"].join("");
/** The first body of a block (hcl2json gives every block as a list of bodies). */
const first = (value: unknown): Hcl => {
  expect(Array.isArray(value) && value.length > 0, "a block with a body").toBe(true);
  return (value as Hcl[])[0] as Hcl;
};
/** `KEY = "value"` pairs inside an HCL expression kept as text by hcl2json (e.g. a merge(...) argument). */
const assignments = (expression: string): Record<string, string> =>
  Object.fromEntries(
    [...expression.matchAll(/(\b[A-Z][A-Z0-9_]*)\s*=\s*("([^"]*)"|[^\n,}]+)/g)].map((m) => [
      m[1],
      m[3] ?? m[2],
    ]),
  );

beforeAll(async () => {
  for (const path of tfFiles(TERRAFORM)) {
    parsed.set(path, (await parse(path, readFileSync(path, "utf8"))) as Hcl);
  }
});

describe("deploy/terraform files", () => {
  it("all parse as HCL, in the modules and environments the README names", async () => {
    const files = tfFiles(TERRAFORM).map((path) => relative(TERRAFORM, path));
    expect(files.length).toBe(parsed.size);
    const dirs = new Set(files.map((file) => file.slice(0, file.lastIndexOf("/"))));
    for (const dir of [
      "modules/dynamodb",
      "modules/msk-serverless",
      "modules/elasticache",
      "modules/ecs-service",
      "modules/network",
      "modules/alb",
      "modules/secrets",
      "modules/platform",
      "environments/dev",
      "environments/prod",
    ]) {
      expect(dirs, dir).toContain(dir);
    }
  });

  it.skipIf(!hasCommand("terraform", ["version"]))(
    "are formatted (`terraform fmt -check -recursive`)",
    () => {
      const result = spawnSync("terraform", ["fmt", "-check", "-recursive"], {
        cwd: TERRAFORM,
        encoding: "utf8",
      });
      expect(result.stdout, "files terraform fmt would change").toBe("");
      expect(result.status).toBe(0);
    },
  );

  it("document every variable and output", () => {
    for (const [path, json] of parsed) {
      for (const kind of ["variable", "output"]) {
        for (const [name, bodies] of Object.entries((json[kind] ?? {}) as Hcl)) {
          expect(first(bodies).description, `${relative(TERRAFORM, path)}: ${kind} ${name}`).toMatch(/\S/);
        }
      }
    }
  });

  it("reference only modules that exist, with variables those modules declare", () => {
    for (const [path, json] of parsed) {
      for (const [name, bodies] of Object.entries((json.module ?? {}) as Hcl)) {
        const body = first(bodies);
        const target = relative(TERRAFORM, join(path, "..", body.source));
        const callee = moduleOf(target);
        expect(Object.keys(callee.variable).length, `${name} -> ${target}`).toBeGreaterThan(0);
        for (const argument of Object.keys(body)) {
          if (["source", "depends_on", "providers", "count", "for_each"].includes(argument)) continue;
          expect(Object.keys(callee.variable), `${relative(TERRAFORM, path)} module ${name}`).toContain(
            argument,
          );
        }
        for (const [variable, declarations] of Object.entries(callee.variable as Hcl)) {
          if (!("default" in first(declarations))) {
            expect(Object.keys(body), `${name} must set ${variable}`).toContain(variable);
          }
        }
      }
    }
  });
});

describe("Terraform DynamoDB tables against runtime/adapters/dynamodb/tables.ts", () => {
  const tables = () => moduleOf("modules/dynamodb").locals.tables as Hcl;

  it("declares exactly the tables of TABLE_KEYS", () => {
    expect(Object.keys(tables()).sort()).toEqual([...TABLE_KEYS].sort());
  });

  it("gives every table the keys, key attribute types, indexes and TTL attribute of its definition", () => {
    for (const key of TABLE_KEYS) {
      const definition = TABLES[key];
      const table = tables()[key];
      expect(table.hash_key, key).toBe(definition.partitionKey.name);
      expect(table.range_key, key).toBe(definition.sortKey?.name ?? null);
      const keyAttributes: Record<string, string> = {};
      for (const attribute of [
        definition.partitionKey,
        definition.sortKey,
        ...definition.globalIndexes.flatMap((index) => [index.partitionKey, index.sortKey]),
      ]) {
        if (attribute !== undefined) keyAttributes[attribute.name] = attribute.type;
      }
      expect(table.attributes, key).toEqual(keyAttributes);
      expect(table.indexes, key).toEqual(
        definition.globalIndexes.map((index) => ({
          name: index.indexName,
          hash_key: index.partitionKey.name,
          range_key: index.sortKey?.name ?? null,
          projection: index.projection,
        })),
      );
      expect(table.ttl_attribute, key).toBe(definition.ttlAttribute ?? null);
    }
  });

  it("creates them on demand, named TABLE_PREFIX + key, with PITR, deletion protection and TTL", () => {
    const module = moduleOf("modules/dynamodb");
    const table = first(module.resource.aws_dynamodb_table.this) as Hcl;
    expect(new Set(TABLE_KEYS.map((key) => TABLES[key].billingMode))).toEqual(new Set([table.billing_mode]));
    expect(table.for_each).toBe(ref("local.tables"));
    expect(table.name).toBe(ref("var.table_prefix") + ref("each.key"));
    expect(first(table.point_in_time_recovery)).toMatchObject({ enabled: true });
    expect(table.deletion_protection_enabled).toBe(ref("var.deletion_protection"));
    expect(first(module.variable.deletion_protection)).toMatchObject({ default: true });
    const ttl = first(table.dynamic.ttl) as Hcl;
    expect(ttl.for_each).toContain("each.value.ttl_attribute");
    expect(first(ttl.content)).toMatchObject({ attribute_name: ref("ttl.value"), enabled: true });
    expect(first(table.dynamic.global_secondary_index)).toMatchObject({
      for_each: ref("each.value.indexes"),
    });
  });
});

describe("Terraform MSK Serverless and Redis", () => {
  it("creates the topics of runtime/topics.ts with D10's partition counts in production", () => {
    const msk = moduleOf("modules/msk-serverless");
    const topics = msk.locals.topics as Hcl;
    expect(Object.keys(topics).sort()).toEqual(Object.values(TOPICS).sort());
    expect(topics[TOPICS.messagesPersisted]).toBe(ref("var.messages_partitions"));
    expect(topics[TOPICS.membershipsChanged]).toBe(ref("var.lifecycle_partitions"));
    expect(topics[TOPICS.chatsCreated]).toBe(ref("var.lifecycle_partitions"));
    expect(topics[TOPICS.deadLetters]).toBe(ref("var.dead_letter_partitions"));
    const prod = first(moduleOf("environments/prod").module.platform) as Hcl;
    expect([prod.messages_partitions, prod.lifecycle_partitions, prod.dead_letter_partitions]).toEqual([
      64, 16, 8,
    ]);
    const defaults = (name: string) => first(msk.variable[name] as Hcl[]).default;
    expect([
      defaults("messages_partitions"),
      defaults("lifecycle_partitions"),
      defaults("dead_letter_partitions"),
    ]).toEqual([64, 16, 8]);
  });

  it("configures the roles with the partition counts the topics get", () => {
    const platform = moduleOf("modules/platform");
    expect(first(platform.module.msk)).toMatchObject({
      messages_partitions: ref("var.messages_partitions"),
      lifecycle_partitions: ref("var.lifecycle_partitions"),
      dead_letter_partitions: ref("var.dead_letter_partitions"),
    });
    expect(platform.locals.common_env).toMatchObject({
      MESSAGES_PARTITIONS: ref("tostring(var.messages_partitions)"),
      LIFECYCLE_PARTITIONS: ref("tostring(var.lifecycle_partitions)"),
      DEAD_LETTER_PARTITIONS: ref("tostring(var.dead_letter_partitions)"),
    });
  });

  it("authenticates Kafka clients with IAM only", () => {
    const cluster = first(moduleOf("modules/msk-serverless").resource.aws_msk_serverless_cluster.this) as Hcl;
    expect(first(first(first(cluster.client_authentication).sasl).iam)).toMatchObject({ enabled: true });
  });

  it("runs Redis 7 without persistence, evicting by volatile-ttl", () => {
    const cache = moduleOf("modules/elasticache");
    const group = first(cache.resource.aws_elasticache_replication_group.this) as Hcl;
    expect(group.engine_version).toMatch(/^7\./);
    expect(group.snapshot_retention_limit).toBe(0);
    const parameters = first(cache.resource.aws_elasticache_parameter_group.this) as Hcl;
    expect(parameters.family).toBe("redis7");
    expect(parameters.parameter).toContainEqual({ name: "maxmemory-policy", value: "volatile-ttl" });
  });
});

describe("Terraform ECS services", () => {
  const platform = () => moduleOf("modules/platform");
  const services = () =>
    Object.entries(platform().module as Hcl)
      .map(([name, bodies]) => [name, first(bodies as Hcl[])] as const)
      .filter(([, body]) => body.source === "../ecs-service");

  it("runs one service per role from the single image", () => {
    expect(
      services()
        .map(([, body]) => body.role)
        .sort(),
    ).toEqual(["chatmgmt", "fanout", "gateway", "ingest"]);
    for (const [name, body] of services()) expect(body.image, name).toBe(ref("var.image"));
  });

  it("health-checks every container with the image's /health check and stops it only after the drain", () => {
    const module = moduleOf("modules/ecs-service");
    const container = module.locals.container as Hcl;
    expect(container.command).toEqual(["--role", ref("var.role")]);
    expect(container.healthCheck).toMatchObject({
      command: ["CMD", "/app/deploy/docker-entrypoint.sh", "healthcheck"],
      retries: 3,
    });
    expect(container.stopTimeout).toBe(ref("var.stop_timeout_seconds"));
    const task = first(module.resource.aws_ecs_task_definition.this) as Hcl;
    expect(JSON.stringify(task.lifecycle)).toContain(
      "var.stop_timeout_seconds * 1000 > local.shutdown_grace_ms",
    );
    for (const [name, body] of services()) {
      const grace = Number(assignments(body.environment).SHUTDOWN_GRACE_MS ?? "10000");
      expect(body.stop_timeout_seconds, name).toBeGreaterThanOrEqual(HARD_KILL_S);
      expect(body.stop_timeout_seconds * 1000, name).toBeGreaterThan(grace);
      expect(body.health_check_interval_seconds, name).toBe(body.role === "fanout" ? 15 : 10);
      if (body.role === "gateway") expect(grace).toBeGreaterThanOrEqual(GATEWAY_DRAIN_MS);
    }
  });

  it("sets only options of runtime/config.ts (and the entry point's own variables)", () => {
    const names = new Set(Object.keys(platform().locals.common_env));
    for (const [, body] of services()) {
      for (const name of Object.keys(assignments(body.environment))) names.add(name);
      const secrets = typeof body.secrets === "string" ? assignments(body.secrets) : body.secrets;
      for (const name of Object.keys(secrets)) names.add(name);
    }
    for (const name of Object.keys(platform().locals.role_secrets)) names.add(name);
    expect(names.size).toBeGreaterThan(10);
    for (const name of names) {
      expect(OPTION_ENV_NAMES.has(name) || ENTRYPOINT_ENV.has(name), `unknown variable ${name}`).toBe(true);
    }
  });

  /** What a role's container starts with: the shared options and secrets plus its own. */
  const environmentOf = (body: Hcl): Record<string, string> => ({
    ...(platform().locals.common_env as Record<string, string>),
    ...assignments(body.environment),
  });
  const secretsOf = (body: Hcl): Record<string, string> => {
    const text = typeof body.secrets === "string" ? body.secrets : JSON.stringify(body.secrets);
    return {
      ...(text.includes("local.role_secrets")
        ? (platform().locals.role_secrets as Record<string, string>)
        : {}),
      ...assignments(text),
    };
  };

  it("starts every role in production mode with each setting app/production-requirements.ts asks of it", async () => {
    const { PRODUCTION_REQUIREMENTS } = await import("../../app/production-requirements.js");
    // TRUSTED_PROXIES: behind the ALB every request comes from its address; the per-IP limits need it trusted.
    expect(platform().locals.common_env).toMatchObject({ DEV_MODE: "false" });
    expect(platform().locals.common_env.TRUSTED_PROXIES).toContain("var.vpc_cidr");
    for (const [name, body] of services()) {
      const env = environmentOf(body);
      const secrets = secretsOf(body);
      // The signing key arrives as JWT_PRIVATE_KEY_PEM, which the entry point writes to JWT_PRIVATE_KEY_FILE.
      for (const requirement of PRODUCTION_REQUIREMENTS.filter((r) => r.roles.includes(body.role))) {
        expect(
          requirement.option in env || requirement.option in secrets,
          `${name}: ${requirement.option}`,
        ).toBe(true);
      }
      for (const option of ["ADMIN_TOKEN", "INTERNAL_GRPC_TOKEN"]) {
        expect(secrets[option], `${name}: ${option} from Secrets Manager`).toMatch(/module\.secrets\.arns\[/);
        expect(env[option], `${name}: ${option} is no plain variable`).toBeUndefined();
      }
    }
    const chatmgmt = services().find(([, body]) => body.role === "chatmgmt")?.[1] as Hcl;
    expect(environmentOf(chatmgmt)).toMatchObject({ SMS_SENDER: "sns", SNS_REGION: "var.region" });
    expect(secretsOf(chatmgmt)).toMatchObject({
      OTP_PEPPER: expect.stringContaining("otp_pepper"),
      JWT_PRIVATE_KEY_PEM: expect.stringContaining("jwt_private_key"),
    });
    expect(chatmgmt.sns_publish_sms).toBe(true);
    const secrets = moduleOf("modules/secrets");
    expect(Object.keys(secrets.locals.descriptions)).toContain("internal_grpc_token");
    expect(secrets.locals.values).toContain("random_password.internal_grpc_token[0].result");
  });

  it("serves the internal listener on every interface of the task, on a port of its own", () => {
    expect(platform().locals.common_env).toMatchObject({
      INTERNAL_HOST: "0.0.0.0",
      INTERNAL_PORT: ref("tostring(local.internal_port)"),
      PORT: ref("tostring(local.http_port)"),
    });
    expect(platform().locals.internal_port).not.toBe(platform().locals.http_port);
    const mappings = JSON.stringify(moduleOf("modules/ecs-service").locals.container.portMappings);
    expect(mappings).toContain("var.internal_port");
  });

  it("puts gateways and chat management behind the load balancer and lets gateways find the JWKS", () => {
    const byRole = Object.fromEntries(services().map(([, body]) => [body.role, body]));
    expect(byRole.gateway?.target_group_arn).toContain('target_group_arns["gateway"]');
    expect(byRole.chatmgmt?.target_group_arn).toContain('target_group_arns["chatmgmt"]');
    expect(byRole.ingest?.target_group_arn).toBeUndefined();
    expect(byRole.fanout?.target_group_arn).toBeUndefined();
    expect(assignments(byRole.gateway?.environment).JWKS_URL).toMatch(
      /^http:\/\/chatmgmt\..*\/\.well-known\/jwks\.json$/,
    );
    expect(byRole.chatmgmt?.service_discovery_namespace_id).toBeDefined();
  });

  it("lets only the durability and management planes write DynamoDB, and only the tables they own", () => {
    const byRole: Record<string, Hcl> = Object.fromEntries(services().map(([, body]) => [body.role, body]));
    for (const [role, body] of Object.entries(byRole)) {
      for (const table of [...body.dynamodb_read_tables, ...body.dynamodb_write_tables]) {
        expect(TABLE_KEYS, `${role}: ${table}`).toContain(table);
      }
    }
    expect(byRole.gateway?.dynamodb_write_tables).toEqual([]);
    expect(byRole.fanout?.dynamodb_write_tables).toEqual([]);
    expect(byRole.ingest?.dynamodb_write_tables).toEqual(
      expect.arrayContaining([
        "messages",
        "chat_counters",
        "idempotency_keys",
        "delivery_state",
        "actor_activations",
      ]),
    );
    expect(byRole.chatmgmt?.dynamodb_write_tables).not.toContain("messages");
    expect(byRole.chatmgmt?.dynamodb_write_tables).not.toContain("idempotency_keys");
    expect(byRole.chatmgmt?.dynamodb_write_tables).toEqual(
      expect.arrayContaining(["users", "sessions", "otp_requests", "chats", "chat_memberships"]),
    );
    const source = [...parsed.entries()]
      .filter(([path]) => path.includes("modules/ecs-service"))
      .map(([, json]) => JSON.stringify(json))
      .join("\n");
    expect(source).not.toMatch(/dynamodb:(CreateTable|DeleteTable|UpdateTable|\*)/);
  });

  it("scales every service on CPU between its bounds", () => {
    const module = moduleOf("modules/ecs-service");
    expect(first(module.resource.aws_appautoscaling_target.this)).toMatchObject({
      min_capacity: ref("var.min_count"),
      max_capacity: ref("var.max_count"),
    });
    const policy = first(module.resource.aws_appautoscaling_policy.cpu) as Hcl;
    expect(policy.policy_type).toBe("TargetTrackingScaling");
    expect(first(module.resource.aws_cloudwatch_log_group.this)).toMatchObject({
      retention_in_days: ref("var.log_retention_days"),
    });
  });
});

describe("Terraform network: security groups follow the planes", () => {
  const ingress = () =>
    moduleOf("modules/network").locals.ingress as Record<
      string,
      Array<{ port: string | number; from: string }>
    >;
  const sources = (group: string, port?: string | number) =>
    (ingress()[group] ?? [])
      .filter((rule) => port === undefined || rule.port === port)
      .map((rule) => rule.from)
      .sort();
  const HTTP = ref("var.http_port");
  const GRPC = ref("var.grpc_port");
  const INTERNAL = ref("var.internal_port");

  it("lets only gateways reach ingest's gRPC port, and only the operations group its internal port", () => {
    expect(ingress().ingest).toEqual([
      expect.objectContaining({ port: GRPC, from: "gateway" }),
      expect.objectContaining({ port: INTERNAL, from: "operations" }),
    ]);
  });

  it("opens every role's internal port (metrics, operator API, inspector) to the operations group only", () => {
    for (const role of ["gateway", "ingest", "fanout", "chatmgmt"]) {
      expect(sources(role, INTERNAL), role).toEqual(["operations"]);
    }
    const rules = Object.values(ingress()).flat();
    expect(rules.filter((rule) => rule.from === "alb").map((rule) => rule.port)).toEqual([HTTP, HTTP]);
    expect(ingress().operations).toEqual([]);
  });

  it("lets clients reach gateways only through the load balancer; fanout and chat management call their gRPC", () => {
    expect(sources("gateway", HTTP)).toEqual(["alb"]);
    expect(sources("gateway", GRPC)).toEqual(["chatmgmt", "fanout"]);
    expect(sources("gateway").length).toBe(4);
  });

  it("accepts only operations on fanout workers and only the ALB and gateways (JWKS) on chat management's public port", () => {
    expect(sources("fanout")).toEqual(["operations"]);
    expect(sources("chatmgmt", HTTP)).toEqual(["alb", "gateway"]);
    expect(sources("chatmgmt").length).toBe(3);
  });

  it("opens Redis and MSK to the four roles only, on their own ports", () => {
    expect(sources("redis", 6379)).toEqual(["chatmgmt", "fanout", "gateway", "ingest"]);
    expect(sources("redis").length).toBe(4);
    expect(sources("msk", 9098)).toEqual(["chatmgmt", "fanout", "gateway", "ingest"]);
    expect(sources("msk").length).toBe(4);
  });

  it("opens only the load balancer to the internet", () => {
    const network = moduleOf("modules/network");
    const publicRules = Object.entries(network.resource.aws_vpc_security_group_ingress_rule as Hcl).filter(
      ([, bodies]) => first(bodies as Hcl[]).cidr_ipv4 !== undefined,
    );
    expect(publicRules.map(([name]) => name)).toEqual(["alb_public"]);
    expect(first(publicRules[0]?.[1] as Hcl[]).security_group_id).toBe(
      ref('aws_security_group.this["alb"].id'),
    );
    expect(ingress().alb).toEqual([]);
  });

  it("reaches DynamoDB through a gateway VPC endpoint", () => {
    const endpoint = first(moduleOf("modules/network").resource.aws_vpc_endpoint.dynamodb) as Hcl;
    expect(endpoint.vpc_endpoint_type).toBe("Gateway");
    expect(endpoint.service_name).toContain(".dynamodb");
  });
});

describe("Terraform load balancer", () => {
  const alb = () => moduleOf("modules/alb");

  it("keeps WebSockets open longer than the heartbeat idle close and sticks to no gateway", () => {
    expect(first(alb().variable.idle_timeout_seconds).default).toBeGreaterThan(60);
    const group = first(alb().resource.aws_lb_target_group.this) as Hcl;
    expect(first(group.stickiness)).toMatchObject({ enabled: false });
    expect(first(group.health_check)).toMatchObject({
      path: ref("each.value.path"),
      interval: 10,
      unhealthy_threshold: 3,
    });
    expect(alb().locals.targets).toEqual({ gateway: { path: "/health" }, chatmgmt: { path: "/health" } });
    expect(first(alb().variable.deregistration_delay_seconds).default * 1000).toBeGreaterThanOrEqual(
      GATEWAY_DRAIN_MS,
    );
  });

  it("sends /v1/ws to the gateways, only the public API and the browser client to chat management, 404 for the rest", () => {
    const rule = first(alb().resource.aws_lb_listener_rule.websocket) as Hcl;
    expect(first(first(rule.condition).path_pattern).values).toContain("/v1/ws");
    expect(first(rule.action).target_group_arn).toBe(ref('aws_lb_target_group.this["gateway"].arn'));
    const chatmgmt = first(alb().resource.aws_lb_listener_rule.chatmgmt) as Hcl;
    expect(chatmgmt.for_each).toBe(ref("local.public_paths"));
    expect(first(chatmgmt.action).target_group_arn).toBe(ref('aws_lb_target_group.this["chatmgmt"].arn'));
    const published = Object.values(alb().locals.public_paths as Record<string, { paths: string[] }>).flatMap(
      (entry) => entry.paths,
    );
    expect(published.sort()).toEqual(
      ["/", "/.well-known/jwks.json", "/api/*", "/health", "/index.html", "/web/*"].sort(),
    );
    for (const entry of Object.values(alb().locals.public_paths as Record<string, { paths: string[] }>)) {
      expect(entry.paths.length, "an ALB condition takes at most 5 values").toBeLessThanOrEqual(5);
    }
    // Whatever no rule publishes (the operator API, the inspector, metrics, anything new) ends at the ALB.
    const https = first(alb().resource.aws_lb_listener.https) as Hcl;
    expect(first(https.default_action)).toMatchObject({ type: "fixed-response" });
    expect(first(first(https.default_action).fixed_response)).toMatchObject({ status_code: "404" });
    const http = first(alb().resource.aws_lb_listener.http) as Hcl;
    const forwards = JSON.stringify(http.dynamic.default_action);
    expect(forwards).not.toContain("target_group_arn");
    const everything = JSON.stringify(alb());
    expect(everything).not.toMatch(/\/admin|\/inspector|\/metrics|expose_admin_api/);
  });

  it("targets the roles' public port only", () => {
    expect(first(moduleOf("modules/platform").module.alb).target_port).toBe(ref("local.http_port"));
  });
});

describe("Terraform environments", () => {
  it("compose the platform module in dev and prod, prod with deletion protection and rollback", () => {
    for (const environment of ["dev", "prod"]) {
      const platform = first(moduleOf(`environments/${environment}`).module.platform) as Hcl;
      expect(platform.source).toBe("../../modules/platform");
      expect(platform.environment).toBe(environment);
    }
    const prod = first(moduleOf("environments/prod").module.platform) as Hcl;
    expect(prod).toMatchObject({
      deletion_protection: true,
      rollback_on_failure: true,
      single_nat_gateway: false,
    });
    expect(prod.gateway_count).toEqual({ min: 2, max: 10 });
  });

  it("output the client endpoints", () => {
    for (const environment of ["dev", "prod"]) {
      const outputs = Object.keys(moduleOf(`environments/${environment}`).output);
      expect(outputs).toEqual(
        expect.arrayContaining(["websocket_url", "api_url", "kafka_bootstrap_brokers", "redis_url"]),
      );
    }
  });
});
