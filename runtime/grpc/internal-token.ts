import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import type { Config } from "../config.js";
import { AppError } from "../errors.js";
import type { Logger } from "../logger.js";

/**
 * Authentication of internal gRPC (IngestService, GatewayService, ChatService): one shared secret per
 * deployment, sent by every internal client as call metadata and checked by an interceptor on every internal
 * server. Internal traffic is plaintext (spec §4: mTLS is out of scope), so the token keeps a pod that is not
 * the platform's (or a misrouted request) from persisting or delivering messages; the network policy keeps
 * everyone else from reaching the ports at all.
 */
const INTERNAL_TOKEN_METADATA_KEY = "x-internal-token";

type TokenOptions = Pick<Config, "internalGrpcToken" | "internalGrpcTokenFile">;

/**
 * The token this process sends and requires: INTERNAL_GRPC_TOKEN, or the contents of INTERNAL_GRPC_TOKEN_FILE
 * (a mounted secret, surrounding whitespace ignored); undefined when neither is set. Read once, at start-up.
 */
export function internalGrpcTokenOf(config: TokenOptions): string | undefined {
  const file = config.internalGrpcTokenFile;
  if (file === undefined) return config.internalGrpcToken;
  if (config.internalGrpcToken !== undefined) {
    throw new AppError("CONFIG_INVALID", "set INTERNAL_GRPC_TOKEN or INTERNAL_GRPC_TOKEN_FILE, not both", {
      details: { option: "INTERNAL_GRPC_TOKEN_FILE" },
    });
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch (error) {
    throw new AppError("CONFIG_INVALID", `INTERNAL_GRPC_TOKEN_FILE cannot be read: ${file}`, {
      details: { option: "INTERNAL_GRPC_TOKEN_FILE" },
      cause: error,
    });
  }
  if (text.length < 16) {
    throw new AppError(
      "CONFIG_INVALID",
      "INTERNAL_GRPC_TOKEN_FILE must hold a token of at least 16 characters",
      {
        details: { option: "INTERNAL_GRPC_TOKEN_FILE" },
      },
    );
  }
  return text;
}

/** Request metadata carrying the token, for one internal call; absent token = nothing to add. */
export function addInternalToken(metadata: grpc.Metadata, token: string | undefined): grpc.Metadata {
  if (token !== undefined) metadata.set(INTERNAL_TOKEN_METADATA_KEY, token);
  return metadata;
}

/** Equal-length digests, so that the comparison takes the same time whatever was sent. */
const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();

/**
 * The server interceptor of every internal gRPC server: a call whose metadata lacks the token, or carries
 * another one, ends with UNAUTHENTICATED before any handler sees it. The refusal carries no `app-error-code`:
 * to a caller it is a fault of the deployment (INTERNAL_ERROR), never a client's bad credentials. It is
 * logged with the method and why, never with what was sent.
 */
function internalTokenInterceptor(token: string, logger: Pick<Logger, "warn">): grpc.ServerInterceptor {
  const expected = digest(token);
  return (method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, forward) => {
            const [given] = metadata.get(INTERNAL_TOKEN_METADATA_KEY);
            if (typeof given === "string" && timingSafeEqual(digest(given), expected)) {
              // Handlers never see the secret (nor log it with the metadata).
              metadata.remove(INTERNAL_TOKEN_METADATA_KEY);
              forward(metadata);
              return;
            }
            logger.warn(
              { method: method.path, reason: given === undefined ? "missing" : "wrong" },
              "internal gRPC call refused: no valid internal token",
            );
            call.sendStatus({
              code: grpc.status.UNAUTHENTICATED,
              details: "a valid internal token is required",
            });
          },
        });
      },
    });
}

/** The interceptors of an internal gRPC server: the token check when a token is configured, else none. */
export const internalServerInterceptors = (
  token: string | undefined,
  logger: Pick<Logger, "warn">,
): grpc.ServerInterceptor[] => (token === undefined ? [] : [internalTokenInterceptor(token, logger)]);
