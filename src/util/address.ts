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
  const family = isIP(host);
  if (family === 4) {
    const parts = host.split('.').map(Number);
    return Uint8Array.from(parts);
  }
  if (family === 6) return ipv6ToBytes(host);
  return null;
}

/** The IP literal of 4 or 16 bytes, or null for any other length. */
export function bytesToIp(bytes: Uint8Array): string | null {
  if (bytes.byteLength === 4) return Array.from(bytes).join('.');
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
