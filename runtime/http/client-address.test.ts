import { describe, expect, it } from "vitest";
import {
  clientAddress,
  NO_TRUSTED_PROXIES,
  normaliseAddress,
  parseCidr,
  TrustedProxies,
} from "./client-address.js";

const lb = new TrustedProxies(["10.0.0.0/8", "2001:db8:1::/48"]);

describe("clientAddress", () => {
  it("an untrusted direct peer is the client; its X-Forwarded-For is ignored", () => {
    expect(clientAddress("203.0.113.7", "198.51.100.1", lb)).toBe("203.0.113.7");
    expect(clientAddress("203.0.113.7", "198.51.100.1", NO_TRUSTED_PROXIES)).toBe("203.0.113.7");
  });

  it("trusts nobody by default, loopback included", () => {
    expect(clientAddress("127.0.0.1", "198.51.100.1", NO_TRUSTED_PROXIES)).toBe("127.0.0.1");
    expect(clientAddress("::1", "198.51.100.1", NO_TRUSTED_PROXIES)).toBe("::1");
    expect(clientAddress("127.0.0.1", "198.51.100.1", lb)).toBe("127.0.0.1");
  });

  it("behind a trusted load balancer the client is the entry it appended (IPv4)", () => {
    expect(clientAddress("10.1.2.3", "198.51.100.1", lb)).toBe("198.51.100.1");
  });

  it("spoofed leftmost entries are never read: the first untrusted address from the right wins", () => {
    expect(clientAddress("10.1.2.3", "1.1.1.1, 2.2.2.2, 198.51.100.1", lb)).toBe("198.51.100.1");
  });

  it("walks several trusted hops, IPv6 ones included", () => {
    expect(clientAddress("10.0.0.1", "198.51.100.9, 2001:db8:1::5, 10.9.9.9", lb)).toBe("198.51.100.9");
    expect(clientAddress("2001:db8:1::1", "2001:DB8:FFFF::42, 10.0.0.2", lb)).toBe("2001:db8:ffff::42");
  });

  it("an IPv4-mapped IPv6 peer or entry counts as its IPv4 address", () => {
    expect(clientAddress("::ffff:10.1.2.3", "198.51.100.1", lb)).toBe("198.51.100.1");
    expect(clientAddress("::ffff:203.0.113.7", "198.51.100.1", lb)).toBe("203.0.113.7");
    expect(clientAddress("10.1.2.3", "::ffff:198.51.100.1", lb)).toBe("198.51.100.1");
    const mappedRange = new TrustedProxies(["::ffff:10.0.0.0/104"]);
    expect(clientAddress("10.3.3.3", "198.51.100.1", mappedRange)).toBe("198.51.100.1");
  });

  it("ports and brackets are dropped, so one client has one key", () => {
    expect(clientAddress("10.1.2.3", "198.51.100.1:5555", lb)).toBe("198.51.100.1");
    expect(clientAddress("10.1.2.3", "[2001:db8:2::7]:443", lb)).toBe("2001:db8:2::7");
  });

  it("a malformed entry ends the walk at the nearest trusted hop; nothing left of it is believed", () => {
    expect(clientAddress("10.1.2.3", "198.51.100.1, not-an-ip", lb)).toBe("10.1.2.3");
    expect(clientAddress("10.1.2.3", "198.51.100.1, unknown, 10.4.4.4", lb)).toBe("10.4.4.4");
    expect(clientAddress("10.1.2.3", "1.2.3.4,,10.4.4.4", lb)).toBe("10.4.4.4");
    expect(clientAddress("10.1.2.3", "999.1.1.1", lb)).toBe("10.1.2.3");
  });

  it("a trusted peer without the header is the client; all-trusted chains give the leftmost hop", () => {
    expect(clientAddress("10.1.2.3", undefined, lb)).toBe("10.1.2.3");
    expect(clientAddress("10.1.2.3", "10.7.7.7, 10.8.8.8", lb)).toBe("10.7.7.7");
  });

  it("repeated headers are read in order", () => {
    expect(clientAddress("10.1.2.3", ["5.5.5.5", "198.51.100.1, 10.2.2.2"], lb)).toBe("198.51.100.1");
  });

  it("an unknown peer (closed socket) is reported as such", () => {
    expect(clientAddress(undefined, "198.51.100.1", lb)).toBe("unknown");
  });
});

describe("parseCidr and normaliseAddress", () => {
  it("reads IPv4 and IPv6 ranges and bare addresses; refuses the rest", () => {
    expect(parseCidr("10.0.0.0/8")).toEqual({ network: "10.0.0.0", prefix: 8, family: "ipv4" });
    expect(parseCidr("2001:db8::/32")).toEqual({ network: "2001:db8::", prefix: 32, family: "ipv6" });
    expect(parseCidr("192.0.2.1")).toEqual({ network: "192.0.2.1", prefix: 32, family: "ipv4" });
    expect(parseCidr("::1")).toEqual({ network: "::1", prefix: 128, family: "ipv6" });
    for (const bad of [
      "10.0.0.0/33",
      "2001:db8::/129",
      "10.0.0/8",
      "example.com/8",
      "10.0.0.0/x",
      "1/2/3",
      "",
    ]) {
      expect(parseCidr(bad), bad).toBeUndefined();
    }
    expect(() => new TrustedProxies(["10.0.0.0/33"])).toThrow(/CIDR/);
  });

  it("normalises the forms proxies write", () => {
    expect(normaliseAddress(" 198.51.100.1 ")).toBe("198.51.100.1");
    expect(normaliseAddress("[FE80::1%eth0]:80")).toBe("fe80::1");
    expect(normaliseAddress("_hidden")).toBeUndefined();
  });
});
