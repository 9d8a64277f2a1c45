import { BlockList, isIP } from "node:net";

/** What PACKR_TRUST_PROXY=true (deprecated) means now: a proxy on this machine. */
export const LOOPBACK_PROXIES = ["127.0.0.0/8", "::1"];

/** `::ffff:10.0.0.1` → `10.0.0.1`, `1.2.3.4:5678` → `1.2.3.4`, `[::1]:80` → `::1`; else as given. */
export function normalizeAddress(raw: string): string {
  let a = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracketed?.[1]) a = bracketed[1];
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(a);
  if (v4WithPort?.[1]) a = v4WithPort[1];
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(a);
  if (mapped?.[1]) a = mapped[1];
  return a.toLowerCase();
}

/**
 * Parse a PACKR_TRUSTED_PROXIES entry (`10.0.0.1`, `10.0.0.0/8`, `fd00::/8`); null when it is
 * neither an address nor a CIDR block.
 */
export function parseProxyEntry(
  entry: string,
): { address: string; prefix: number; family: "ipv4" | "ipv6" } | null {
  const [addr = "", bits, extra] = entry.trim().split("/");
  if (extra !== undefined) return null;
  const address = normalizeAddress(addr);
  const version = isIP(address);
  if (version === 0) return null;
  const max = version === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return null;
  return { address, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

export type ProxyTrust = (address: string) => boolean;

/** A predicate for "this peer is one of our proxies" over PACKR_TRUSTED_PROXIES entries. */
export function proxyTrust(entries: readonly string[]): ProxyTrust {
  if (entries.length === 0) return () => false;
  const list = new BlockList();
  for (const entry of entries) {
    const parsed = parseProxyEntry(entry);
    if (!parsed) throw new Error(`"${entry}" is not an IP address or CIDR block`);
    list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return (address) => {
    const a = normalizeAddress(address);
    const version = isIP(a);
    return version !== 0 && list.check(a, version === 4 ? "ipv4" : "ipv6");
  };
}

/**
 * The caller's address for rate limits and audit. The socket's peer, unless the peer is a trusted
 * proxy: then X-Forwarded-For is walked from the right (each proxy appends the address it saw),
 * skipping trusted hops, and the first untrusted hop is the client. Everything left of it was
 * written by the client and is never believed; an unparsable hop stops the walk at the last
 * address known good. With no trusted proxies (the default) the header is ignored.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | undefined,
  trusted: ProxyTrust,
): string | undefined {
  if (peer === undefined) return undefined;
  let current = normalizeAddress(peer);
  if (!trusted(current) || !forwardedFor) return current;
  const hops = forwardedFor.split(",").map(normalizeAddress).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as string;
    if (isIP(hop) === 0) return current;
    current = hop;
    if (!trusted(hop)) return hop;
  }
  // Every hop is one of our proxies: the leftmost is as far as anyone trustworthy saw.
  return current;
}
