import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import type { Socket } from "node:net";

/**
 * Which process holds the far end of a loopback connection a proxy accepted, read from Linux's /proc: the
 * socket table gives the inode of the peer's socket (its local port is the proxy's remote port and the other
 * way round), and a process's fd directory links to every socket inode it holds. The nodes of a local cluster
 * all get one engine address (deploy/local/cluster.ts has no per-node environment), so this is how one proxy
 * in front of an engine cuts one process off while every other process goes on.
 */
export function peerOwnedBy(pids: ReadonlySet<number>): (client: Socket) => boolean {
  return (client) => {
    const inode = peerInode(client);
    if (inode === undefined) return false;
    for (const pid of pids) if (socketInodesOf(pid).has(inode)) return true;
    return false;
  };
}

/** The inode of the peer's socket: the socket-table row whose ports mirror ours. */
function peerInode(client: Socket): string | undefined {
  const { remotePort, localPort } = client;
  if (remotePort === undefined || localPort === undefined) return undefined;
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
      const fields = line.trim().split(/\s+/);
      const local = portOf(fields[1]);
      const remote = portOf(fields[2]);
      if (local === remotePort && remote === localPort) return fields[9];
    }
  }
  return undefined;
}

/** `0100007F:1F90` → 8080. */
function portOf(address: string | undefined): number | undefined {
  const hex = address?.split(":").at(-1);
  return hex === undefined ? undefined : Number.parseInt(hex, 16);
}

function socketInodesOf(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes; // the process is gone
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1] !== undefined) inodes.add(match[1]);
    } catch {
      // closed while we looked
    }
  }
  return inodes;
}
