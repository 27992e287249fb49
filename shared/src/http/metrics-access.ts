import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';

/** The shortest `METRICS_TOKEN` accepted, in characters. */
export const METRICS_TOKEN_MIN_LENGTH = 32;

/** What is wrong with a `METRICS_TOKEN` value, or undefined when it will do. */
export function metricsTokenProblem(token: string): string | undefined {
  if (token.length < METRICS_TOKEN_MIN_LENGTH || !/^[\x21-\x7e]+$/.test(token))
    return `must be at least ${METRICS_TOKEN_MIN_LENGTH} visible ASCII characters without spaces (e.g. \`openssl rand -hex 32\`)`;
  return undefined;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Whether `address` is a loopback address: 127.0.0.0/8, ::1, or 127.x written as IPv4-mapped IPv6. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

// Headers by which a proxy names the client it forwards for. Any of them on a request from a
// loopback peer means the peer is a proxy on this host, and the client is someone else.
const CLIENT_HEADERS = ['x-forwarded-for', 'x-real-ip', 'true-client-ip', 'cf-connecting-ip'] as const;

/**
 * The client addresses a request's forwarding headers name (`Forwarded: for=…`,
 * `X-Forwarded-For` and the like), stripped of quotes, brackets and ports; an entry that is not
 * an address (`unknown`, an obfuscated `_node`) is kept as it is, and is not loopback.
 */
export function forwardedClients(headers: FastifyRequest['headers']): string[] {
  const entries: string[] = [];
  const values = (name: string): string[] => [headers[name] ?? []].flat().map(String);
  for (const name of CLIENT_HEADERS) {
    for (const value of values(name)) entries.push(...value.split(','));
  }
  for (const value of values('forwarded')) {
    for (const pair of value.split(/[,;]/)) {
      const at = pair.indexOf('=');
      if (at !== -1 && pair.slice(0, at).trim().toLowerCase() === 'for') entries.push(pair.slice(at + 1));
    }
  }
  return entries.map(bareAddress);
}

/** `"[::1]:8080"` → `::1`, `127.0.0.1:80` → `127.0.0.1`; anything else trimmed. */
function bareAddress(entry: string): string {
  const value = entry.trim().replace(/^"(.*)"$/, '$1');
  const bracketed = /^\[([^\]]*)\](?::\d+)?$/.exec(value);
  if (bracketed) return bracketed[1] as string;
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(value);
  return v4WithPort ? (v4WithPort[1] as string) : value;
}

/** Options of {@link metricsAccess}. */
export interface MetricsAccessOptions {
  /** A bearer token that opens `/metrics` to any caller. Default none: loopback peers only. */
  token?: string | undefined;
}

/**
 * Who may read `/metrics`: a loopback peer that forwards for nobody else, or, when a token is
 * set, a request with `Authorization: Bearer <token>`. The metrics name the users, clients and
 * outcomes of the service; they are for its operators.
 */
export function metricsAccess(options: MetricsAccessOptions = {}): (request: FastifyRequest) => boolean {
  // Both sides hashed first, so the comparison takes the same time whatever the lengths.
  const expected = options.token === undefined ? undefined : sha256(options.token);
  return (request) => {
    if (expected !== undefined) {
      const match = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '');
      if (match && timingSafeEqual(sha256(match[1] as string), expected)) return true;
    }
    // The socket's peer, not request.ip: with a trusted proxy, request.ip is read from
    // X-Forwarded-For, whose first entries the client writes itself. A proxy on this host is
    // itself a loopback peer, so what it forwards for a client elsewhere is refused by the
    // headers that name that client.
    return (
      isLoopbackAddress(request.socket.remoteAddress) &&
      forwardedClients(request.headers).every((client) => isLoopbackAddress(client))
    );
  };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
