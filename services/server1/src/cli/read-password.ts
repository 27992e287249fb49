/**
 * Reads a password for a command line tool, never from its arguments (they show in `ps` and in
 * shell history): from the environment variable `envName` when given, else from standard input.
 * A terminal gets a prompt and no echo; piped input is read to its end, less one final newline
 * (`printf '%s\n' "$PASSWORD" | …` and `… < file` both work).
 */
export async function readPassword(envName: string | undefined, prompt: string): Promise<string> {
  if (envName !== undefined) {
    const value = process.env[envName];
    if (value === undefined) throw new PasswordInputError(`the environment variable ${envName} is not set`);
    return value;
  }
  return process.stdin.isTTY ? readFromTerminal(prompt) : readPiped();
}

/** The password could not be read (a missing variable, an interrupted prompt). */
export class PasswordInputError extends Error {}

async function readPiped(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function readFromTerminal(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (text: string) => {
      for (const char of text) {
        if (char === '\r' || char === '\n') return finish();
        if (char === '\u0003' || char === '\u0004')
          return finish(new PasswordInputError('no password given'));
        if (char === '\u007f' || char === '\b') typed = [...typed].slice(0, -1).join('');
        else typed += char;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}
