import type { AddressInfo } from "node:net";
import type { ChatManagement } from "../chatmgmt/create-chat-management.js";
import { webRoute } from "../chatmgmt/web/web-route.js";
import { versionOf } from "../gateway/handshake.js";
import type { Gateway } from "../gateway/index.js";
import type { Clock } from "../runtime/clock.js";
import type { Config } from "../runtime/config.js";
import { AppError } from "../runtime/errors.js";
import { type DependencyCheck, type HealthIdentity, healthRoute } from "../runtime/health.js";
import { indexRoute } from "../runtime/http/index-route.js";
import { createHttpServer, type Route, refuseOtherUpgrades } from "../runtime/http/server.js";
import type { Inspector } from "../runtime/inspector/inspector.js";
import { INSPECTOR_WS_PATH } from "../runtime/inspector/inspector-socket.js";
import type { Logger } from "../runtime/logger.js";

/**
 * The two HTTP listeners of one process. The public one (HOST:PORT) serves clients: REST, the WebSocket, the
 * browser client and a `/health` that tells only its verdict. The internal one (INTERNAL_HOST:INTERNAL_PORT)
 * serves operators and the platform's own pods: the ring's admin API, the inspector, metrics and the detailed
 * health. No route of one is mounted on the other, so no load-balancer rule can expose the internal surface by
 * accident, and WebSocket upgrades of paths a listener does not serve are refused rather than left hanging.
 */
export interface ListenerParts {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly identity: HealthIdentity;
  /** What `/health` probes besides the gateway's drain. */
  readonly checks: readonly DependencyCheck[];
  readonly chatmgmt: ChatManagement | undefined;
  readonly gateway: { readonly nodeId: string; readonly server: Gateway } | undefined;
  readonly adminRoute: Route;
  readonly inspector: Inspector;
  readonly metricsRoute: Route;
}

export interface PlatformListeners {
  readonly address: AddressInfo;
  /** `http://host:port` of the public listener as a client on this machine reaches it. */
  readonly baseUrl: string;
  readonly internalAddress: AddressInfo;
  /** `http://host:port` of the internal listener as an operator on this machine reaches it. */
  readonly internalUrl: string;
  /** Stops accepting on both, letting in-flight requests finish within `graceMs`. */
  close(graceMs: number): Promise<void>;
}

/** The host a client on this machine uses for a listener bound to `bindHost`. */
export const reachableHost = (bindHost: string): string =>
  bindHost === "0.0.0.0" || bindHost === "::" ? "localhost" : bindHost;

const urlOf = (host: string, port: number): string =>
  `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

export async function startListeners(parts: ListenerParts): Promise<PlatformListeners> {
  const { config, logger, clock, identity, chatmgmt, inspector } = parts;
  const gateway = parts.gateway?.server;
  // A draining gateway answers 503, so load balancers stop sending it new connections.
  const gatewayCheck: DependencyCheck[] =
    parts.gateway === undefined
      ? []
      : [
          {
            name: "connections",
            adapter: `ws gateway (${parts.gateway.nodeId})`,
            check: async () => {
              if (gateway?.health().draining)
                throw new AppError("SERVICE_UNAVAILABLE", "the gateway is draining");
            },
          },
        ];
  const checks = [...parts.checks, ...gatewayCheck];

  const http = createHttpServer(logger);
  http.addRoute(healthRoute(identity, checks, clock, "status"));
  // The browser client at `/` where chat management runs (its REST API is what the page calls).
  if (chatmgmt !== undefined) http.addRoute(webRoute());
  http.addRoute(indexRoute(config, "public"));
  if (chatmgmt !== undefined) http.addRoute(chatmgmt.route);
  gateway?.attach(http.server);
  refuseOtherUpgrades(http.server, (path) => gateway !== undefined && versionOf(path) !== undefined);

  const internal = createHttpServer(logger);
  internal.addRoute(healthRoute(identity, checks, clock, "full"));
  internal.addRoute(indexRoute(config, "internal"));
  internal.addRoute(parts.adminRoute);
  internal.addRoute(inspector.route);
  internal.addRoute(parts.metricsRoute);
  inspector.attach(internal.server);
  refuseOtherUpgrades(internal.server, (path) => path === INSPECTOR_WS_PATH);

  const internalAddress = await internal.listen(config.internalPort, config.internalHost);
  let address: AddressInfo;
  try {
    address = await http.listen(config.port, config.host);
  } catch (error) {
    await internal.close(0);
    throw error;
  }
  return {
    address,
    baseUrl: urlOf(reachableHost(config.host), address.port),
    internalAddress,
    internalUrl: urlOf(reachableHost(config.internalHost), internalAddress.port),
    close: async (graceMs) => {
      await http.close(graceMs);
      await internal.close(graceMs);
    },
  };
}
