import { randomBytes } from 'node:crypto';
import { browse, CookieJar, formPost, hiddenField } from '@jwt-handoff/testkit';
import { describe, expect, it } from 'vitest';
import { logCollector } from '../server2/helpers.js';
import { DEMO_PASSWORD, PUBLIC_URL, SERVER2_CALLBACK, startServer1 } from './helpers.js';

describe('logs', () => {
  it('never contain the handoff state, even where it rides inside return_to on the way through sign-in', async () => {
    const logs = logCollector();
    const server = await startServer1({ env: { LOG_LEVEL: 'info' }, logStream: logs.stream });
    const jar = new CookieJar();
    const state = randomBytes(24).toString('hex');
    const authorize = `/handoff/authorize?${new URLSearchParams({ client_id: 'server2', redirect_uri: SERVER2_CALLBACK, state })}`;

    // No session: server1 sends the browser to sign in, the authorize URL (and its state) in return_to.
    const toLogin = await browse(server.app, jar, { url: authorize });
    expect(toLogin.statusCode).toBe(303);
    const loginUrl = String(toLogin.headers.location);
    expect(new URL(loginUrl, PUBLIC_URL).searchParams.get('return_to')).toBe(authorize);
    const form = await browse(server.app, jar, { url: loginUrl });
    const signedIn = await browse(
      server.app,
      jar,
      formPost(
        '/login',
        {
          csrf_token: hiddenField(form.body, 'csrf_token'),
          return_to: hiddenField(form.body, 'return_to'),
          username: 'alice',
          password: DEMO_PASSWORD,
        },
        { origin: PUBLIC_URL },
      ),
    );
    expect(signedIn.headers.location).toBe(authorize);
    const page = await browse(server.app, jar, { url: authorize });
    expect(page.statusCode).toBe(200);
    const token = hiddenField(page.body, 'token');

    const text = logs.text();
    // The requests were logged, with what an operator needs to follow them.
    expect(text).toContain('"url":"/login?return_to=%2Fhandoff%2Fauthorize%3Fclient_id%3Dserver2');
    expect(text).toContain('"url":"/handoff/authorize?client_id=server2');
    for (const secret of [state, token, token.split('.')[2] as string, jar.get('s1_session') as string]) {
      expect(secret.length).toBeGreaterThan(20);
      expect(text).not.toContain(secret);
    }
  });
});
