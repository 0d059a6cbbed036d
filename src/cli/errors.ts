/**
 * Exit codes of the zhtp-dht command and the errors that carry them. Scripts branch on the code:
 * 2 means fix the command line, 3 start the node (or fix --api), 4 fix the token.
 */

/** Every exit code the command returns. */
export const EXIT = {
  ok: 0,
  /** The operation failed: an API error, content not found, a file that cannot be written. */
  failed: 1,
  /** A bad command line, environment variable or config file value. */
  usage: 2,
  /** The API could not be reached: the node is not running, or --api names the wrong place. */
  unreachable: 3,
  /** The API refused the token. */
  unauthorized: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A command-line mistake: exit code 2 with a one-line message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure with its exit code and the one line to print (`error: …`). */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(readonly exitCode: ExitCode, message: string) {
    super(message);
  }

  /** The API answered with an error document `{code, message}`. */
  static api(code: string, message: string): CommandError {
    return new CommandError(EXIT.failed, `${code}: ${message}`);
  }
}
