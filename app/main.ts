import { SystemClock } from "../runtime/clock.js";
import { configHelp, loadConfig } from "../runtime/config.js";
import { isAppError } from "../runtime/errors.js";
import { createLogger } from "../runtime/logger.js";
import { SERVICE_NAME, SERVICE_VERSION } from "../runtime/version.js";
import { startPlatform } from "./platform.js";
import { assertProductionReady, startupRisks } from "./production-requirements.js";

/**
 * `npm start [-- --flag value ...]`: one process of the platform. With no configuration it is the embedded
 * platform (every role, dynalite under ./data, the in-process event log, in-memory routing).
 */
const argv = process.argv.slice(2);
if (argv.includes("--help") || argv.includes("-h")) {
  console.log(`${SERVICE_NAME} ${SERVICE_VERSION}

Usage: npm start [-- --option value ...]

Starts one process of the messaging platform. Without options: the embedded platform on
http://127.0.0.1:8080 with its data in ./data, in dev mode. Dev mode is on by default only for
ROLE=all on loopback addresses; anywhere else the process runs in production mode and refuses to
start, naming every one, until ADMIN_TOKEN, OTP_PEPPER, JWT_PRIVATE_KEY_FILE and SMS_SENDER=sns
are set as its roles need (README "Running in production"). Every option is also an environment
variable; flags win over variables.

Options:
${configHelp()}`);
  process.exit(0);
}

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig({ argv });
  assertProductionReady(config);
} catch (error) {
  console.error(isAppError(error) ? error.message : String(error));
  console.error("Run `npm start -- --help` for the options.");
  process.exit(2);
}

const logger = createLogger({ level: config.logLevel, base: { role: config.role, node_id: config.nodeId } });
const clock = new SystemClock();
for (const risk of startupRisks(config)) logger.warn({ dev_mode: true }, `insecure configuration: ${risk}`);

try {
  const platform = await startPlatform(config, logger, clock);
  const adapters = Object.fromEntries(platform.adapters.checks.map((check) => [check.name, check.adapter]));
  logger.info({ url: platform.baseUrl, internal_url: platform.internalUrl, adapters }, "platform started");
  // A short human banner on stderr, so stdout stays pure JSON logs.
  process.stderr.write(
    [
      "",
      `  ${SERVICE_NAME} ${SERVICE_VERSION} (${config.role === "all" ? "embedded: every role in one process" : `role ${config.role}`})`,
      ...(platform.chatmgmt === undefined
        ? []
        : [`  Browser    ${platform.baseUrl}/`, `  REST       ${platform.baseUrl}/api/v1`]),
      ...(platform.gateway === undefined
        ? []
        : [`  WebSocket  ${platform.baseUrl.replace(/^http/, "ws")}/v1/ws`]),
      `  Health     ${platform.baseUrl}/health`,
      `  Internal   ${platform.internalUrl} (operators and the platform's own pods only; never publish it)`,
      `  Details    ${platform.internalUrl}/health`,
      `  Metrics    ${platform.internalUrl}/metrics`,
      `  Inspector  ${platform.internalUrl}/inspector${config.devMode ? "" : " (ADMIN_TOKEN)"}`,
      ...(platform.grpcPort === undefined ? [] : [`  gRPC       ${config.host}:${platform.grpcPort}`]),
      ...(platform.chatGrpcPort === undefined
        ? []
        : [`  Chat gRPC  ${config.host}:${platform.chatGrpcPort}`]),
      `  Ring       npm run ring -- show --url ${platform.internalUrl}`,
      ...(config.devMode ? ["  Dev mode   on: one-time codes are logged and served at /api/v1/dev/otp"] : []),
      ...Object.entries(adapters).map(([port, adapter]) => `  ${port.padEnd(10)} ${adapter}`),
      "  Ctrl-C stops it gracefully.",
      "",
      "",
    ].join("\n"),
  );

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting at once");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, grace_ms: config.shutdownGraceMs }, "stopping");
    platform.stop().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "stop failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
  if (config.exitWithParent) {
    // Re-parented means the launcher died without stopping us (a crash, kill -9): stop as on SIGTERM.
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) shutdown("SIGHUP");
    }, 1_000).unref();
  }
} catch (error) {
  logger.fatal({ err: error }, "start failed");
  process.exit(1);
}
