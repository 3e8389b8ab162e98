/**
 * Which peer addresses may speak for a UITD on the GB/T 26875.3 gateway (issue #12 item 7).
 *
 * GB/T 26875.3 has no authentication: a frame names its sender only by the 6-byte source address
 * in its header (docs/standards.md §1.2), so anyone who can reach the port and knows an address could
 * raise a fire alarm for it. The TCP peer address is the only other thing the gateway sees; an
 * allow-list ties each UITD to the networks it really sends from (its carrier APN, the VPN subnet).
 * It is no substitute for a VPN or TLS tunnel (docs/gb26875-gateway.md, "Security").
 *
 * Patterns are single addresses (`10.9.9.5`, `fd00::5`) or CIDR blocks (`10.9.9.0/24`, `fd00::/8`),
 * checked with node:net BlockList. IPv4-mapped IPv6 is handled both ways: a peer seen as
 * `::ffff:10.9.9.5` (a dual-stack listener) matches `10.9.9.0/24`, and `::ffff:10.9.9.0/120`
 * matches the peer `10.9.9.5`.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** Entries per list: a UITD sends from a handful of networks, not hundreds. */
export const MAX_ALLOWED_PEERS = 64;
/** Longest pattern text (a full IPv6 address with an embedded IPv4 and a prefix is 49 characters). */
export const MAX_PEER_PATTERN_LENGTH = 64;

export type PeerPattern = { family: 'ipv4' | 'ipv6'; address: string; prefix?: number };
export type PeerPatternResult = ({ ok: true } & PeerPattern) | { ok: false; detail: string };

/** Parse one allow-list entry; bad input is a value. */
export function parsePeerPattern(text: string): PeerPatternResult {
  const t = text.trim();
  if (t.length === 0 || t.length > MAX_PEER_PATTERN_LENGTH) return { ok: false, detail: `"${t.slice(0, 20)}" is not an IP address or CIDR block` };
  const slash = t.indexOf('/');
  const address = slash === -1 ? t : t.slice(0, slash);
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) && !address.includes('%') ? 'ipv6' : undefined;
  if (family === undefined) return { ok: false, detail: `"${t}" is not an IP address or CIDR block (e.g. 10.9.9.0/24, fd00::/8)` };
  if (slash === -1) return { ok: true, family, address };
  const prefixText = t.slice(slash + 1);
  const max = family === 'ipv4' ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return { ok: false, detail: `"${t}": the prefix length must be 0–${max}` };
  return { ok: true, family, address, prefix: Number(prefixText) };
}

/** The first problem of a list, or undefined when every entry parses. */
export function peerListProblem(patterns: readonly string[]): string | undefined {
  if (patterns.length > MAX_ALLOWED_PEERS) return `at most ${MAX_ALLOWED_PEERS} entries`;
  for (const p of patterns) {
    const r = parsePeerPattern(p);
    if (!r.ok) return r.detail;
  }
  return undefined;
}

export class PeerAllowList {
  private readonly list = new BlockList();

  /** Throws RangeError on an entry that does not parse (validate with peerListProblem first). */
  constructor(readonly patterns: readonly string[]) {
    for (const p of patterns) {
      const r = parsePeerPattern(p);
      if (!r.ok) throw new RangeError(r.detail);
      if (r.prefix === undefined) this.list.addAddress(r.address, r.family);
      else this.list.addSubnet(r.address, r.prefix, r.family);
    }
  }

  /** Whether the peer (a socket's remoteAddress) is on the list; an unknown or odd peer is not. */
  allows(peer: string | undefined): boolean {
    if (peer === undefined) return false;
    const ip = peer.split('%')[0] ?? ''; // drop an IPv6 zone index (fe80::1%eth0)
    if (isIPv4(ip)) return this.list.check(ip, 'ipv4');
    if (isIPv6(ip)) return this.list.check(ip, 'ipv6');
    return false;
  }
}
