/**
 * The example contracts of assembly/contracts (counter, token, registry), compiled by
 * `npm run build` into dist/contracts/<name>.wasm, with their ABI descriptions for manifests.
 */
import { readFileSync } from 'node:fs';
import type { AbiMethod } from './manifest.js';
import { builtFile } from './paths.js';

/** The names of the example contracts. */
export type ExampleContract = 'counter' | 'token' | 'registry';

const u64 = (name: string) => ({ name, type: 'u64' as const });
const address = (name: string) => ({ name, type: 'address' as const });
const bytes = (name: string) => ({ name, type: 'bytes' as const });
const method = (name: string, inputs: AbiMethod['inputs'], outputs: AbiMethod['outputs'], readonly = false): AbiMethod => ({ name, inputs, outputs, readonly });

/** The ABI of each example, as its source documents it. */
export const EXAMPLE_CONTRACTS: Readonly<Record<ExampleContract, { tags: string[]; abi: AbiMethod[] }>> = {
  counter: {
    tags: ['example', 'counter'],
    abi: [method('increment', [], [u64('value')]), method('get', [], [u64('value')], true)],
  },
  token: {
    tags: ['example', 'token', 'fungible'],
    abi: [
      method('init', [u64('supply')], []),
      method('totalSupply', [], [u64('supply')], true),
      method('balanceOf', [address('owner')], [u64('balance')], true),
      method('transfer', [address('to'), u64('amount')], []),
      method('approve', [address('spender'), u64('amount')], []),
      method('allowance', [address('owner'), address('spender')], [u64('amount')], true),
      method('transferFrom', [address('from'), address('to'), u64('amount')], []),
    ],
  },
  registry: {
    tags: ['example', 'names'],
    abi: [
      method('register', [bytes('name'), bytes('target')], []),
      method('resolve', [bytes('name')], [address('owner'), bytes('target')], true),
      method('transfer', [bytes('name'), address('newOwner')], []),
    ],
  },
};

/** The compiled wasm of an example: dist/contracts/<name>.wasm of this package. */
export function exampleContract(name: ExampleContract): Uint8Array {
  if (!Object.hasOwn(EXAMPLE_CONTRACTS, name)) throw new RangeError(`no example contract ${String(name)}`);
  return new Uint8Array(readFileSync(builtFile('contracts', `${name}.wasm`)));
}
