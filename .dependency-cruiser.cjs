/**
 * The layers of the platform, enforced by `npm test` (dependency-cruiser, in the static checks):
 *
 *   proto      generated protocol code                          imports nothing of ours
 *   runtime    the substrate: actor host, ports, adapters,      proto
 *              grpc, http, config, metrics, tracing, placement,
 *              inspector
 *   actors     sequencers, fanout, connection and delivery      runtime, proto
 *              machines
 *   gateway    the WebSocket edge                               actors, runtime, proto
 *   chatmgmt   chat management (REST, gRPC, CQRS)               runtime, proto
 *   app        the composition root: main, roles, platform      every plane
 *              assembly, adapter selection, machine catalog
 *   deploy     local cluster and engine tooling, manifests      app, runtime, proto
 *   test       tests, harness, benchmarks                       anything
 *
 * Engine SDKs (DynamoDB, SNS, Kafka, Redis, dynalite) are imported only by runtime/adapters/ (and by the
 * tooling of deploy/ and test/ that provisions engines). Production code has no import cycle.
 *
 * Check it: `npx depcruise --config .dependency-cruiser.cjs app runtime actors gateway chatmgmt proto deploy test`
 * @type {import('dependency-cruiser').IConfiguration}
 */
const PLANES = "^(app|runtime|actors|gateway|chatmgmt|proto|deploy)/";
const PRODUCTION = "^(app|runtime|actors|gateway|chatmgmt|proto)/";
const TESTS = "\\.test\\.ts$";

/** A rule that the production files of `from` import none of the top-level folders in `forbidden` (tests may). */
const layer = (name, from, forbidden, comment) => ({
  name,
  comment,
  severity: "error",
  from: { path: `^${from}/`, pathNot: TESTS },
  to: { path: `^(${forbidden.join("|")})/` },
});

module.exports = {
  forbidden: [
    layer(
      "proto-is-the-bottom",
      "proto",
      ["app", "runtime", "actors", "gateway", "chatmgmt", "deploy", "test"],
      "proto/ holds generated protocol code and its loader; it depends on nothing of the platform.",
    ),
    layer(
      "runtime-is-the-substrate",
      "runtime",
      ["app", "actors", "gateway", "chatmgmt", "deploy", "test"],
      "runtime/ is the bottom layer: planes register their machines and sources with it; it never imports them.",
    ),
    layer(
      "actors-below-the-edges",
      "actors",
      ["app", "gateway", "chatmgmt", "deploy", "test"],
      "actors/ are used by the gateway and the roles; they do not know the edges or the composition root.",
    ),
    layer(
      "gateway-is-a-plane",
      "gateway",
      ["app", "chatmgmt", "deploy", "test"],
      "The gateway talks to chat management through ports and gRPC, never by importing it.",
    ),
    layer(
      "chatmgmt-is-a-plane",
      "chatmgmt",
      ["app", "actors", "gateway", "deploy", "test"],
      "Chat management shares facts with other planes through runtime/ (e.g. runtime/protocol-limits.ts).",
    ),
    layer(
      "app-is-the-root",
      "app",
      ["deploy", "test"],
      "The composition root assembles the planes; nothing of the tooling or the tests.",
    ),
    layer(
      "deploy-is-tooling",
      "deploy",
      ["test"],
      "deploy/ runs the platform; it does not depend on the tests.",
    ),
    {
      name: "no-test-code-in-production",
      comment: "Production code never imports a test file, wherever it lives.",
      severity: "error",
      from: { path: PLANES, pathNot: TESTS },
      to: { path: TESTS },
    },
    {
      name: "engine-sdks-only-in-adapters",
      comment:
        "Engines are reached only through the adapters of runtime/adapters/ (ports in runtime/ports/).",
      severity: "error",
      from: { path: PRODUCTION, pathNot: ["^runtime/adapters/", TESTS] },
      to: { path: "node_modules/(@aws-sdk/client-[a-z-]+|kafkajs|ioredis|dynalite)/" },
    },
    {
      name: "no-cycles",
      comment: "Production code has no import cycle: each module can be read after the ones it imports.",
      severity: "error",
      from: { path: PRODUCTION, pathNot: TESTS },
      to: { circular: true },
    },
    {
      name: "resolvable",
      comment: "Every relative import names a file that exists.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true, dependencyTypesNot: ["type-only"] },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|test-results|data)/" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
