import { MAX_PASSWORD_LENGTH } from '../contract/passwordReset';
import { CliError } from './errors';
import { secretFromFile, secretFromStdin } from './secretInput';

/**
 * Where `password reset` gets the new password: never from the command line (argv is visible to every user of
 * the host and lands in shell histories), but from a file, from standard input, or typed at a prompt that does
 * not echo.
 */

function checked(password: string, source: string): string {
  if (password === '') throw new CliError(`No password in ${source}: it is empty`, 2);
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new CliError(`The password in ${source} is longer than ${MAX_PASSWORD_LENGTH} characters`, 2);
  }
  return password;
}

export async function passwordFromFile(file: string): Promise<string> {
  return checked(await secretFromFile(file, 'the password file'), `the file ${file}`);
}

export async function passwordFromStdin(stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  // A UTF-8 character takes up to 4 bytes; the bound is checked again in characters.
  return checked(await secretFromStdin(MAX_PASSWORD_LENGTH * 4 + 2, 'The password', stdin), 'standard input');
}

/** Reads one line from a terminal without echoing it; Ctrl-C aborts (exit 130). */
function hiddenLine(question: string, stdin: NodeJS.ReadStream): Promise<string> {
  return new Promise((resolve, reject) => {
    process.stderr.write(question);
    let typed = '';
    const finish = (outcome: () => void) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      outcome();
    };
    const onData = (data: Buffer | string) => {
      for (const char of String(data)) {
        if (char === '\u0003')
          return finish(() => reject(new CliError('Interrupted; nothing was sent', 130)));
        if (char === '\r' || char === '\n' || char === '\u0004') return finish(() => resolve(typed));
        if (char === '\u007f' || char === '\b') typed = [...typed].slice(0, -1).join('');
        else if (typed.length <= MAX_PASSWORD_LENGTH) typed += char;
      }
      return undefined;
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    stdin.on('data', onData);
  });
}

/** Asks twice at the terminal, without echo; the two must match. */
export async function passwordFromPrompt(stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  const first = checked(await hiddenLine('New password: ', stdin), 'the prompt');
  const again = await hiddenLine('Repeat the new password: ', stdin);
  if (again !== first) throw new CliError('The two passwords differ; nothing was sent', 2);
  return first;
}
