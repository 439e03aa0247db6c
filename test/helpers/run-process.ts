import { type ExecFileOptions, execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface ProcessResult {
  /** Exit code (0 when it exited cleanly). */
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end and returns its exit code and output, a failing exit included — the CLI tests assert on
 * the code and the message of the failures as much as on the successes.
 */
export async function runProcess(
  file: string,
  args: string[],
  options: ExecFileOptions = {},
): Promise<ProcessResult> {
  try {
    const r = await execFileAsync(file, args, { ...options, encoding: 'utf8' });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (error) {
    const e = error as ProcessResult;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
