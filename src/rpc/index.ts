/** Request/response over a transport: transaction ids, timeouts, retries, counters. */
export * from './rpc.js';
export * from './counters.js';
