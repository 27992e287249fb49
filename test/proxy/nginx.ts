import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, tempDir } from '@jwt-handoff/testkit';

/** The nginx configuration that docs/deployment.md shows, filled in by the tests. */
export const NGINX_TEMPLATE = fileURLToPath(
  new URL('../../deploy/nginx/jwt-handoff.conf.template', import.meta.url),
);

/** deploy/nginx's test-only snippet: an `X-Upstream-Addr` response header naming the replica that answered. */
export const UPSTREAM_HEADER_SNIPPET = fileURLToPath(
  new URL('../../deploy/nginx/upstream-header.conf', import.meta.url),
);

/** A service's two replicas, `host:port` each, in the template's two upstream slots (one may be listed twice). */
export type ReplicaPair = readonly [string, string];

/** The deployment deploy/nginx's template describes, which {@link startNginx} fills it in with. */
export interface NginxSite {
  /** The public host names, both served on {@link NginxSite.httpsPort} with one certificate. */
  readonly hosts: { readonly server1: string; readonly server2: string };
  readonly httpsPort: number;
  /** The plain-http port, which only redirects to https; default a free port. */
  readonly httpPort?: number;
  /** nginx's certificate (PEM files), issued for both host names. */
  readonly certificate: { readonly certFile: string; readonly keyFile: string };
  /** Where nginx sends each host's requests, round-robin. */
  readonly replicas: { readonly server1: ReplicaPair; readonly server2: ReplicaPair };
}

/** Options of {@link startNginx}. */
export interface NginxOptions {
  /** More http-level configuration files to include beside the site, e.g. {@link UPSTREAM_HEADER_SNIPPET}. */
  readonly include?: readonly string[];
}

const NGINX_BINARIES = ['/usr/sbin/nginx', 'nginx'];

/** A running nginx, started by {@link startNginx}. */
export interface RunningNginx {
  /** Its prefix folder: configuration, logs, pid file, temp files. */
  readonly dir: string;
  /** The access log's lines so far, each `host upstream_addr status remote_addr` (see {@link startNginx}). */
  accessLog(): string[];
  /** Stops it (SIGQUIT: finish the requests in flight) and deletes its folder. */
  stop(): Promise<void>;
}

/**
 * Fills in the `${NAME}` placeholders of `template` from `values` (outside comments); a placeholder without a value
 * throws, so a template and its users cannot drift apart unnoticed.
 */
export function renderTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template
    .split('\n')
    .map((line) =>
      // Comments name the placeholders too; they are left as they are.
      line.trimStart().startsWith('#')
        ? line
        : line.replace(/\$\{([A-Z0-9_]+)\}/g, (_match, name: string) => {
            const value = values[name];
            if (value === undefined) throw new Error(`the nginx template needs a value for \${${name}}`);
            return value;
          }),
    )
    .join('\n');
}

/** `site` as the template's placeholders (the ones deploy/images/nginx/entrypoint.sh reads from its environment). */
async function templateValues(site: NginxSite): Promise<Record<string, string>> {
  return {
    SERVER1_HOST: site.hosts.server1,
    SERVER2_HOST: site.hosts.server2,
    HTTPS_PORT: String(site.httpsPort),
    HTTP_PORT: String(site.httpPort ?? (await freePort())),
    TLS_CERT_FILE: site.certificate.certFile,
    TLS_KEY_FILE: site.certificate.keyFile,
    SERVER1_REPLICA_1: site.replicas.server1[0],
    SERVER1_REPLICA_2: site.replicas.server1[1],
    SERVER2_REPLICA_1: site.replicas.server2[0],
    SERVER2_REPLICA_2: site.replicas.server2[1],
  };
}

/**
 * Starts nginx in the foreground as a child process, with everything in a new temporary prefix
 * folder (pid file, error and access logs, temp files), so that it needs neither root nor
 * /etc/nginx. The site configuration is deploy/nginx's template filled in for `site`; the
 * access log records which replica answered each request. Throws, saying what to install, when
 * nginx is missing; resolves once `site.httpsPort` accepts connections.
 */
export async function startNginx(site: NginxSite, options: NginxOptions = {}): Promise<RunningNginx> {
  const binary = findNginx();
  const dir = tempDir('nginx');
  // nginx's workers run as `nobody` when started by root: they must reach their temp folders.
  chmodSync(dir, 0o755);
  const siteConf = renderTemplate(readFileSync(NGINX_TEMPLATE, 'utf8'), await templateValues(site));
  writeFileSync(join(dir, 'jwt-handoff.conf'), siteConf);
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      'worker_processes 1;',
      'daemon off;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log warn;`,
      'events { worker_connections 256; }',
      'http {',
      "  log_format upstreams '$host $upstream_addr $status $remote_addr';",
      `  access_log ${dir}/access.log upstreams;`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
        (kind) => `  ${kind}_temp_path ${dir}/${kind}_temp;`,
      ),
      ...(options.include ?? []).map((file) => `  include ${file};`),
      `  include ${dir}/jwt-handoff.conf;`,
      '}',
      '',
    ].join('\n'),
  );
  // -e: the error log before the configuration is read, which is otherwise /var/log/nginx.
  const args = ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')];
  try {
    execFileSync(binary, [...args, '-t'], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(
      `nginx -t refused the configuration:\n${(err as { stderr?: Buffer }).stderr}\n${siteConf}`,
    );
  }
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const running: RunningNginx = {
    dir,
    accessLog: () => readLines(join(dir, 'access.log')),
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitForPort(
      site.httpsPort,
      child,
      () => `${output}${readLines(join(dir, 'error.log')).join('\n')}`,
    );
  } catch (err) {
    await running.stop();
    throw err;
  }
  return running;
}

function findNginx(): string {
  for (const candidate of NGINX_BINARIES) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error(
    'nginx is not installed: the proxy suite, the browser suite over https and the topology suite ' +
      'need it (apt-get install nginx-light); .ci/run installs it',
  );
}

function readLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}):\n${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nginx did not listen on ${port} within 10 s:\n${output()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGQUIT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
