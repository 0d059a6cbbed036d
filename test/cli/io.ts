/** In-memory streams for running CLI commands in the test process. */
import { Writable } from 'node:stream';
import type { Io } from '../../src/cli/index.js';
import { main } from '../../src/cli/index.js';

/** A writable that keeps everything written to it. */
export class Collector extends Writable {
  readonly chunks: Buffer[] = [];

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    done();
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  text(): string {
    return this.bytes().toString('utf8');
  }
}

/** What a command run produced. */
export interface Run {
  code: number;
  out: Buffer;
  /** stdout as text. */
  stdout: string;
  stderr: string;
}

/** Runs `zhtp-dht ...args` in this process with `env` as its whole environment. */
export async function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const out = new Collector();
  const err = new Collector();
  const io: Io = { out, err, env };
  const code = await main(args, io);
  return { code, out: out.bytes(), stdout: out.text(), stderr: err.text() };
}
