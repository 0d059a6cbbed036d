/** The zhtp-dht command line: dispatcher and commands. */
export { main } from './run.js';
export type { Io } from './commands.js';
