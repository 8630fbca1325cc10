import type { ConnectionId, UserId } from "../runtime/ids.js";
import type { Connection } from "./connection.js";

/**
 * The connections one gateway holds, by id and by user: pushes look a user up, drains and routing refreshes
 * walk them all. A user's entry is the connection itself when it is the only one (the common case), else a
 * set, so a gateway of single-device users allocates no set per user.
 */
export class ConnectionTable {
  private readonly live = new Map<ConnectionId, Connection>();
  private readonly byUser = new Map<UserId, Connection | Set<Connection>>();

  get size(): number {
    return this.live.size;
  }

  get(connectionId: ConnectionId): Connection | undefined {
    return this.live.get(connectionId);
  }

  /** A copy: callers close connections while they walk it, and closing removes them. */
  all(): Connection[] {
    return [...this.live.values()];
  }

  ofUser(userId: UserId): Iterable<Connection> {
    const held = this.byUser.get(userId);
    return held === undefined ? [] : held instanceof Set ? held : [held];
  }

  add(connection: Connection, userId: UserId): void {
    this.live.set(connection.id, connection);
    const held = this.byUser.get(userId);
    if (held === undefined) this.byUser.set(userId, connection);
    else if (held instanceof Set) held.add(connection);
    else this.byUser.set(userId, new Set([held, connection]));
  }

  /** Forgets the connection; false when it was not held (never established, or forgotten already). */
  remove(connection: Connection): boolean {
    if (!this.live.delete(connection.id)) return false;
    const userId = connection.principal?.userId;
    if (userId === undefined) return true;
    const held = this.byUser.get(userId);
    if (held === connection) this.byUser.delete(userId);
    else if (held instanceof Set) {
      held.delete(connection);
      const [only, ...rest] = held;
      if (only !== undefined && rest.length === 0) this.byUser.set(userId, only);
    }
    return true;
  }
}
