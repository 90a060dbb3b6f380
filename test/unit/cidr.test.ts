/** AIOS_DISCOVERY_SCAN parsing. */
import { describe, expect, it } from "vitest";
import { addresses, intToIp, ipToInt, parseScanRanges, type ScanRange } from "../../durable-objects/peers/cidr";

function ok(text: string, maxAddresses?: number): { ranges: ScanRange[]; total: number } {
  const res = parseScanRanges(text, maxAddresses === undefined ? {} : { maxAddresses });
  if (!res.ok) throw new Error(res.error);
  return res;
}
const all = (text: string) => [...addresses(ok(text).ranges)];
const error = (text: string, maxAddresses?: number) => {
  const res = parseScanRanges(text, maxAddresses === undefined ? {} : { maxAddresses });
  return res.ok ? undefined : res.error;
};

describe("ipToInt / intToIp", () => {
  it.each([
    ["0.0.0.0", 0],
    ["10.0.0.1", 0x0a000001],
    ["192.168.1.255", 0xc0a801ff],
    ["255.255.255.255", 0xffffffff],
  ])("%s <-> %i", (ip, n) => {
    expect(ipToInt(ip)).toBe(n);
    expect(intToIp(n)).toBe(ip);
  });

  it.each(["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-4", "01.2.3.4", "1.2.3.4 ", "a.b.c.d", "1..2.3", "0x1.2.3.4"])(
    "refuses %j",
    (ip) => {
      expect(ipToInt(ip)).toBeUndefined();
    },
  );
});

describe("parseScanRanges: valid forms", () => {
  it("takes a /24 without its network and broadcast addresses", () => {
    const { ranges, total } = ok("192.168.1.0/24");
    expect(ranges).toEqual([{ start: ipToInt("192.168.1.1"), end: ipToInt("192.168.1.254"), text: "192.168.1.0/24" }]);
    expect(total).toBe(254);
  });

  it("takes a CIDR with host bits set as its network", () => {
    expect(all("192.168.1.77/30")).toEqual(["192.168.1.77", "192.168.1.78"]);
  });

  it("takes /30, /31 and /32 at their edges", () => {
    expect(all("10.0.0.0/30")).toEqual(["10.0.0.1", "10.0.0.2"]);
    expect(all("10.0.0.0/31")).toEqual(["10.0.0.0", "10.0.0.1"]);
    expect(all("10.0.0.7/32")).toEqual(["10.0.0.7"]);
    expect(all("255.255.255.254/31")).toEqual(["255.255.255.254", "255.255.255.255"]);
  });

  it("takes full and short ranges, and single addresses", () => {
    expect(ok("10.0.0.5-10.0.0.40").total).toBe(36);
    expect(ok("10.0.0.5-40").ranges).toEqual([{ start: ipToInt("10.0.0.5"), end: ipToInt("10.0.0.40"), text: "10.0.0.5-40" }]);
    expect(all("10.0.0.254-10.0.1.1")).toEqual(["10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1"]);
    expect(all("10.0.0.9-9")).toEqual(["10.0.0.9"]);
    expect(all(" 10.0.0.1 - 10.0.0.2 ")).toEqual(["10.0.0.1", "10.0.0.2"]);
    expect(all("172.16.0.3")).toEqual(["172.16.0.3"]);
  });

  it("takes several entries, skipping empty ones, and counts overlaps once", () => {
    const res = ok(" 192.168.1.0/24, 10.0.0.5-40 ,,172.16.0.3,");
    expect(res.ranges.map((r) => r.text)).toEqual(["192.168.1.0/24", "10.0.0.5-40", "172.16.0.3"]);
    expect(res.total).toBe(254 + 36 + 1);
    const overlap = ok("10.0.0.1-10,10.0.0.5-20,10.0.0.3");
    expect(overlap.total).toBe(20);
    expect([...addresses(overlap.ranges)]).toHaveLength(20);
  });

  it("takes nothing from an empty value", () => {
    expect(parseScanRanges("")).toEqual({ ok: true, ranges: [], total: 0 });
    expect(parseScanRanges(" , ")).toEqual({ ok: true, ranges: [], total: 0 });
  });

  it("accepts a /16 and refuses a /15", () => {
    expect(ok("10.1.0.0/16").total).toBe(65534);
    expect(ok("10.1.0.0-10.1.255.255").total).toBe(65536);
    expect(error("10.0.0.0/15")).toBe("10.0.0.0/15 is bigger than a /16 (131070 addresses); narrow it");
  });

  it("yields a /16 lazily", () => {
    const it = addresses(ok("10.1.0.0/16").ranges);
    expect(it.next().value).toBe("10.1.0.1");
    expect(it.next().value).toBe("10.1.0.2");
    let last = "";
    let count = 2;
    for (const ip of it) {
      last = ip;
      count++;
    }
    expect([count, last]).toEqual([65534, "10.1.255.254"]);
  });
});

describe("parseScanRanges: errors name the entry", () => {
  it.each([
    ["192.168.1.0/33", "192.168.1.0/33: prefix length must be 0-32"],
    ["192.168.1.0/-1", "192.168.1.0/-1: prefix length must be 0-32"],
    ["192.168.1.0/", "192.168.1.0/: prefix length must be 0-32"],
    ["192.168.1.0/024", "192.168.1.0/024: prefix length must be 0-32"],
    ["192.168.1/24", '192.168.1/24: "192.168.1" is not an IPv4 address'],
    ["10.0.0.300", '10.0.0.300: "10.0.0.300" is not an IPv4 address'],
    ["10.0.0", '10.0.0: "10.0.0" is not an IPv4 address'],
    ["scanme", "scanme: expected an IPv4 address, a CIDR like 192.168.1.0/24, or a range like 10.0.0.5-10.0.0.40 or 10.0.0.5-40"],
    ["10.0.0.x-10.0.0.9", '10.0.0.x-10.0.0.9: "10.0.0.x" is not an IPv4 address'],
    ["10.0.0.5-300", "10.0.0.5-300: range end 300 is not 0-255"],
    ["10.0.0.5-10.0.0", '10.0.0.5-10.0.0: "10.0.0" is not an IPv4 address or a last octet 0-255'],
    ["10.0.0.5-", '10.0.0.5-: "" is not an IPv4 address or a last octet 0-255'],
    ["10.0.0.40-10.0.0.5", "10.0.0.40-10.0.0.5: range start is after its end"],
    ["10.0.0.40-5", "10.0.0.40-5: range start is after its end"],
    ["fe80::1/64", "fe80::1/64: IPv6 is not supported; give IPv4 addresses"],
    ["0.0.0.0/0", "0.0.0.0/0 is bigger than a /16 (4294967294 addresses); narrow it"],
    ["10.0.0.0-10.2.0.0", "10.0.0.0-10.2.0.0 is bigger than a /16 (131073 addresses); narrow it"],
  ])("%s", (text, message) => {
    expect(error(text)).toBe(message);
  });

  it("names the bad entry among good ones", () => {
    expect(error("192.168.1.0/24, 10.0.0.1/40, 10.0.0.2")).toBe("10.0.0.1/40: prefix length must be 0-32");
  });

  it("refuses entries whose sum exceeds the limit", () => {
    expect(error("10.1.0.0/17, 10.2.0.0/17, 10.3.0.0/24")).toBe(
      "the entries together are bigger than a /16 (65786 addresses); narrow them",
    );
    expect(ok("10.1.0.0/17, 10.2.0.0/17").total).toBe(65532);
  });

  it("honours a custom limit", () => {
    expect(error("10.0.0.0/24", 256)).toBeUndefined();
    expect(error("10.0.0.0/23", 256)).toBe("10.0.0.0/23 is bigger than a /24 (510 addresses); narrow it");
    expect(error("10.0.0.1-10.0.0.200", 100)).toBe(
      "10.0.0.1-10.0.0.200 is bigger than the limit of 100 addresses (200 addresses); narrow it",
    );
  });
});
