import { type Config, publicListenerHosts, type Role } from "../runtime/config.js";
import { AppError } from "../runtime/errors.js";
import { internalGrpcTokenOf } from "../runtime/grpc/internal-token.js";
import { DEV_ADMIN_TOKEN } from "../runtime/placement/placement.js";

/**
 * What a process outside dev mode (production mode) must be given before it starts, in one table: each
 * requirement names its option, the roles that need it (the embedded role `all` needs what any of its roles
 * needs) and what is wrong with the configuration, if anything. `npm start` refuses to start with one
 * message that names every unmet requirement, so an operator fixes them all in one round.
 */
export interface ProductionRequirement {
  /** The environment variable an operator sets. */
  readonly option: string;
  /** The roles whose processes need it. */
  readonly roles: readonly Exclude<Role, "all">[];
  /** Why the configuration does not meet it, or undefined when it does. */
  readonly problem: (config: Config) => string | undefined;
}

const EVERY_ROLE = ["gateway", "ingest", "fanout", "chatmgmt"] as const;

/** Shortest secret accepted in production: 32 characters of a random token carry well over 128 bits. */
const MIN_SECRET_LENGTH = 32;

/** Values this repository itself ships (dev defaults, local compose files, test fixtures): public knowledge. */
const PUBLISHED_SECRETS: ReadonlySet<string> = new Set([
  DEV_ADMIN_TOKEN,
  "local-otp-pepper-change-me",
  "test-pepper-0123456789",
]);

/** Why `value` is no real secret: unset, published, short, or of too few distinct characters. */
function weakSecretProblem(value: string | undefined): string | undefined {
  if (value === undefined) return "is not set";
  if (PUBLISHED_SECRETS.has(value)) return "is a published default";
  if (value.length < MIN_SECRET_LENGTH) return `is shorter than ${MIN_SECRET_LENGTH} characters`;
  if (new Set(value).size < 10) return "has fewer than 10 distinct characters";
  return undefined;
}

const secret =
  (read: (config: Config) => string | undefined, purpose: string) =>
  (config: Config): string | undefined => {
    const weakness = weakSecretProblem(read(config));
    return weakness === undefined
      ? undefined
      : `${weakness}; ${purpose} (a random value of at least ${MIN_SECRET_LENGTH} characters, e.g. \`openssl rand -hex 32\`)`;
  };

export const PRODUCTION_REQUIREMENTS: readonly ProductionRequirement[] = [
  {
    option: "ADMIN_TOKEN",
    // Every process serves the operator API (`/admin/ring`) and `/inspector`.
    roles: EVERY_ROLE,
    problem: secret(
      (config) => config.adminToken,
      "it guards the operator API and the inspector of every process",
    ),
  },
  {
    option: "OTP_PEPPER",
    roles: ["chatmgmt"],
    problem: secret(
      (config) => config.otpPepper,
      "it keys the HMAC of stored one-time codes; every chat management process must share it",
    ),
  },
  {
    option: "JWT_PRIVATE_KEY_FILE",
    roles: ["chatmgmt"],
    problem: (config) =>
      config.jwtPrivateKeyFile === undefined
        ? "is not set; chat management signs access tokens with it, and every chat management process must share the same PEM (a key created under DATA_DIR is this process's alone)"
        : undefined,
  },
  {
    option: "INTERNAL_GRPC_TOKEN",
    // Every cluster role serves or calls internal gRPC (IngestService, GatewayService, ChatService); the
    // embedded process has none, so it needs no token.
    roles: EVERY_ROLE,
    problem: (config) =>
      config.role === "all"
        ? undefined
        : secret(
            internalGrpcTokenOrUndefined,
            "every internal gRPC server accepts only calls that carry it (or set INTERNAL_GRPC_TOKEN_FILE to a mounted secret); every process of the cluster must share it",
          )(config),
  },
  {
    option: "SMS_SENDER",
    roles: ["chatmgmt"],
    problem: (config) =>
      config.smsSender === "sns"
        ? undefined
        : "must be `sns` (with SNS_REGION); one-time codes have no other way to reach users outside dev mode",
  },
];

/** The internal gRPC token as the process will use it; an unreadable INTERNAL_GRPC_TOKEN_FILE counts as unset. */
function internalGrpcTokenOrUndefined(config: Config): string | undefined {
  try {
    return internalGrpcTokenOf(config);
  } catch {
    return undefined;
  }
}

const needs = (config: Config, requirement: ProductionRequirement): boolean =>
  config.role === "all" || requirement.roles.includes(config.role);

/** Every unmet requirement of this process, `OPTION: why`; none in dev mode. */
export function productionProblems(config: Config): string[] {
  if (config.devMode) return [];
  return PRODUCTION_REQUIREMENTS.filter((requirement) => needs(config, requirement)).flatMap(
    (requirement) => {
      const problem = requirement.problem(config);
      return problem === undefined ? [] : [`${requirement.option}: ${problem}`];
    },
  );
}

/** Throws CONFIG_INVALID naming every unmet production requirement at once. */
export function assertProductionReady(config: Config): void {
  const problems = productionProblems(config);
  if (problems.length === 0) return;
  throw new AppError(
    "CONFIG_INVALID",
    `refusing to start in production mode (dev mode is off: DEV_MODE=false or a non-loopback HOST); missing or weak settings:\n  ${problems.join("\n  ")}\nSee README "Running in production".`,
    { details: { problems } },
  );
}

/** What `npm start` warns about at every start: a configuration that runs, but knowingly at risk. */
export function startupRisks(config: Config): string[] {
  const publicHosts = publicListenerHosts(config);
  return config.devMode && publicHosts.length > 0
    ? [
        `dev mode on a non-loopback address (${publicHosts.join(", ")}; ALLOW_DEV_MODE_ON_PUBLIC_ADDRESS=true): anyone who reaches this process can read every phone's one-time code at /api/v1/dev/otp, use the operator API with dev-admin-token and open /inspector`,
      ]
    : [];
}
