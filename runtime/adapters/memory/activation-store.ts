import type { ChatId } from "../../ids.js";
import type { ActivationMarker, ActivationPage, ActivationStore } from "../../ports/activation-store.js";

/** Activation markers in one process, with the DynamoDB adapter's semantics (one contract suite). */
export class MemoryActivationStore implements ActivationStore {
  private readonly markers = new Map<string, ActivationMarker>();

  async hold(marker: ActivationMarker): Promise<void> {
    this.markers.set(marker.chatId, Object.freeze({ ...marker }));
  }

  async release(chatId: ChatId, holder: { nodeId: string; incarnation: string }): Promise<boolean> {
    const marker = this.markers.get(chatId);
    if (marker?.nodeId !== holder.nodeId || marker.incarnation !== holder.incarnation) return false;
    this.markers.delete(chatId);
    return true;
  }

  async scan(page: { limit: number; after?: string }): Promise<ActivationPage> {
    const sorted = [...this.markers.values()]
      .filter((marker) => page.after === undefined || marker.chatId > page.after)
      .sort((a, b) => (a.chatId < b.chatId ? -1 : 1));
    const items = sorted.slice(0, page.limit);
    const last = items.at(-1);
    return sorted.length > page.limit && last !== undefined ? { items, next: last.chatId } : { items };
  }
}
