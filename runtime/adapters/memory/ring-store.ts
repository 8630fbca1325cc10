import type { Clock } from "../../clock.js";
import { EMPTY_RING, type RingConfig, type RingMember } from "../../placement/ring-config.js";
import type { RingStore } from "../../ports/ring-store.js";

/** The ring configuration in one process, with the DynamoDB adapter's compare-and-set semantics. */
export class MemoryRingStore implements RingStore {
  private config: RingConfig = EMPTY_RING;

  constructor(private readonly clock: Pick<Clock, "now">) {}

  async read(): Promise<RingConfig> {
    return this.config;
  }

  async write(expectedVersion: number, members: readonly RingMember[]): Promise<RingConfig | undefined> {
    if (this.config.version !== expectedVersion) return undefined;
    this.config = Object.freeze({
      version: expectedVersion + 1,
      members: Object.freeze(members.map((member) => Object.freeze({ ...member }))),
      updatedAt: this.clock.now(),
    });
    return this.config;
  }
}
