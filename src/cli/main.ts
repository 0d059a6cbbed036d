#!/usr/bin/env node
/** Entry point of the zhtp-dht binary: runs the CLI and exits with its code. */
import { main } from './run.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
