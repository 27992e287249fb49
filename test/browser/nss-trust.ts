import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** NSS's certutil (Debian package libnss3-tools). */
const CERTUTIL = process.env.CERTUTIL_PATH ?? 'certutil';

/** A temporary home folder whose NSS database trusts the given CAs, for Chromium's HOME. */
export interface TrustingHome {
  readonly dir: string;
  remove(): void;
}

/**
 * Makes a temporary HOME holding `.pki/nssdb`, the NSS database Chromium on Linux reads its
 * locally trusted certificates from, and adds each of `caFiles` (PEM) to it as a CA trusted to
 * issue server certificates (`-t C,,`). With no files the database is empty: nothing beyond
 * Chromium's own root store is trusted. This is how a user trusts a private CA, so the browser
 * checks the proxy's certificate chain and host names for real: no `ignoreHTTPSErrors`, no
 * `--ignore-certificate-errors`. Throws, saying what to install, when certutil is missing.
 */
export function createTrustingHome(caFiles: readonly string[]): TrustingHome {
  const dir = mkdtempSync(join(tmpdir(), 'chromium-home-'));
  const nssdb = join(dir, '.pki', 'nssdb');
  mkdirSync(nssdb, { recursive: true });
  try {
    certutil(['-N', '-d', `sql:${nssdb}`, '--empty-password']);
    for (const caFile of caFiles) {
      // The nickname only labels the entry; the folder name tells the run's CAs apart.
      const nickname = `${basename(join(caFile, '..'))} ${basename(caFile)}`;
      certutil(['-A', '-d', `sql:${nssdb}`, '-n', nickname, '-t', 'C,,', '-i', caFile]);
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function certutil(args: readonly string[]): void {
  try {
    execFileSync(CERTUTIL, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const error = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (error.code === 'ENOENT') {
      throw new Error(
        `${CERTUTIL} is missing: the browser suite over https trusts its CA through NSS ` +
          '(apt-get install libnss3-tools, or set CERTUTIL_PATH); .ci/run installs it',
      );
    }
    throw new Error(`certutil ${args.join(' ')} failed: ${error.stderr?.toString() ?? error.message}`);
  }
}
