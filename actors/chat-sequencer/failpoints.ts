/**
 * Named points of the write path where a test can stop a sequencer as a process crash would: the code
 * calls `hit(point)`, and a failpoint armed for that point throws `SimulatedCrash` there. Nothing is armed
 * outside tests; the seam lets crash tests hit every step boundary of ARCHITECTURE.md D2/D4/D16 exactly.
 */
export const WRITE_STEPS = [
  /** The batch is checked (membership, index), nothing of it is written. */
  "after-lookup",
  /** The block put returned; nothing is acknowledged. */
  "after-message-write",
  "after-ack-before-publication",
  "during-publication",
  /** The block's index records are stored; `indexed_through` has not moved. */
  "after-index-write",
] as const;
export type WriteStep = (typeof WRITE_STEPS)[number];

export class SimulatedCrash extends Error {
  override readonly name = "SimulatedCrash";
  constructor(readonly step: WriteStep) {
    super(`simulated crash at ${step}`);
  }
}

export interface Failpoints {
  hit(step: WriteStep): void;
}

export const NO_FAILPOINTS: Failpoints = { hit: () => {} };

/** Throws at the armed step, once or every time. */
export class ArmedFailpoints implements Failpoints {
  private armed: WriteStep | undefined;
  private remaining = 0;

  arm(step: WriteStep, times = 1): void {
    this.armed = step;
    this.remaining = times;
  }

  disarm(): void {
    this.armed = undefined;
  }

  hit(step: WriteStep): void {
    if (this.armed !== step || this.remaining <= 0) return;
    this.remaining--;
    throw new SimulatedCrash(step);
  }
}
