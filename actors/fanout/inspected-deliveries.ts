import type { PolledSource } from "../../runtime/inspector/machine-catalog.js";
import type { FanoutWorker } from "./fanout-worker.js";

/**
 * A fanout worker's records as the inspector's live delivery machines: the records of the batches in hand
 * (key `<chat>:<sequence>`, state e.g. `pushing`), and the records that ended, per final state and per skip
 * reason (`skipped.duplicate`).
 */
export function inspectedDeliveries(worker: FanoutWorker): PolledSource {
  return () => {
    const items = worker
      .inFlight()
      .map((record) => ({ key: `${record.chatId}:${record.sequence}`, state: record.state }));
    const stats = worker.stats();
    const ended: Record<string, number> = {};
    for (const [state, count] of Object.entries(stats.records)) {
      if (count > 0 && state !== "skipped") ended[state] = count;
    }
    for (const [reason, count] of Object.entries(stats.skipped)) {
      if (count > 0) ended[`skipped.${reason}`] = count;
    }
    return { items, ended };
  };
}
