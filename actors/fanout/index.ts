/** The fanout plane: one factory, its dependencies, and its options as the configuration names them. */
export {
  type DeliveryMachineState,
  deliveryMachine,
  SKIP_REASONS,
  type SkipReason,
} from "./delivery.machine.js";
export {
  FANOUT_DEFAULTS,
  type FanoutOptions,
  type FanoutTopics,
  fanoutOptionsFromConfig,
} from "./fanout-options.js";
export {
  type FanoutStats,
  type FanoutWorker,
  type FanoutWorkerDeps,
  type InFlightRecord,
  startFanoutWorker,
} from "./fanout-worker.js";
export type { GatewayFor, GatewayNode } from "./live-gateways.js";
export { DEFAULT_PACING, type PacingOptions } from "./pacing.js";
