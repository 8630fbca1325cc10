import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { loadConfig } from "../../runtime/config.js";
import {
  CLUSTER_ROLES,
  DEFAULT_SHUTDOWN_GRACE_MS,
  GATEWAY_DRAIN_MS,
  HARD_KILL_S,
  hasCommand,
  OPTION_ENV_NAMES,
  ROOT,
  readRepoFile,
} from "./deploy-support.js";

/**
 * deploy/k8s, checked without a cluster: the base's files parsed as they are, and, where kubectl is installed,
 * the base and the dev overlay as kustomize renders them.
 */
type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Labels };
  // biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are checked field by field below.
  [k: string]: any;
};
type Labels = Record<string, string>;

const BASE = "deploy/k8s/base";
const baseKustomization = parse(readRepoFile(`${BASE}/kustomization.yaml`)) as { resources: string[] };

function loadDocuments(text: string, source: string): K8sObject[] {
  return parseAllDocuments(text).flatMap((document) => {
    if (document.errors.length > 0) throw new Error(`${source}: ${document.errors.join("; ")}`);
    const value = document.toJS() as K8sObject | null;
    return value === null ? [] : [value];
  });
}

const baseFiles = (): K8sObject[] =>
  baseKustomization.resources.flatMap((file) => loadDocuments(readRepoFile(`${BASE}/${file}`), file));

const kubectl = hasCommand("kubectl", ["version", "--client"]);
function render(path: string): K8sObject[] {
  const result = spawnSync("kubectl", ["kustomize", path], { cwd: ROOT, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`kubectl kustomize ${path} failed: ${result.stderr}`);
  return loadDocuments(result.stdout, path);
}

const isWorkload = (object: K8sObject) => object.kind === "Deployment" || object.kind === "StatefulSet";
/** The platform's own workloads (engines of the dev overlay use other images or names). */
const platformWorkloads = (objects: K8sObject[]) =>
  objects.filter(
    (object) =>
      isWorkload(object) &&
      object.spec.template.metadata.labels["app.kubernetes.io/name"] === "messaging-platform",
  );
const roleOf = (workload: K8sObject): string => {
  const args: string[] = workload.spec.template.spec.containers[0].args ?? [];
  return args[args.indexOf("--role") + 1] ?? "";
};
const matches = (selector: Labels, labels: Labels) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);
const byKind = (objects: K8sObject[], kind: string) => objects.filter((object) => object.kind === kind);
const named = (objects: K8sObject[], kind: string, name: string) =>
  objects.find((object) => object.kind === kind && object.metadata.name === name);

/** The environment a container of `workload` starts with: its ConfigMaps, then its own variables. */
function environmentOf(objects: K8sObject[], container: K8sObject): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const map = named(objects, "ConfigMap", source.configMapRef?.name);
    Object.assign(env, map?.data ?? {});
  }
  for (const variable of container.env ?? []) {
    const field = variable.valueFrom?.fieldRef?.fieldPath;
    const secret = variable.valueFrom?.secretKeyRef;
    if (variable.value !== undefined) env[variable.name] = variable.value;
    else if (field === "status.podIP") env[variable.name] = "10.0.0.7";
    else if (field === "metadata.name") env[variable.name] = "pod-0";
    else if (secret !== undefined) {
      const value = named(objects, "Secret", secret.name)?.stringData?.[secret.key];
      if (value !== undefined) env[variable.name] = value;
    }
  }
  return env;
}

function checkManifests(objects: K8sObject[]) {
  const workloads = platformWorkloads(objects);

  it("runs each of the four roles from the platform image", () => {
    expect(workloads.map(roleOf).sort()).toEqual([...CLUSTER_ROLES].sort());
    for (const workload of workloads) {
      expect(workload.spec.template.spec.containers[0].image).toMatch(/^messaging-platform(:|$)/);
    }
  });

  it("gives every workload readiness and liveness probes, a startup probe, and resource requests and limits", () => {
    for (const workload of workloads) {
      for (const container of workload.spec.template.spec.containers) {
        const where = `${workload.metadata.name}/${container.name}`;
        expect(container.readinessProbe?.httpGet?.path, where).toBe("/health");
        expect(container.livenessProbe?.httpGet, where).toBeDefined();
        expect(container.startupProbe?.httpGet?.path, where).toBe("/health");
        for (const kind of ["requests", "limits"]) {
          expect(container.resources?.[kind]?.cpu, `${where} ${kind}`).toBeDefined();
          expect(container.resources?.[kind]?.memory, `${where} ${kind}`).toBeDefined();
        }
        const portNames = new Set((container.ports ?? []).map((port: { name: string }) => port.name));
        for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
          expect(portNames, `${where} ${probe}`).toContain(container[probe].httpGet.port);
        }
      }
    }
  });

  it("lets every pod drain before it is killed: the gateway 30 s, the others their SHUTDOWN_GRACE_MS", () => {
    for (const workload of workloads) {
      const spec = workload.spec.template.spec;
      const container = spec.containers[0];
      const config = loadConfig({
        env: environmentOf(objects, container),
        argv: ["--role", roleOf(workload)],
      });
      const preStopS =
        container.lifecycle?.preStop?.exec?.command?.[0] === "sleep"
          ? Number(container.lifecycle.preStop.exec.command[1])
          : 0;
      const grace = spec.terminationGracePeriodSeconds as number;
      expect(grace, workload.metadata.name).toBeGreaterThanOrEqual(HARD_KILL_S);
      expect(grace * 1000, workload.metadata.name).toBeGreaterThan(preStopS * 1000 + config.shutdownGraceMs);
      if (roleOf(workload) === "gateway") {
        expect(config.shutdownGraceMs).toBeGreaterThanOrEqual(GATEWAY_DRAIN_MS);
        expect(preStopS, "gateways leave the endpoints before draining").toBeGreaterThan(0);
      } else {
        expect(config.shutdownGraceMs).toBeGreaterThanOrEqual(DEFAULT_SHUTDOWN_GRACE_MS);
      }
    }
  });

  it("sets only real options, with values every role accepts, and advertises the pod's own address", () => {
    for (const map of byKind(objects, "ConfigMap").filter((m) => m.metadata.name === "messaging-config")) {
      for (const key of Object.keys(map.data))
        expect(OPTION_ENV_NAMES, `ConfigMap key ${key}`).toContain(key);
    }
    for (const workload of workloads) {
      for (const container of workload.spec.template.spec.containers) {
        for (const variable of container.env ?? []) {
          expect(OPTION_ENV_NAMES, `${workload.metadata.name}: ${variable.name}`).toContain(variable.name);
        }
        const env = environmentOf(objects, container);
        expect(env.ROLE, "the role comes from --role in args").toBeUndefined();
        const config = loadConfig({ env, argv: ["--role", roleOf(workload)] });
        expect(config.host).toBe("10.0.0.7");
        expect(config.nodeId).toBe("pod-0");
      }
    }
  });

  it("refers only to ConfigMaps and Secret keys that exist (the JWT key Secret is created by operators)", () => {
    for (const workload of workloads) {
      const spec = workload.spec.template.spec;
      for (const container of spec.containers) {
        for (const source of container.envFrom ?? []) {
          expect(
            named(objects, "ConfigMap", source.configMapRef.name),
            source.configMapRef.name,
          ).toBeDefined();
        }
        for (const variable of container.env ?? []) {
          const ref = variable.valueFrom?.secretKeyRef;
          if (ref === undefined) continue;
          expect(
            named(objects, "Secret", ref.name)?.stringData?.[ref.key],
            `${ref.name}.${ref.key}`,
          ).toBeDefined();
        }
        const volumes = new Set(spec.volumes.map((volume: { name: string }) => volume.name));
        for (const mount of container.volumeMounts ?? []) expect(volumes).toContain(mount.name);
      }
      for (const volume of spec.volumes ?? []) {
        if (volume.secret !== undefined) expect(volume.secret.secretName).toBe("messaging-jwt-key");
      }
    }
  });

  it("keeps only placeholders in Secrets", () => {
    for (const secret of byKind(objects, "Secret")) {
      expect(secret.data, "no base64 data").toBeUndefined();
      for (const [key, value] of Object.entries(secret.stringData ?? {})) {
        expect(value, `${secret.metadata.name}.${key}`).toMatch(/^REPLACE-ME/);
      }
    }
  });

  it("selects each Service's pods by labels a workload's pods carry, on ports they name", () => {
    for (const service of byKind(objects, "Service")) {
      const selector: Labels = service.spec.selector;
      const targets = objects.filter(
        (object) => isWorkload(object) && matches(selector, object.spec.template.metadata.labels),
      );
      expect(targets.length, `Service ${service.metadata.name} selects a workload`).toBe(1);
      const containerPorts = targets[0]?.spec.template.spec.containers.flatMap(
        (container: K8sObject) => container.ports ?? [],
      );
      for (const port of service.spec.ports) {
        const names = containerPorts.map((p: { name: string }) => p.name);
        expect(names, `${service.metadata.name}:${port.name}`).toContain(port.targetPort);
      }
      // A Deployment's own selector must match its template, or the API refuses it.
      expect(matches(targets[0]?.spec.selector.matchLabels, targets[0]?.spec.template.metadata.labels)).toBe(
        true,
      );
    }
  });

  it("serves gateways and chat management through Services, ingest nodes through a headless Service", () => {
    const serviceFor = (role: string) =>
      byKind(objects, "Service").find(
        (service) => service.spec.selector["app.kubernetes.io/component"] === role,
      );
    expect(serviceFor("gateway")?.spec.ports.map((p: { port: number }) => p.port)).toContain(8080);
    expect(serviceFor("chatmgmt")?.spec.ports.map((p: { port: number }) => p.port)).toEqual([
      8080, 9090, 7072,
    ]);
    const ingest = serviceFor("ingest");
    expect(ingest?.spec.clusterIP).toBe("None");
    expect(named(objects, "StatefulSet", "ingest")?.spec.serviceName).toBe(ingest?.metadata.name);
  });

  it("protects every role with a PodDisruptionBudget and scales it with an autoscaler", () => {
    for (const workload of workloads) {
      const labels = workload.spec.template.metadata.labels;
      const budgets = byKind(objects, "PodDisruptionBudget").filter((pdb) =>
        matches(pdb.spec.selector.matchLabels, labels),
      );
      expect(budgets.length, workload.metadata.name).toBe(1);
      const scalers = byKind(objects, "HorizontalPodAutoscaler").filter(
        (hpa) =>
          hpa.spec.scaleTargetRef.kind === workload.kind &&
          hpa.spec.scaleTargetRef.name === workload.metadata.name,
      );
      expect(scalers.length, workload.metadata.name).toBe(1);
      expect(scalers[0]?.spec.minReplicas).toBeGreaterThanOrEqual(1);
      expect(scalers[0]?.spec.maxReplicas).toBeGreaterThanOrEqual(scalers[0]?.spec.minReplicas);
    }
  });

  it("routes only the public surface: /v1/ws to the gateways; REST, JWKS, /health and the browser client to chat management", () => {
    const [ingress] = byKind(objects, "Ingress");
    const paths = ingress?.spec.rules.flatMap((rule: K8sObject) => rule.http.paths) as Array<{
      path: string;
      pathType: string;
      backend: K8sObject;
    }>;
    const routes = Object.fromEntries(
      paths.map((entry) => [`${entry.pathType} ${entry.path}`, entry.backend.service.name]),
    );
    expect(routes).toEqual({
      "Prefix /v1/ws": "gateway",
      "Prefix /api": "chatmgmt",
      "Exact /.well-known/jwks.json": "chatmgmt",
      "Exact /health": "chatmgmt",
      "Exact /": "chatmgmt",
      "Exact /index.html": "chatmgmt",
      "Prefix /web": "chatmgmt",
    });
    // Only the public listener is a backend: never the internal port, whatever the path.
    for (const entry of paths) expect(entry.backend.service.port, entry.path).toEqual({ name: "http" });
    expect(ingress?.spec.defaultBackend, "unrouted paths get the controller's 404").toBeUndefined();
    // Behind the controller every request comes from its pods: the per-IP limits need them trusted.
    expect(named(objects, "ConfigMap", "messaging-config")?.data.TRUSTED_PROXIES).toBeTruthy();
  });

  it("serves the operator API, inspector and metrics on an internal port of its own, which no Ingress names", () => {
    const config = named(objects, "ConfigMap", "messaging-config")?.data;
    expect(config).toMatchObject({ INTERNAL_HOST: "0.0.0.0", INTERNAL_PORT: "9090", PORT: "8080" });
    for (const workload of workloads) {
      const container = workload.spec.template.spec.containers[0];
      expect(container.ports, workload.metadata.name).toContainEqual({
        name: "internal",
        containerPort: 9090,
      });
      expect(
        workload.spec.template.metadata.annotations?.["prometheus.io/port"],
        workload.metadata.name,
      ).toBe("9090");
      for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
        expect(container[probe].httpGet.port, `${workload.metadata.name} ${probe}`).toBe("http");
      }
    }
    for (const service of byKind(objects, "Service").filter(
      (s) => s.metadata.labels?.["app.kubernetes.io/name"] === "messaging-platform",
    )) {
      expect(service.spec.ports, service.metadata.name).toContainEqual(
        expect.objectContaining({ name: "internal", port: 9090, targetPort: "internal" }),
      );
    }
  });

  it("admits the internal gRPC and HTTP ports only from the platform's own pods (and metrics from monitoring)", () => {
    const policies = byKind(objects, "NetworkPolicy");
    for (const workload of workloads) {
      const labels = workload.spec.template.metadata.labels;
      const covering = policies.filter((policy) =>
        matches(policy.spec.podSelector.matchLabels ?? {}, labels),
      );
      expect(covering.length, workload.metadata.name).toBe(1);
    }
    const [policy] = policies;
    expect(policy?.spec.policyTypes).toEqual(["Ingress"]);
    /** Who a rule set admits on `port`: "anyone", "platform" pods, or `namespace:<name>`. */
    const admitted = (port: number): string[] =>
      ((policy?.spec.ingress ?? []) as K8sObject[])
        .filter((rule) => (rule.ports ?? []).some((entry: { port: number }) => entry.port === port))
        .flatMap((rule) =>
          rule.from === undefined
            ? ["anyone"]
            : rule.from.map((peer: K8sObject) =>
                peer.podSelector !== undefined && peer.namespaceSelector === undefined
                  ? matches(peer.podSelector.matchLabels, { "app.kubernetes.io/name": "messaging-platform" })
                    ? "platform"
                    : "other pods"
                  : `namespace:${peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"]}`,
              ),
        )
        .sort();
    expect(admitted(8080)).toEqual(["anyone"]);
    expect(admitted(7070)).toEqual(["platform"]);
    expect(admitted(7072)).toEqual(["platform"]);
    expect(admitted(9090)).toEqual(["namespace:monitoring", "platform"]);
  });
}

/** The base runs in production mode: every role gets what app/production-requirements.ts asks of it. */
function checkProduction(objects: K8sObject[]) {
  it("starts every role in production mode with its secrets from Secrets (placeholders replaced)", async () => {
    const { PRODUCTION_REQUIREMENTS, productionProblems } = await import(
      "../../app/production-requirements.js"
    );
    for (const workload of platformWorkloads(objects)) {
      const role = roleOf(workload);
      const container = workload.spec.template.spec.containers[0];
      const env = environmentOf(objects, container);
      // What an operator puts in the Secret instead of the placeholders.
      for (const [key, value] of Object.entries(env)) {
        if (value.startsWith("REPLACE-ME")) env[key] = randomBytes(24).toString("hex");
      }
      const config = loadConfig({ env, argv: ["--role", role] });
      expect(config.devMode, workload.metadata.name).toBe(false);
      expect(productionProblems(config), workload.metadata.name).toEqual([]);
      for (const requirement of PRODUCTION_REQUIREMENTS.filter((r) => r.roles.includes(role as never))) {
        const variable = (container.env ?? []).find((v: K8sObject) => v.name === requirement.option);
        if (requirement.option === "JWT_PRIVATE_KEY_FILE") {
          const mount = (container.volumeMounts ?? []).find((m: K8sObject) =>
            String(variable?.value).startsWith(`${m.mountPath}/`),
          );
          const volume = workload.spec.template.spec.volumes.find((v: K8sObject) => v.name === mount?.name);
          expect(volume?.secret?.secretName, "the signing key is a mounted Secret").toBe("messaging-jwt-key");
        } else if (requirement.option !== "SMS_SENDER") {
          expect(
            variable?.valueFrom?.secretKeyRef?.name,
            `${workload.metadata.name} ${requirement.option}`,
          ).toBe("messaging-secrets");
        }
      }
    }
  });
}

describe("deploy/k8s base, parsed file by file", () => {
  checkManifests(baseFiles());
  checkProduction(baseFiles());

  it("lists every manifest file of the base", () => {
    const files = readdirSync(join(ROOT, BASE)).filter(
      (file) => file.endsWith(".yaml") && file !== "kustomization.yaml",
    );
    expect(baseKustomization.resources.sort()).toEqual(files.sort());
  });
});

describe.skipIf(!kubectl)("deploy/k8s rendered by `kubectl kustomize`", () => {
  describe("base", () => {
    checkManifests(kubectl ? render(BASE) : []);
    checkProduction(kubectl ? render(BASE) : []);
  });

  describe("dev overlay", () => {
    const objects = kubectl ? render("deploy/k8s/overlays/dev") : [];
    checkManifests(objects);

    it("puts everything in the messaging-dev namespace and points the roles at its in-cluster engines", () => {
      for (const object of objects.filter((o) => o.kind !== "Namespace")) {
        expect(object.metadata.namespace, `${object.kind}/${object.metadata.name}`).toBe("messaging-dev");
      }
      const config = named(objects, "ConfigMap", "messaging-config")?.data;
      const [dynamoHost] = new URL(config.DYNAMODB_ENDPOINT).host.split(":");
      const [redisHost] = new URL(config.REDIS_URL).host.split(":");
      const kafkaHosts = (config.KAFKA_BROKERS as string).split(",").map((broker) => broker.split(":")[0]);
      for (const host of [dynamoHost, redisHost, ...kafkaHosts]) {
        expect(named(objects, "Service", host ?? ""), `engine Service ${host}`).toBeDefined();
      }
    });

    it("lets dev chat management create its own signing key instead of needing the Secret", () => {
      const chatmgmt = named(objects, "Deployment", "chatmgmt");
      const volume = chatmgmt?.spec.template.spec.volumes.find((v: { name: string }) => v.name === "jwt-key");
      expect(volume?.secret).toBeUndefined();
      expect(volume?.emptyDir).toEqual({});
      expect(chatmgmt?.spec.replicas).toBe(1);
    });
  });
});

if (!kubectl) {
  describe("deploy/k8s rendering", () => {
    it("is checked with kubectl when it is installed", () => {
      console.warn(
        "kubectl is not installed: the kustomize rendering of base and dev overlay was not checked",
      );
    });
  });
}
