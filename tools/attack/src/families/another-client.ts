import type { AttackContext } from '../context.js';
import { RecordingClient } from '../http/recording-client.js';
import { authorizeRedirectOf } from '../session/handoff-walk.js';

/**
 * A real token addressed to another client of server1, if server1's dashboard links to one on the
 * same host as the deployment: the tool opens that service's start link once (a plain GET, as
 * the user's browser would; nothing is ever sent to it) to learn its client id and callback, then
 * has server1 mint a token for it. Resolves with why not, when there is none.
 */
export async function tokenForAnotherClient(
  context: AttackContext,
): Promise<{ token: string; clientId: string } | string> {
  const { server1, server2 } = context.deployment;
  const dashboard = await context.attacker.get(`${server1}/`);
  if (dashboard.status !== 200) return `server1's dashboard answered ${dashboard.status}`;
  const hosts = new Set([new URL(server1).hostname, new URL(server2).hostname]);
  const links = [...dashboard.body.matchAll(/<a\b[^>]*\shref="([^"]+)"/g)]
    .flatMap(([, href = '']) => {
      const link = href.replace(/&amp;/g, '&');
      return URL.canParse(link, server1) ? [new URL(link, server1)] : [];
    })
    .filter((url) => url.origin !== new URL(server2).origin && url.origin !== new URL(server1).origin)
    .filter((url) => hosts.has(url.hostname) && url.pathname.endsWith('/handoff/start'));
  for (const link of links) {
    const client = new RecordingClient([link.href]);
    try {
      const started = authorizeRedirectOf(await client.send('GET', link.href));
      if (!started || started.clientId === context.deployment.clientId) continue;
      const token = await context.tokens.forState(started.state, {
        id: started.clientId,
        redirectUri: started.redirectUri,
      });
      return { token, clientId: started.clientId };
    } catch {
      // that service is not answering; try the next one
    } finally {
      await client.close();
    }
  }
  return "server1's dashboard links to no other client on this host";
}
