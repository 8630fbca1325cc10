import type { MessageStore } from "../../runtime/ports/message-store.js";

type Method = {
  [K in keyof MessageStore]: MessageStore[K] extends (...args: never[]) => unknown ? K : never;
}[keyof MessageStore];

/** Runs before a call reaches the real store; it may wait (to interleave owners) or throw (a failed request). */
export type Interception<K extends Method> = (...args: Parameters<MessageStore[K]>) => Promise<void> | void;

/**
 * One process's view of the real message store with hooks in front of chosen methods: how a test pauses an
 * owner between two storage calls, or makes one request fail, while every call still goes to the real engine.
 */
export function interceptedStore(
  inner: MessageStore,
  hooks: { [K in Method]?: Interception<K> },
): MessageStore {
  return new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      const hook = hooks[property as Method] as ((...args: unknown[]) => Promise<void> | void) | undefined;
      if (hook === undefined) return value.bind(target);
      return async (...args: unknown[]) => {
        await hook(...args);
        return value.apply(target, args);
      };
    },
  });
}

/** A gate a hook can wait on until the test opens it. */
export class Gate {
  private opened = false;
  private readonly waiters: Array<() => void> = [];
  /** Calls that reached the gate so far. */
  arrivals = 0;

  async pass(): Promise<void> {
    this.arrivals++;
    if (this.opened) return;
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  open(): void {
    this.opened = true;
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
