import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { IngestGrpcClient } from "../grpc/ingest-client.js";
import type { Route } from "../http/server.js";
import type { Logger } from "../logger.js";
import type { RingStore } from "../ports/ring-store.js";
import type { NodeRegistry } from "../ports/routing.js";
import { ringAdminRoute } from "./admin-routes.js";
import { RingAdmin } from "./ring-admin.js";
import { RingView } from "./ring-view.js";
import { RoutedIngestClient } from "./routed-ingest.js";

/** The admin token in force: the configured one, or in dev mode a fixed one (dev mode is never production). */
export const DEV_ADMIN_TOKEN = "dev-admin-token";

/**
 * Placement (D5) as one process uses it: its view of the ring, the operator API, and (for callers of chat
 * owners) a router. Built for every role from the same adapters; ingest nodes add ChatOwnership on top.
 */
export interface Placement {
  readonly view: RingView;
  readonly admin: RingAdmin;
  readonly adminRoute: Route;
  /** IngestApi routed by the ring, created on first use (gateways). */
  router(): RoutedIngestClient;
  stop(): void;
}

/** What placement reads: the ring's configuration, the live nodes, and (for the operator API) the chat ids. */
export interface PlacementAdapters {
  readonly ringStore: RingStore;
  readonly nodes: NodeRegistry;
  readonly chatIds: (limit: number) => Promise<{ ids: string[]; complete: boolean }>;
}

export async function startPlacement(
  config: Config,
  adapters: PlacementAdapters,
  clock: Clock,
  logger: Logger,
  /** Sent with every call to an ingest node (INTERNAL_GRPC_TOKEN); absent = none (dev). */
  internalToken?: string,
): Promise<Placement> {
  const log = logger.child({ component: "placement" });
  const view = new RingView({
    store: adapters.ringStore,
    nodes: adapters.nodes,
    clock,
    logger: log,
    refreshMs: config.ringRefreshMs,
  });
  await view.start();
  const admin = new RingAdmin({
    store: adapters.ringStore,
    nodes: adapters.nodes,
    clock,
    logger: log,
    chatIds: adapters.chatIds,
  });
  const adminToken = config.adminToken ?? (config.devMode ? DEV_ADMIN_TOKEN : undefined);
  let router: RoutedIngestClient | undefined;
  return {
    view,
    admin,
    adminRoute: ringAdminRoute(admin, adminToken),
    router: () => {
      router ??= new RoutedIngestClient({
        view,
        clock,
        logger: log,
        budgetMs: config.routingBudgetMs,
        connect: (address) => new IngestGrpcClient({ address, internalToken }),
      });
      return router;
    },
    stop: () => {
      view.stop();
      router?.close();
    },
  };
}
