import "reflect-metadata";
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import type { ServerInterceptor } from "@grpc/grpc-js";
import type { INestApplication } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { type GrpcOptions, Transport } from "@nestjs/microservices";
import { ExpressAdapter } from "@nestjs/platform-express";
import type { JSONWebKeySet } from "jose";
import { LOADER_OPTIONS, PROTO_ROOT } from "../proto/definitions.js";
import { DevSmsSender } from "../runtime/adapters/memory/dev-sms-sender.js";
import { AppError } from "../runtime/errors.js";
import type { Route } from "../runtime/http/server.js";
import type { SmsSender } from "../runtime/ports/sms-sender.js";
import { type AccessClaims, AccessTokens } from "./auth/access-tokens.js";
import { jwksOf, loadOrCreateSigningKey, signingKeyFromPem } from "./auth/signing-keys.js";
import { ChatManagementModule } from "./chat-management.module.js";
import type { AuthLimits, ChatManagementDeps, ChatManagementParts } from "./context.js";
import { LifecyclePublisher } from "./events/lifecycle-publisher.js";
import { RestErrorFilter } from "./rest/error.filter.js";
import { chatManagementRoute } from "./rest/http-entry.js";
import { ClientIpLimits } from "./rest/rate-limit-headers.js";

export interface RunningChatGrpc {
  /** The bound port. */
  readonly port: number;
}

export interface ChatManagement {
  /** Handles REST `/api/v1` (its root `GET /api/v1/` included) and `/.well-known/jwks.json`. */
  readonly route: Route;
  /** The public signing keys, for an in-process gateway that verifies tokens without HTTP. */
  jwks(): JSONWebKeySet;
  /**
   * What chat management adds to the platform's `/health` (which it does not serve): the signing key in use,
   * whether the OTP pepper is configured, and its part of the capabilities (`GET /api/v1/` has them all).
   */
  info(): ChatManagementInfo;
  /** Verifies an access token exactly as chat management does (signature, claims, expiry). */
  verifyAccessToken(token: string): Promise<AccessClaims>;
  /**
   * The HTTP routes the NestJS app registered, as its express router holds them (`/api/v1/chats/:chatId`):
   * what `GET /api/v1/openapi.json` must describe.
   */
  httpRoutes(): HttpRoute[];
  /**
   * Serves `messaging.v1.ChatService` on the same buses (NestJS gRPC transport); port 0 = any free port.
   * `interceptors` run on every call first (the internal token check of runtime/grpc/internal-token.ts).
   */
  startGrpc(
    host: string,
    port: number,
    interceptors?: readonly ServerInterceptor[],
  ): Promise<RunningChatGrpc>;
  /**
   * Resolves once every lifecycle record raised so far (chats.created, memberships.changed) is in the event
   * log, or was given up after its retries: what a request changed has then been announced.
   */
  published(): Promise<void>;
  /** Stops the gRPC server and the app, then waits for lifecycle publications still running. */
  close(): Promise<void>;
}

export interface HttpRoute {
  /** Lower case, as in OpenAPI: `get`, `post`, ... */
  readonly method: string;
  readonly path: string;
}

/** What express 5 keeps of a route: one layer per registered path (middleware layers have no route). */
interface ExpressRouter {
  readonly stack: ReadonlyArray<{
    readonly route?: { readonly path: string; readonly methods: Readonly<Record<string, boolean>> };
  }>;
}

export interface ChatManagementInfo {
  readonly signingKeyId: string;
  /** `ephemeral`: no OTP_PEPPER, a random one per process (pending codes die with it). */
  readonly otpPepper: "configured" | "ephemeral";
  readonly devOtpEndpoint: boolean;
  readonly capabilities: {
    readonly max_chat_members: number;
    readonly auth_methods: readonly string[];
  };
}

/**
 * Outside dev mode without an SMS sender (`npm start` refuses that configuration; code that builds chat
 * management itself can reach it): codes cannot reach anyone, so request-otp answers 503 and keeps none.
 */
const NO_SMS_SENDER: SmsSender = {
  sendOtp: async () => {
    throw new AppError("SERVICE_UNAVAILABLE", "one-time codes cannot be sent: no SMS sender is configured");
  },
};

/** Config in the code's units (config.ts holds the documented options and defaults). */
function limitsOf(config: ChatManagementDeps["config"]): AuthLimits {
  return {
    accessTokenTtlS: config.accessTokenTtlS,
    refreshTokenTtlMs: config.refreshTokenTtlS * 1000,
    otpTtlMs: config.otpTtlS * 1000,
    otpMaxAttempts: config.otpMaxAttempts,
    otpLockoutMs: config.otpLockoutS * 1000,
    otpRequestsPerPhone: config.otpRequestsPerPhone,
    otpRequestsPerIp: config.otpRequestsPerIp,
    otpRequestWindowMs: config.otpRequestWindowS * 1000,
    maxSessionsPerUser: config.maxSessionsPerUser,
    maxGroupMembers: config.maxGroupMembers,
    restReadsPerMinute: config.restReadsPerMinute,
    restWritesPerMinute: config.restWritesPerMinute,
    restUnauthenticatedPerMinute: config.restUnauthenticatedPerMinute,
  };
}

/**
 * Builds chat management (D11–D15): the signing key (loaded, or generated and kept under DATA_DIR), the
 * NestJS app with its REST controllers on an express instance that the shared HTTP server calls through
 * `route`, and the gRPC ChatService started on demand.
 */
export async function createChatManagement(deps: ChatManagementDeps): Promise<ChatManagement> {
  const { config, logger } = deps;
  const signingKey =
    deps.signingKeyPem !== undefined
      ? await signingKeyFromPem(deps.signingKeyPem)
      : await loadOrCreateSigningKey(config.jwtPrivateKeyFile ?? join(config.dataDir, "jwt-signing-key.pem"));
  if (config.otpPepper === undefined && !config.devMode) {
    logger.warn("OTP_PEPPER is not set: a random pepper is used and pending codes die with this process");
  }
  const limits = limitsOf(config);
  const { signingKeyPem: _pem, smsSender, ...rest } = deps;
  if (smsSender instanceof DevSmsSender && !config.devMode) {
    throw new AppError("CONFIG_INVALID", "the dev SMS sender logs one-time codes: it runs only in dev mode");
  }
  const parts: ChatManagementParts = {
    ...rest,
    smsSender: smsSender ?? (config.devMode ? new DevSmsSender(logger) : NO_SMS_SENDER),
    signingKey,
    accessTokens: new AccessTokens(signingKey, deps.clock, deps.ids, limits.accessTokenTtlS),
    otpPepper: config.otpPepper ?? randomBytes(32).toString("hex"),
    limits,
  };

  const adapter = new ExpressAdapter();
  // The express instance the adapter made; typed here because @types/express is not a dependency.
  const expressApp = adapter.getInstance<
    ((request: IncomingMessage, response: ServerResponse) => void) & {
      disable(setting: string): void;
      readonly router: ExpressRouter;
    }
  >();
  expressApp.disable("x-powered-by");
  const app: INestApplication = await NestFactory.create(ChatManagementModule.with(parts), adapter, {
    bodyParser: false,
    logger: false,
    abortOnError: false,
  });
  app.useGlobalFilters(app.get(RestErrorFilter));
  await app.init();
  const clientIpLimits = app.get(ClientIpLimits);
  const lifecycle = app.get(LifecyclePublisher);

  let grpcStarted = false;
  let closed: Promise<void> | undefined;
  return {
    route: chatManagementRoute(
      (request, response) => expressApp(request, response),
      (request, response, error) => clientIpLimits.limitUnidentified(request, response, error),
    ),
    jwks: () => jwksOf(signingKey),
    info: () => ({
      signingKeyId: signingKey.kid,
      otpPepper: config.otpPepper === undefined ? "ephemeral" : "configured",
      devOtpEndpoint: config.devMode && parts.smsSender.lastCode !== undefined,
      capabilities: { max_chat_members: limits.maxGroupMembers, auth_methods: ["phone_otp"] },
    }),
    verifyAccessToken: (token) => parts.accessTokens.verify(token),
    httpRoutes: () =>
      expressApp.router.stack.flatMap(({ route }) =>
        route === undefined
          ? []
          : Object.keys(route.methods)
              .filter((method) => route.methods[method] === true && method !== "_all")
              .map((method) => ({ method, path: route.path })),
      ),
    startGrpc: async (host, port, interceptors = []) => {
      if (grpcStarted) throw new Error("the chat gRPC server is already started");
      grpcStarted = true;
      const bound = port === 0 ? await freePort(host) : port;
      const address = host.includes(":") ? `[${host}]:${bound}` : `${host}:${bound}`;
      app.connectMicroservice<GrpcOptions>(
        {
          transport: Transport.GRPC,
          options: {
            package: "messaging.v1",
            protoPath: [join("messaging", "v1", "chat.proto")],
            url: address,
            loader: { ...LOADER_OPTIONS, includeDirs: [PROTO_ROOT] },
            // Handed to grpc-js's Server constructor (its ServerOptions).
            channelOptions: { interceptors: [...interceptors] },
          },
        },
        { inheritAppConfig: false },
      );
      await app.startAllMicroservices();
      logger.info({ address }, "chat management gRPC listening");
      return { port: bound };
    },
    published: () => lifecycle.idle(),
    close: () => {
      closed ??= (async () => {
        await app.close();
        await lifecycle.close();
      })();
      return closed;
    },
  };
}

/** NestJS's gRPC server does not report the port it bound, so port 0 is resolved to a free port first. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
