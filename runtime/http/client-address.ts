import { BlockList, isIP } from "node:net";

/**
 * The address of the client a request comes from, for per-IP limits behind load balancers.
 *
 * `X-Forwarded-For` is a list each proxy appends its peer to, so only its right end is written by proxies;
 * everything to the left may have come from the client. The header is therefore believed only as far as it
 * was written by proxies we trust: start from the socket's peer and, while the current address is a trusted
 * proxy, step one entry left. The first untrusted address is the client. A direct peer that is not trusted
 * is the client itself, whatever header it sends; spoofed entries left of the real client are never read.
 */

/** The set of proxies whose `X-Forwarded-For` entries are believed (`TRUSTED_PROXIES`). */
export class TrustedProxies {
  private readonly blocks = new BlockList();
  readonly size: number;

  /** @param cidrs `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128); see `parseCidr`. */
  constructor(cidrs: readonly string[]) {
    for (const text of cidrs) {
      const cidr = parseCidr(text);
      if (cidr === undefined) throw new Error(`not an IPv4 or IPv6 CIDR: "${text}"`);
      this.blocks.addSubnet(cidr.network, cidr.prefix, cidr.family);
    }
    this.size = cidrs.length;
  }

  /** Whether `address` (already normalised by `normaliseAddress`) lies in a trusted range. */
  contains(address: string): boolean {
    if (this.size === 0) return false;
    const family = isIP(address);
    return family !== 0 && this.blocks.check(address, family === 4 ? "ipv4" : "ipv6");
  }
}

/** Trusts nobody: the socket's peer is always the client (the default). */
export const NO_TRUSTED_PROXIES = new TrustedProxies([]);

export interface Cidr {
  readonly network: string;
  readonly prefix: number;
  readonly family: "ipv4" | "ipv6";
}

/**
 * `a.b.c.d/n` (n 0-32), `ipv6/n` (n 0-128), or a bare address (the whole-address prefix). An IPv4-mapped
 * IPv6 network (`::ffff:10.0.0.0/104`) is read as its IPv4 network, as peers are. Undefined when invalid.
 */
export function parseCidr(text: string): Cidr | undefined {
  const [rawNetwork = "", rawPrefix, extra] = text.trim().split("/");
  if (extra !== undefined) return undefined;
  let network = rawNetwork;
  let prefix =
    rawPrefix === undefined ? undefined : /^\d{1,3}$/.test(rawPrefix) ? Number(rawPrefix) : Number.NaN;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(network)?.[1];
  if (mapped !== undefined) {
    network = mapped;
    if (prefix !== undefined) prefix -= 96;
  }
  const family = isIP(network);
  if (family === 0) return undefined;
  const bits = family === 4 ? 32 : 128;
  prefix ??= bits;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) return undefined;
  return { network, prefix, family: family === 4 ? "ipv4" : "ipv6" };
}

/**
 * One address as proxies write it, normalised so that one client always gets one key: `1.2.3.4`,
 * `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:443`; an IPv4-mapped IPv6 address
 * (`::ffff:1.2.3.4`, what a dual-stack socket reports) becomes the IPv4 address; IPv6 is lower-cased and a
 * zone (`%eth0`) dropped. Undefined when it is not an address (`unknown`, obfuscated names, garbage).
 */
export function normaliseAddress(text: string): string | undefined {
  let address = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(address);
  if (bracketed?.[1] !== undefined) address = bracketed[1];
  else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}$/.test(address))
    address = address.slice(0, address.lastIndexOf(":"));
  address = address.replace(/%[^%]*$/, "").toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address)?.[1];
  if (mapped !== undefined) address = mapped;
  return isIP(address) === 0 ? undefined : address;
}

/**
 * The client's address: the socket's peer, unless that peer is a trusted proxy, in which case
 * `X-Forwarded-For` is walked right to left through trusted hops only and the first untrusted address is
 * returned. An entry that is not an address ends the walk: nothing left of it can be attributed, so the
 * nearest trusted hop (the last address read) stands for the client. When every hop is trusted the leftmost
 * is returned. `remoteAddress` undefined (a closed socket) gives `"unknown"`.
 *
 * @param xForwardedFor the header's value; node joins repeated headers with ", ", and an array (raw
 *   headers) is read in order.
 */
export function clientAddress(
  remoteAddress: string | undefined,
  xForwardedFor: string | readonly string[] | undefined,
  trustedProxies: TrustedProxies,
): string {
  let current = remoteAddress === undefined ? undefined : normaliseAddress(remoteAddress);
  if (current === undefined) return remoteAddress ?? "unknown";
  if (!trustedProxies.contains(current) || xForwardedFor === undefined) return current;
  const hops = (typeof xForwardedFor === "string" ? [xForwardedFor] : xForwardedFor)
    .flatMap((value) => value.split(","))
    .map((entry) => entry.trim());
  for (let index = hops.length - 1; index >= 0; index--) {
    const hop = normaliseAddress(hops[index] ?? "");
    if (hop === undefined) return current;
    current = hop;
    if (!trustedProxies.contains(current)) return current;
  }
  return current;
}
