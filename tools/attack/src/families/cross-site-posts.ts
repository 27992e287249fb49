import { type Attack, type Outcome, succeeded, unexpected } from '../attack.js';
import type { AttackContext } from '../context.js';
import { describe } from '../http/answer.js';
import type { Browser } from '../http/browser.js';
import { judgeRefusal } from '../judge.js';
import { hasServer1Session, hasServer2Session } from '../session/handoff-walk.js';
import { signInAtServer1 } from '../session/server1-sign-in.js';

/** How the forged form post presents itself. */
const ORIGINS = [
  { id: 'foreign-origin', title: 'Origin of another site', headers: { origin: 'https://evil.example' } },
  { id: 'null-origin', title: 'Origin: null (a sandboxed or data: page)', headers: { origin: 'null' } },
  { id: 'no-origin', title: 'no Origin header', headers: {} },
] as const;

/** A state-changing form and how to tell whether a forged post of it took effect. */
interface Target {
  readonly id: string;
  readonly where: string;
  readonly effect: string;
  readonly phase?: Attack['phase'];
  /** Prepares the victim's browser; resolves with the URL to post to and the fields. */
  prepare(context: AttackContext, victim: Browser): Promise<{ url: string; fields: Record<string, string> }>;
  /** Whether the victim is still as before the post (signed in, or still signed out). */
  unchanged(context: AttackContext, victim: Browser): Promise<boolean>;
}

const signedInAtServer1 = async (context: AttackContext, victim: Browser) => {
  await signInAtServer1(victim, context.deployment.server1, context.settings.credentials);
};

const TARGETS: readonly Target[] = [
  {
    id: 'server1-login',
    where: 'server1 POST /login',
    effect: 'signed in',
    async prepare(context, victim) {
      // The victim has the sign-in page's CSRF cookie; the attacker's form cannot know its token.
      await victim.get(`${context.deployment.server1}/login`);
      const { username, password } = context.settings.credentials;
      return { url: `${context.deployment.server1}/login`, fields: { username, password, return_to: '/' } };
    },
    unchanged: async (context, victim) => !(await hasServer1Session(victim, context.deployment.server1)),
  },
  {
    id: 'server2-logout',
    where: 'server2 POST /logout',
    effect: 'signed out',
    phase: 'late',
    async prepare(context, victim) {
      await context.tokens.signIn(victim);
      return { url: `${context.deployment.server2}/logout`, fields: {} };
    },
    unchanged: (context, victim) => hasServer2Session(victim, context.deployment.server2),
  },
  {
    id: 'server1-logout',
    where: 'server1 POST /logout',
    effect: 'signed out',
    phase: 'late',
    async prepare(context, victim) {
      await signedInAtServer1(context, victim);
      return { url: `${context.deployment.server1}/logout`, fields: {} };
    },
    unchanged: (context, victim) => hasServer1Session(victim, context.deployment.server1),
  },
  {
    // Last of all: when it gets through it ends every session of the user, everywhere.
    id: 'server1-logout-everywhere',
    where: 'server1 POST /logout/everywhere',
    effect: 'signed out everywhere',
    phase: 'last',
    async prepare(context, victim) {
      await signedInAtServer1(context, victim);
      return { url: `${context.deployment.server1}/logout/everywhere`, fields: {} };
    },
    unchanged: (context, victim) => hasServer1Session(victim, context.deployment.server1),
  },
];

/**
 * A form post forged by another page, with the victim's cookies (a sibling site on the same host
 * gets SameSite=Lax cookies sent) and without the form's CSRF token. It must not take effect, and
 * the answer is 403 csrf_failed.
 */
function crossSitePost(target: Target, origin: (typeof ORIGINS)[number]): Attack {
  return {
    id: `csrf-${target.id}-${origin.id}`,
    family: 'flow',
    title: `cross-site form post without a CSRF token, ${origin.title}`,
    where: target.where,
    expected: `403 csrf_failed, not ${target.effect}`,
    phase: target.phase,
    async run(context): Promise<Outcome> {
      const victim = context.newBrowser();
      const { url, fields } = await target.prepare(context, victim);
      const response = await victim.post(url, fields, origin.headers);
      if (!(await target.unchanged(context, victim)))
        return succeeded(`${describe(response)}; ${target.effect}`);
      if (response.status < 400) return unexpected(`${describe(response)}, yet not ${target.effect}`);
      return judgeRefusal(response, ['csrf_failed']);
    },
  };
}

/** OWASP CSRF Prevention Cheat Sheet; RFC 9700 section 4.7 (login CSRF) for the sign-in form. docs/attack-self-test.md. */
export const crossSitePostAttacks: readonly Attack[] = TARGETS.flatMap((target) =>
  ORIGINS.map((origin) => crossSitePost(target, origin)),
);
