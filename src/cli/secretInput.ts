import { readFile } from 'node:fs/promises';
import { messageOf } from '../client/session';
import { CliError } from './errors';

/**
 * Secrets a command reads (a new password, a value to encrypt) come from a file or standard input, never from the
 * command line: argv is visible to every user of the host and lands in shell histories.
 */

/** One trailing line break is the file's or the pipe's, not the secret's. */
function withoutLineBreak(text: string): string {
  return text.replace(/\r?\n$/, '');
}

/** The file's text without its trailing line break; an unreadable file names the option and the reason. */
export async function secretFromFile(file: string, what: string): Promise<string> {
  try {
    return withoutLineBreak(await readFile(file, 'utf8'));
  } catch (error) {
    // The path and the reason only: the error of a read that failed has no content.
    throw new CliError(`Cannot read ${what} ${file}: ${messageOf(error)}`, 2);
  }
}

/** Standard input without its trailing line break, at most `maxBytes` (a secret, not a file piped by mistake). */
export async function secretFromStdin(
  maxBytes: number,
  what: string,
  stdin: NodeJS.ReadStream = process.stdin,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > maxBytes) throw new CliError(`${what} on standard input is longer than ${maxBytes} bytes`, 2);
    chunks.push(buffer);
  }
  return withoutLineBreak(Buffer.concat(chunks).toString('utf8'));
}
