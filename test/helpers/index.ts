/**
 * Test harness: real nodes on 127.0.0.1 with temporary LMDB folders (re-exported from the
 * package as `zhtp-dht/testnet`). Every test that creates a testnet destroys it.
 */
export { createTestnet, type Testnet, type TestnetOptions } from '../../src/node/index.js';
