import { type ChatManagement, createChatManagement } from "../../chatmgmt/create-chat-management.js";
import type { Clock } from "../../runtime/clock.js";
import type { Config } from "../../runtime/config.js";
import type { GatewayDirectory } from "../../runtime/gateway-directory.js";
import type { IdFactory } from "../../runtime/ids.js";
import type { Logger } from "../../runtime/logger.js";
import type { PlatformAdapters } from "../platform-adapters.js";

/**
 * The management plane of one process: chat management (REST, its gRPC ChatService, the browser client) on the
 * adapters' stores and event log. Removing a member or revoking a session closes the affected connections
 * through the gateway directory, wherever those connections are.
 */
export function createChatmgmtRole(options: {
  readonly config: Config;
  readonly adapters: PlatformAdapters;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly ids: IdFactory;
  readonly directory: GatewayDirectory;
}): Promise<ChatManagement> {
  const { config, adapters, directory } = options;
  return createChatManagement({
    ...adapters.chatManagement,
    config,
    logger: options.logger.child({ component: "chatmgmt" }),
    clock: options.clock,
    ids: options.ids,
    chatStore: adapters.chatStore,
    messageStore: adapters.messageStore,
    eventLog: adapters.eventLog,
    closeConnections: (request) => directory.closeConnections(request),
  });
}
