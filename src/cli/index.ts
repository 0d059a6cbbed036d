/** The zhtp-dht command line: dispatcher and commands. */
export { main } from './run.js';
export type { Io } from './commands.js';
export { EXIT, type ExitCode, UsageError, CommandError } from './errors.js';
export { resolveSettings, parseConfig, renderConfig, CONFIG_FILE, type ResolvedSettings } from './config.js';
export { SETTINGS, type StartSettings } from './settings.js';
