import { type Outcome, refused, succeeded, unexpected } from './attack.js';
import { describe, reasonOf } from './http/answer.js';
import type { HttpResponse } from './http/recording-client.js';

/**
 * The usual judgement: a 2xx or 3xx means the deployment went along with the attack; a 5xx is a
 * crash, never a refusal; a 4xx is a refusal, as expected only with one of `reasons` (any reason
 * when the list is empty).
 */
export function judgeRefusal(response: HttpResponse, reasons: readonly string[]): Outcome {
  const got = describe(response);
  if (response.status >= 500) return unexpected(`${got} (a server error, not a refusal)`);
  if (response.status < 400) return succeeded(`${got} (accepted)`);
  const reason = reasonOf(response);
  if (reasons.length === 0 || (reason !== undefined && reasons.includes(reason))) return refused(got);
  return unexpected(`${got}: refused, but not for ${reasons.join(' or ')}`);
}

/** Combines several outcomes of one attack: the worst verdict wins, the texts are joined. */
export function worstOf(outcomes: readonly Outcome[]): Outcome {
  const rank = ['refused', 'not-observable', 'not-run', 'error', 'unexpected', 'succeeded'];
  const worst = outcomes.reduce((a, b) => (rank.indexOf(b.verdict) > rank.indexOf(a.verdict) ? b : a));
  const counts = new Map<string, number>();
  for (const outcome of outcomes.filter((candidate) => candidate.verdict === worst.verdict)) {
    counts.set(outcome.got, (counts.get(outcome.got) ?? 0) + 1);
  }
  const texts = [...counts].map(([got, count]) => (count > 1 ? `${got} (${count}x)` : got));
  return { verdict: worst.verdict, got: texts.join('; ') };
}

/** Expected reasons, as shown in the table. */
export function expecting(status: string, reasons: readonly string[]): string {
  return `${status} ${reasons.join(' | ')}`;
}
