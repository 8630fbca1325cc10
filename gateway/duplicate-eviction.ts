import type { GatewayApi } from "../runtime/gateway-api.js";
import type { ConnectionId } from "../runtime/ids.js";
import type { Logger } from "../runtime/logger.js";
import type { ConnectionEntry } from "../runtime/ports/routing.js";
import type { Connection } from "./connection.js";

/** Other gateways by node id (runtime/gateway-directory.ts). */
export interface GatewayPeers {
  gateway(nodeId: string): Promise<GatewayApi | undefined>;
}

export interface DuplicateEvictionOptions {
  readonly gatewayId: string;
  readonly logger: Logger;
  readonly local: (connectionId: ConnectionId) => Connection | undefined;
  /** Absent (one gateway, tests): an older connection elsewhere is only logged and lives until its client goes. */
  readonly peers?: GatewayPeers;
}

/**
 * One connection per (user, device): registering a connection returns the device's older entries, and each is
 * closed with `duplicate_connection` where it lives — here directly, on another gateway through its
 * GatewayApi. A remote eviction that fails is logged: the older socket then lives until its client drops it.
 */
export class DuplicateEviction {
  constructor(private readonly options: DuplicateEvictionOptions) {}

  evict(duplicates: readonly ConnectionEntry[]): void {
    const { gatewayId, peers, logger } = this.options;
    for (const entry of duplicates) {
      if (entry.gatewayId === gatewayId) {
        this.options.local(entry.connectionId)?.close("duplicate_connection");
      } else if (peers !== undefined) {
        void this.evictRemote(peers, entry);
      } else {
        logger.info(
          { connection_id: entry.connectionId, gateway_id: entry.gatewayId },
          "older connection of the device lives on another gateway",
        );
      }
    }
  }

  private async evictRemote(peers: GatewayPeers, entry: ConnectionEntry): Promise<void> {
    try {
      const peer = await peers.gateway(entry.gatewayId);
      if (peer === undefined) return; // That gateway is gone, and its sockets with it.
      await peer.closeConnections({
        userId: entry.userId,
        connectionId: entry.connectionId,
        reason: "duplicate_connection",
      });
    } catch (error) {
      this.options.logger.warn(
        { err: error, connection_id: entry.connectionId, gateway_id: entry.gatewayId },
        "could not evict the device's older connection on another gateway",
      );
    }
  }
}
