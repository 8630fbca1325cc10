import type { RingConfig, RingMember } from "../placement/ring-config.js";

/**
 * Where the ring configuration of D5 lives durably (DynamoDB in every mode; memory in unit tests). One item,
 * replaced only by compare-and-set on its version, so concurrent changes never overwrite each other.
 */
export interface RingStore {
  /** Strongly consistent; `EMPTY_RING` (version 0) when never written. */
  read(): Promise<RingConfig>;

  /**
   * Writes `members` as version `expectedVersion + 1` only if the stored version is still `expectedVersion`
   * (0 = no item yet). Returns the stored config afterwards, or undefined when someone else changed it first.
   */
  write(expectedVersion: number, members: readonly RingMember[]): Promise<RingConfig | undefined>;
}
