/**
 * UDP endpoint addresses: an IP literal (v4 or v6) and a port. Hosts are always IP literals:
 * the node never resolves names on its own request path.
 */
import { isIP } from 'node:net';

/** A UDP endpoint. `host` is an IPv4 or IPv6 literal. */
export interface Address {
  readonly host: string;
  readonly port: number;
}

/** True for an integer port in 1..65535. */
export function isPort(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port > 0 && port <= 0xffff;
}

/** `host:port`, with IPv6 hosts in brackets. */
export function formatAddress(a: Address): string {
  return isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Parses `host:port` or `[v6]:port`; null when it is not an IP literal and a valid port. */
export function parseAddress(text: string): Address | null {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (m === null) return null;
  const host = m[1]!;
  const port = Number(m[2]);
  if (isIP(host) === 0 || !isPort(port)) return null;
  return { host, port };
}

/** True when both addresses name the same endpoint. */
export function sameAddress(a: Address, b: Address): boolean {
  return a.port === b.port && a.host === b.host;
}

/** 4 or 16 bytes of an IP literal, or null when it is not one. */
export function ipToBytes(host: string): Uint8Array | null {
  // Every contact on the wire goes through here: dotted quads are read without a regex.
  const v4 = dottedQuad(host);
  if (v4 !== null) return v4;
  return isIP(host) === 6 ? ipv6ToBytes(host) : null;
}

/** The 4 bytes of a dotted quad as isIP accepts it (no leading zeros, each ≤ 255), else null. */
function dottedQuad(host: string): Uint8Array | null {
  const out = new Uint8Array(4);
  let part = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i <= host.length; i++) {
    const ch = i < host.length ? host.charCodeAt(i) : 46; // a '.' after the last part
    if (ch === 46) {
      if (digits === 0 || part > 3) return null;
      out[part++] = value;
      digits = 0;
      value = 0;
    } else if (ch >= 48 && ch <= 57) {
      if (digits > 0 && value === 0) return null; // a leading zero
      value = value * 10 + ch - 48;
      if (++digits > 3 || value > 255) return null;
    } else {
      return null;
    }
  }
  return part === 4 ? out : null;
}

/** The IP literal of 4 or 16 bytes, or null for any other length. */
export function bytesToIp(bytes: Uint8Array): string | null {
  if (bytes.byteLength === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.byteLength !== 16) return null;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return compressIpv6(groups);
}

function ipv6ToBytes(host: string): Uint8Array | null {
  let text = host;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4 !== null) {
    const b = v4[1]!.split('.').map(Number);
    text = text.slice(0, v4.index) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headGroups.length - tailGroups.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return null;
  const groups = [...headGroups, ...new Array<string>(missing).fill('0'), ...tailGroups];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

function compressIpv6(groups: string[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`;
}

/**
 * The subnet a host belongs to for diversity and rate limits: its /24 for IPv4, its /48 for
 * IPv6 (discv5, go-ethereum and go-libp2p group peers this way), e.g. `"10.1.2.0/24"`.
 * IPv4-mapped IPv6 hosts count as IPv4. Null for anything that is not an IP literal.
 */
export function subnetKey(host: string): string | null {
  const bytes = ipToBytes(host);
  if (bytes === null) return null;
  const v4 = mappedIpv4(bytes);
  if (v4 !== null) return `${v4[0]}.${v4[1]}.${v4[2]}.0/24`;
  const hex = Array.from(bytes.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 4)}:${hex.slice(4, 8)}:${hex.slice(8, 12)}::/48`;
}

/** The host itself as a rate-limit key: IPv4-mapped IPv6 folded to IPv4. Null if not an IP literal. */
export function hostKey(host: string): string | null {
  const bytes = ipToBytes(host);
  if (bytes === null) return null;
  const v4 = mappedIpv4(bytes);
  return v4 !== null ? Array.from(v4).join('.') : (bytesToIp(bytes) ?? null);
}

/** True for loopback hosts: 127.0.0.0/8 and ::1 (and their IPv4-mapped forms). */
export function isLoopback(host: string): boolean {
  const bytes = ipToBytes(host);
  if (bytes === null) return false;
  const v4 = mappedIpv4(bytes);
  if (v4 !== null) return v4[0] === 127;
  return bytes.every((b, i) => b === (i === 15 ? 1 : 0));
}

/**
 * True for addresses that name no place on the public internet, whose subnets say nothing
 * about who runs a peer: private IPv4 (10/8, 172.16/12, 192.168/16), link-local (169.254/16,
 * fe80::/10), unique-local IPv6 (fc00::/7), plus loopback. BEP 42 exempts the same ranges.
 */
export function isLocalAddress(host: string): boolean {
  const bytes = ipToBytes(host);
  if (bytes === null) return false;
  const v4 = mappedIpv4(bytes);
  if (v4 !== null) {
    const [a = 0, b = 0] = v4;
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
  }
  const loopback = bytes.every((b, i) => b === (i === 15 ? 1 : 0));
  return loopback || (bytes[0]! & 0xfe) === 0xfc || (bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80);
}

/** The 4 IPv4 bytes of a 4-byte address or an IPv4-mapped IPv6 one (::ffff:a.b.c.d), else null. */
function mappedIpv4(bytes: Uint8Array): Uint8Array | null {
  if (bytes.byteLength === 4) return bytes;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return null;
  return bytes[10] === 0xff && bytes[11] === 0xff ? bytes.subarray(12) : null;
}
