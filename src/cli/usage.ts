/** The help text: one section per command, all of them for `zhtp-dht help`. */
import { DEFAULT_API_URL } from './client.js';
import { settingsHelp } from './settings.js';

const CLIENT = `  --api URL                  the node's API (default ${DEFAULT_API_URL}, env ZHTP_API)
  --data DIR                 the node's data folder, holding its api-token (env ZHTP_DATA)
  --token T                  the API token (env ZHTP_TOKEN; default: read DIR/api-token)
  --json                     print the API's JSON document as it came, for scripts
`;

/** Help of each command, by name. */
export const COMMAND_HELP: Record<string, string> = {
  start: `zhtp-dht start [options]
  Runs a node and its HTTP API until SIGINT or SIGTERM. Each option can also be set by the
  environment variable named after it, or as \`name = value\` in a config file; the command line
  wins over the environment, which wins over the file.
${settingsHelp()}  --config FILE              config file
                             default DIR/zhtp-dht.conf if it exists, env ZHTP_CONFIG
  --verbose                  same as --log-level debug
`,
  init: `zhtp-dht init [--data DIR] [--config FILE] [--force]
  Writes a commented config file listing every setting of start with its default: FILE, or
  DIR/zhtp-dht.conf. An existing file is kept unless --force.
`,
  stats: `zhtp-dht stats [client options]
  The node's identity and figures: network size, connections, traffic, storage, lookups.
`,
  peers: `zhtp-dht peers [client options]
  The contacts in the node's routing table.
`,
  routing: `zhtp-dht routing [client options]
  The node's k-buckets: contacts and replacements per bucket.
`,
  health: `zhtp-dht health [client options]
  Whether the node runs and has contacts (/readyz); exits 0 when ready, 1 when not. Needs no token.
`,
  put: `zhtp-dht put FILE [--replicas N] [--ttl SECONDS] [client options]
  Streams FILE to the node, which stores it (in 256 KiB chunks when larger); prints its key.
zhtp-dht put FILE --bootstrap HOST:PORT
  Stores FILE (256 KiB at most) through a short-lived client node; no running node needed.
`,
  get: `zhtp-dht get KEY [-o FILE] [client options]
  Streams the content under KEY into FILE (replaced only when complete) or to stdout.
  With --json (and -o) prints {key, size, file, durationMs}.
zhtp-dht get KEY --bootstrap HOST:PORT [-o FILE]
  Fetches through a short-lived client node instead.
`,
  zk: `zhtp-dht zk put FILE [--access A] [--name TEXT] [--reader KEY]... [--nonce N] [--ttl S] [--replicas N] [client options]
  Encrypts FILE (64 KiB at most) as the node's ZkDhtValue, proves it and stores it; prints its key.
  A: public, private (default: only the node's owner secrets open it) or restricted (also each
  --reader: an ML-KEM-768 public key in hex, or @FILE holding one). Default nonce: one above the
  stored one.
zhtp-dht zk put --value VALUEFILE [--ttl S] [--replicas N] [client options]
  Stores a value made by zk prove, after checking it as a holder would.
zhtp-dht zk get KEY [-o FILE] [--sealed] [client options]
  The newest value under KEY whose proof verifies, decrypted with the node's keys, to FILE or
  stdout; --sealed verifies without decrypting and prints the value's fields.
zhtp-dht zk prove FILE --owner KEYFILE -o VALUEFILE [--access A] [--name TEXT] [--reader KEY]... [--nonce N]
  Offline: encrypts and proves FILE as the owner in KEYFILE (created when missing, mode 0600) and
  writes the value to VALUEFILE; prints its key. Default nonce: the time in ms.
zhtp-dht zk verify VALUEFILE [--key KEY] [--json]
  Offline: the checks a storage node makes (limits, key from commitment, proof); exit 0 when it
  passes them, 1 with the refusal code when not.
`,
  contract: `zhtp-dht contract deploy FILE.wasm --name N --version V [--tags A,B] [--abi FILE] [--ttl S] [--replicas N] [client options]
zhtp-dht contract deploy counter|token|registry [--name N] [--version V] [--tags A,B]
  Validates and meters the module on the node, then publishes it as the node: the wasm under
  its code hash, the signed manifest (name, version, tags, ABI), an entry under each tag. --abi
  is a JSON file of methods ({name, inputs, outputs, readonly}) or an example's name; an example
  brings its own ABI and tags, name = the example's, version 1.0.0.
zhtp-dht contract find TAG [--limit N] [client options]
  The manifests listed under TAG whose signatures verify; bad listings are dropped and counted.
zhtp-dht contract info KEY | NAME [--owner PUBLIC_KEY|@FILE] [client options]
  One verified manifest and its ABI, by manifest KEY (from find or deploy) or by NAME (of the
  node itself, or of the ML-DSA-65 public key given in hex).
zhtp-dht contract create CODEHASH [--salt TEXT] [client options]
  Creates an instance of the code (fetched from the DHT and metered on the node when missing)
  and installs it at its holders, the r closest nodes to its id; prints the instance id.
zhtp-dht contract call|query INSTANCE METHOD ['[ARGS]' --types T,...] [--returns T,...] [--gas N] [client options]
  Runs a method at the instance's holders as the node: call is signed with the node's key and
  executed by the primary (the closest live holder), which replicates it to the others; query
  applies nothing. ARGS is a JSON array encoded as the types (u32, u64, address, bytes, string;
  bytes as "0x…" hex or text); --returns decodes the return data. Prints the receipt (and a
  call's id); exits 1 unless its status is ok.
zhtp-dht contract receipt CALLID [--instance INSTANCE] [--returns T,...] [client options]
  The receipt kept under a call id: the node's copy, else (with --instance) a holder's.
  Exits 1 unless its status is ok (or when no holder keeps it).
`,
  testnet: `zhtp-dht testnet [--nodes N] [--base-port P]
  Runs N nodes (default 10) on 127.0.0.1 until interrupted.
`,
  demo: `zhtp-dht demo
  Starts 20 loopback nodes, stores and fetches a few values, prints a report.
`,
  help: `zhtp-dht help [COMMAND]
  This text, or the help of one command (also: zhtp-dht COMMAND --help).
`,
};

/** Everything: commands, client options, exit codes. */
export function fullHelp(): string {
  return `usage: zhtp-dht <command> [options]

Run a node:
${indent(COMMAND_HELP.start!)}${indent(COMMAND_HELP.init!)}
Talk to a running node through its API:
${['stats', 'peers', 'routing', 'health', 'put', 'get', 'zk', 'contract'].map((c) => indent(COMMAND_HELP[c]!)).join('')}
  client options:
${indent(CLIENT)}
Without a running node:
${['testnet', 'demo', 'help'].map((c) => indent(COMMAND_HELP[c]!)).join('')}
Exit codes: 0 done; 1 the operation failed; 2 usage error; 3 the API cannot be reached;
4 the API refused the token. Full reference: docs/cli.md.
`;
}

/** One command's help, with the client options where they apply. */
export function commandHelp(name: string): string | null {
  const text = COMMAND_HELP[name];
  if (text === undefined) return null;
  const client = ['stats', 'peers', 'routing', 'health', 'put', 'get', 'zk', 'contract'].includes(name);
  return client ? `${text}\nclient options:\n${CLIENT}` : text;
}

function indent(text: string): string {
  return text.split('\n').map((l) => (l === '' ? l : `  ${l}`)).join('\n');
}
