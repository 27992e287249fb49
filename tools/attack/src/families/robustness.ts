import { type Attack, refused, succeeded } from '../attack.js';
import { maskSecrets, shorten } from '../http/answer.js';
import { JWT_LIKE } from '../jws/compact.js';

/** Checks over the whole run, made after every attack: they always run, whatever `--only` says. */
export const robustnessChecks: readonly Attack[] = [
  {
    id: 'no-5xx',
    family: 'robustness',
    title: 'no answer of the whole run was a 5xx',
    where: 'both services (every response)',
    expected: 'no 5xx',
    async run(context) {
      const errors = context.http.exchanges.filter((exchange) => exchange.status >= 500);
      const closed = context.http.exchanges.filter((exchange) => exchange.status === 0).length;
      const total = `${context.http.exchanges.length} responses${closed > 0 ? ` (${closed} connections closed without one)` : ''}`;
      if (errors.length === 0) return refused(`${total}, no 5xx`);
      const list = errors.map(
        (exchange) => `${exchange.status} ${exchange.method} ${maskSecrets(exchange.url)}`,
      );
      return succeeded(`${errors.length} of ${total}: ${shorten(list.join(', '), 400)}`);
    },
  },
  {
    id: 'no-token-in-redirects',
    family: 'robustness',
    title: 'no redirect of the whole run carried a token in its URL',
    where: 'both services (every Location)',
    expected: 'no JWT in a Location',
    async run(context) {
      const leaking = context.http.exchanges.filter(
        (exchange) => exchange.location !== undefined && JWT_LIKE.test(exchange.location),
      );
      if (leaking.length === 0) return refused('none');
      return succeeded(
        leaking.map((exchange) => `${exchange.method} ${maskSecrets(exchange.url)}`).join(', '),
      );
    },
  },
  ...(['server1', 'server2'] as const).map(
    (service): Attack => ({
      id: `${service}-ready`,
      family: 'robustness',
      title: `${service} still ready after the run`,
      where: `${service} GET /readyz`,
      expected: '200',
      async run(context) {
        const response = await context.http
          .send('GET', `${context.deployment[service]}/readyz`)
          .catch((err: Error) => err);
        if (response instanceof Error) return succeeded(`no answer: ${response.message}`);
        return response.status === 200 ? refused('200') : succeeded(String(response.status));
      },
    }),
  ),
];
