/**
 * The node's identity for now: a random 32-byte id kept in `<dataDir>/node-id` (hex, mode 0600),
 * so a restarted node keeps its place in the key space. The crypto engine replaces this with an
 * ML-DSA key pair whose BLAKE3 hash is the id.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type NodeId, ID_BYTES, idFromHex, idToHex } from '../id/index.js';
import type { Random } from '../util/index.js';

const FILE = 'node-id';

/** Reads the id from `dataDir`, creating it on first start. */
export function loadOrCreateNodeId(dataDir: string, random: Random): NodeId {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, FILE);
  let text: string | null = null;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== null) {
    const id = idFromHex(text);
    if (id === null) throw new Error(`${path} does not hold a 64-hex-digit node id`);
    return id;
  }
  const id = random.bytes(ID_BYTES) as NodeId;
  writeFileSync(path, `${idToHex(id)}\n`, { mode: 0o600, flag: 'wx' });
  return id;
}
