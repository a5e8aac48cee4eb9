/**
 * Keeps webhooks from being turned against the network the service runs
 * in: a target whose host is, or resolves to, a loopback, private,
 * link-local, shared or unspecified address is refused unless
 * `WEBHOOK_ALLOW_PRIVATE=true`. Checked when a target is given, again
 * before each attempt (a name may resolve elsewhere later), and by the
 * attempt's connection itself ({@link guardedLookup}): it connects to the
 * addresses it checked, not to what a second lookup answers (DNS rebinding).
 *
 * @module
 */
import { lookup } from "node:dns/promises";
import { isIP, type LookupFunction } from "node:net";

/** IPv4 ranges refused: [first octets as a number, prefix length, name]. */
const V4_BLOCKED: [string, number][] = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
];

function v4Number(address: string): number {
  return address.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

function inV4Range(address: string, [base, bits]: [string, number]): boolean {
  const size = 2 ** (32 - bits);
  return Math.floor(v4Number(address) / size) === Math.floor(v4Number(base) / size);
}

/** The 8 groups of an IPv6 address as numbers (an embedded IPv4 tail becomes two groups). */
function v6Groups(address: string): number[] {
  let text = address.toLowerCase().replace(/%.*$/, "");
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4Tail) {
    const n = v4Number(v4Tail[1]);
    text = text.slice(0, -v4Tail[1].length) +
      `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, null];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const middle = tail === null ? [] : Array(8 - left.length - right.length).fill("0");
  return [...left, ...middle, ...right].map((g) => parseInt(g || "0", 16));
}

/**
 * True when `address` (an IP literal) is one webhooks may not reach by
 * default: loopback, private, link-local, unique-local, shared (CGNAT),
 * multicast, reserved or unspecified, in IPv4 or IPv6 (IPv4-mapped too).
 */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return V4_BLOCKED.some((range) => inV4Range(address, range));
  if (family !== 6) return true; // not an address at all: never reached
  const g = v6Groups(address);
  if (g.every((x) => x === 0)) return true; // ::
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return true; // ::1
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) {
    // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible): the IPv4 address decides.
    const v4 = `${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`;
    return isPrivateAddress(v4);
  }
  if ((g[0] & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local
  if ((g[0] & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((g[0] & 0xffc0) === 0xfec0) return true; // fec0::/10 site-local (deprecated)
  if ((g[0] & 0xff00) === 0xff00) return true; // ff00::/8 multicast
  if (g[0] === 0x64 && g[1] === 0xff9b) { // 64:ff9b::/96 NAT64 of an IPv4 address
    return isPrivateAddress(`${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`);
  }
  return false;
}

/** Resolves a host name to its addresses (as a connection would: the system resolver). */
export type Resolve = (host: string) => Promise<string[]>;

/** The system resolver (`getaddrinfo`, so `/etc/hosts` counts). */
export const systemResolve: Resolve = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

/**
 * What is wrong with sending to `url` from here: a private address, or a
 * host that does not resolve; null when it may be reached.
 */
export async function targetProblem(
  url: string,
  resolve: Resolve = systemResolve,
): Promise<string | null> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await resolve(host);
    } catch {
      return `its host ${host} does not resolve; check the name`;
    }
    if (addresses.length === 0) return `its host ${host} does not resolve; check the name`;
  }
  const blocked = addresses.find(isPrivateAddress);
  return blocked === undefined ? null : privateProblem(host);
}

/**
 * Why `host` is refused, in words. A name's addresses are not named: the
 * caller may not know the network the service runs in, and the answer
 * should not map it for them (an address given as such is named).
 */
function privateProblem(host: string): string {
  const what = isIP(host) ? `${host} is` : `its host ${host} resolves to`;
  return `${what} a loopback, private or link-local address; webhooks go to public addresses only unless the service runs with WEBHOOK_ALLOW_PRIVATE=true`;
}

/** A connection refused by {@link guardedLookup}: its message says why, as {@link targetProblem} does. */
export class RefusedAddress extends Error {}

/**
 * The `lookup` of an attempt's connection: resolves the host once with
 * `resolve`, refuses it (a {@link RefusedAddress}) when any address is
 * private, and else connects to those very addresses.
 */
export function guardedLookup(resolve: Resolve = systemResolve): LookupFunction {
  return ((host: string, options: { all?: boolean }, callback: LookupCallback) => {
    const refuse = (why: string) => callback(new RefusedAddress(why), "", 0);
    (isIP(host) ? Promise.resolve([host]) : resolve(host)).then((addresses) => {
      if (addresses.length === 0) {
        return refuse(`its host ${host} does not resolve; check the name`);
      }
      const blocked = addresses.find(isPrivateAddress);
      if (blocked !== undefined) return refuse(privateProblem(host));
      if (options.all) {
        callback(null, addresses.map((address) => ({ address, family: isIP(address) })));
      } else callback(null, addresses[0], isIP(addresses[0]));
    }, () => refuse(`its host ${host} does not resolve; check the name`));
  }) as unknown as LookupFunction;
}

type LookupCallback = (
  error: Error | null,
  address: string | { address: string; family: number }[],
  family?: number,
) => void;
