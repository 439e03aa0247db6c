import { type ParseArgsConfig, parseArgs } from 'node:util';

/** One CLI command: its name, a one-line summary, its help text and the function that runs it. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** A wrong flag or value: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type FlagOptions = NonNullable<ParseArgsConfig['options']>;

/**
 * A command's flags: node:util parseArgs, strict and without positionals (every command takes flags only). An
 * unknown flag or a missing value becomes a UsageError, so it is printed with the command's usage, not as a crash.
 */
export function parseFlags<T extends FlagOptions>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
