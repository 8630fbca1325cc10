import type { ChatId } from "../../ids.js";
import {
  type ActivationHolder,
  type ActivationMarker,
  type ActivationPage,
  type ActivationStore,
  activationKeyOf,
} from "../../ports/activation-store.js";

/** Activation markers in one process, with the DynamoDB adapter's semantics (one contract suite). */
export class MemoryActivationStore implements ActivationStore {
  private readonly markers = new Map<string, ActivationMarker>();

  async hold(marker: ActivationMarker): Promise<void> {
    this.markers.set(activationKeyOf(marker.chatId, marker), Object.freeze({ ...marker }));
  }

  async release(chatId: ChatId, holder: ActivationHolder): Promise<boolean> {
    return this.markers.delete(activationKeyOf(chatId, holder));
  }

  async evict(marker: ActivationMarker): Promise<boolean> {
    const key = activationKeyOf(marker.chatId, marker);
    if (this.markers.get(key)?.activatedAt !== marker.activatedAt) return false;
    return this.markers.delete(key);
  }

  async scan(page: { limit: number; after?: string }): Promise<ActivationPage> {
    const sorted = [...this.markers.entries()]
      .filter(([key]) => page.after === undefined || key > page.after)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    const taken = sorted.slice(0, page.limit);
    const items = taken.map(([, marker]) => marker);
    const last = taken.at(-1);
    return sorted.length > page.limit && last !== undefined ? { items, next: last[0] } : { items };
  }
}
