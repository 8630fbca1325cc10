import type { IngestService } from "../actors/chat-sequencer/ingest-service.js";
import type { ChatManagement } from "../chatmgmt/create-chat-management.js";
import type { Gateway } from "../gateway/index.js";
import type { Config } from "../runtime/config.js";
import { addGatewayService } from "../runtime/grpc/gateway-server.js";
import { type RunningGrpcServer, startGrpcServer } from "../runtime/grpc/grpc-server.js";
import { addIngestService } from "../runtime/grpc/ingest-server.js";
import { internalServerInterceptors } from "../runtime/grpc/internal-token.js";
import type { Logger } from "../runtime/logger.js";

/** The internal gRPC servers a process started; each stops with the platform. */
export interface InternalGrpc {
  /** IngestService and GatewayService, on GRPC_PORT. */
  readonly grpc: RunningGrpcServer | undefined;
  /** ChatService, on CHAT_GRPC_PORT. */
  readonly chatGrpc: { readonly port: number } | undefined;
}

/**
 * Internal gRPC of a cluster process: IngestService on ingest nodes, GatewayService on gateways, ChatService on
 * chatmgmt nodes. Every one of them refuses calls without the deployment's internal token (when one is
 * configured). The embedded process starts none: its roles call each other in-process.
 */
export async function startInternalGrpc(options: {
  readonly config: Config;
  readonly logger: Logger;
  readonly internalToken: string | undefined;
  readonly ingest: IngestService | undefined;
  readonly gateway: Gateway | undefined;
  readonly chatmgmt: ChatManagement | undefined;
  /** Told of each server started, so a later failure of the start still stops it. */
  readonly started: (stop: () => Promise<void> | void) => void;
}): Promise<InternalGrpc> {
  const { config, logger, ingest, gateway, chatmgmt } = options;
  if (config.role === "all") return { grpc: undefined, chatGrpc: undefined };
  const interceptors = internalServerInterceptors(options.internalToken, logger.child({ component: "grpc" }));
  let grpc: RunningGrpcServer | undefined;
  if (ingest !== undefined || gateway !== undefined) {
    const api = gateway?.api;
    const server = await startGrpcServer({
      host: config.host,
      port: config.grpcPort,
      interceptors,
      register: (registry) => {
        if (ingest !== undefined) addIngestService(registry, ingest, { logger });
        if (api !== undefined) addGatewayService(registry, api, { logger });
      },
    });
    options.started(() => server.stop(0));
    grpc = server;
  }
  const chatGrpc =
    chatmgmt === undefined
      ? undefined
      : await chatmgmt.startGrpc(config.host, config.chatGrpcPort, interceptors);
  return { grpc, chatGrpc };
}
