import { ConfigError, EnvReader } from '@jwt-handoff/shared';
import { describe, expect, it } from 'vitest';

/** Runs `read` against `env` and returns the ConfigError that finish() throws, if any. */
function problemsOf(env: Record<string, string>, read: (reader: EnvReader) => void): ConfigError | undefined {
  const reader = new EnvReader(env);
  read(reader);
  try {
    reader.finish();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
}

describe('EnvReader', () => {
  it('returns fallbacks for unset and blank variables and finishes quietly', () => {
    const reader = new EnvReader({ BLANK: '   ' });

    expect(reader.string('MISSING', 'fallback')).toBe('fallback');
    expect(reader.string('BLANK', 'fallback')).toBe('fallback');
    expect(reader.integer('MISSING', 4001)).toBe(4001);
    expect(reader.boolean('BLANK', true)).toBe(true);
    expect(reader.baseUrl('MISSING', 'http://localhost:4001')).toBe('http://localhost:4001');
    expect(() => reader.finish()).not.toThrow();
  });

  it('trims the values it reads', () => {
    const reader = new EnvReader({ NAME: '  server2 \n', PORT: ' 4002 ' });

    expect(reader.string('NAME', 'x')).toBe('server2');
    expect(reader.integer('PORT', 1)).toBe(4002);
  });

  it('collects every problem and names every bad variable in one ConfigError', () => {
    const error = problemsOf(
      {
        PORT: 'eighty',
        SEED_DEMO_USERS: 'maybe',
        PUBLIC_URL: 'ftp://localhost',
        CLIENTS: '{not json',
        LOG_LEVEL: 'loud',
        HOST: '127.0.0.1',
      },
      (reader) => {
        reader.integer('PORT', 4001, { min: 1, max: 65535 });
        reader.boolean('SEED_DEMO_USERS', false);
        reader.baseUrl('PUBLIC_URL', 'http://localhost:4001');
        reader.json('CLIENTS', [], (value) => value as unknown[]);
        reader.oneOf('LOG_LEVEL', ['info', 'debug'] as const, 'info');
        reader.string('HOST', '0.0.0.0');
      },
    );

    expect(error?.problems).toHaveLength(5);
    for (const name of ['PORT', 'SEED_DEMO_USERS', 'PUBLIC_URL', 'CLIENTS', 'LOG_LEVEL']) {
      expect(error?.message).toContain(name);
    }
    expect(error?.message).not.toContain('HOST');
  });

  it('knows which variables already have a problem', () => {
    const reader = new EnvReader({ PORT: 'eighty', HOST: '0.0.0.0' });
    reader.integer('PORT', 4001);
    reader.string('HOST', '127.0.0.1');
    reader.problem('CLIENTS', 'must be set');

    expect(reader.hasProblem('PORT')).toBe(true);
    expect(reader.hasProblem('CLIENTS')).toBe(true);
    expect(reader.hasProblem('HOST')).toBe(false);
  });

  it('records cross-variable problems alongside the others', () => {
    const error = problemsOf({}, (reader) => reader.problem('JWKS_URL', 'must be on the issuer host'));
    expect(error?.message).toContain('JWKS_URL must be on the issuer host');
  });

  describe('integer', () => {
    it.each([
      ['1', 1],
      ['65535', 65535],
      ['0080', 80],
    ])('reads %j within bounds as %i', (value, expected) => {
      const reader = new EnvReader({ PORT: value });
      expect(reader.integer('PORT', 4001, { min: 1, max: 65535 })).toBe(expected);
      expect(() => reader.finish()).not.toThrow();
    });

    it.each(['0', '65536', '-1', '1.5', '1e3', '0x10', '+5', '80abc', '9007199254740993'])(
      'refuses %j and keeps the fallback',
      (value) => {
        const reader = new EnvReader({ PORT: value });

        expect(reader.integer('PORT', 4001, { min: 1, max: 65535 })).toBe(4001);
        expect(() => reader.finish()).toThrow(/PORT must be a whole number from 1 to 65535/);
      },
    );

    it('accepts negative numbers when the bounds allow them', () => {
      const reader = new EnvReader({ OFFSET: '-5' });
      expect(reader.integer('OFFSET', 0, { min: -10, max: 10 })).toBe(-5);
    });
  });

  describe('boolean', () => {
    it.each(['true', '1', 'yes', 'on', 'TRUE', 'Yes'])('reads %j as true', (value) => {
      expect(new EnvReader({ FLAG: value }).boolean('FLAG', false)).toBe(true);
    });

    it.each(['false', '0', 'no', 'off', 'OFF'])('reads %j as false', (value) => {
      expect(new EnvReader({ FLAG: value }).boolean('FLAG', true)).toBe(false);
    });

    it.each(['maybe', 'y', 'enabled', '2'])('refuses %j', (value) => {
      const reader = new EnvReader({ FLAG: value });
      expect(reader.boolean('FLAG', false)).toBe(false);
      expect(() => reader.finish()).toThrow(/FLAG must be true or false/);
    });
  });

  describe('baseUrl', () => {
    it.each([
      ['http://localhost:4001', 'http://localhost:4001'],
      ['https://id.example/', 'https://id.example'],
      ['https://id.example/base//', 'https://id.example/base'],
      ['http://[::1]:4001', 'http://[::1]:4001'],
    ])('accepts %j as %j', (value, expected) => {
      const reader = new EnvReader({ PUBLIC_URL: value });
      expect(reader.baseUrl('PUBLIC_URL', 'http://localhost:4001')).toBe(expected);
      expect(() => reader.finish()).not.toThrow();
    });

    it.each([
      ['a non-http scheme', 'ftp://id.example', /must use http or https/],
      ['javascript:', 'javascript:alert(1)', /must use http or https/],
      ['a relative URL', '/id', /absolute http\(s\) URL/],
      ['a bare host', 'id.example', /absolute http\(s\) URL/],
      ['credentials', 'https://user:secret@id.example', /must not carry credentials/],
      ['a user name only', 'https://user@id.example', /must not carry credentials/],
      ['a query', 'https://id.example/?a=b', /must not have a query or fragment/],
      ['a fragment', 'https://id.example/#top', /must not have a query or fragment/],
    ])('rejects %s', (_name, value, message) => {
      const reader = new EnvReader({ PUBLIC_URL: value });

      expect(reader.baseUrl('PUBLIC_URL', 'http://localhost:4001')).toBe('http://localhost:4001');
      expect(() => reader.finish()).toThrow(message);
    });

    it.each([
      ['an empty query', 'http://a.example/?', /PUBLIC_URL must not have a query or fragment/],
      ['an empty fragment', 'http://a.example/#', /PUBLIC_URL must not have a query or fragment/],
      ['empty credentials', 'http://:@a.example', /PUBLIC_URL must not carry credentials/],
      ['a user name without a password', 'http://user@a.example', /PUBLIC_URL must not carry credentials/],
    ])('rejects %s (%j), naming the variable', (_name, value, message) => {
      const reader = new EnvReader({ PUBLIC_URL: value });

      expect(reader.baseUrl('PUBLIC_URL', 'http://localhost:4001')).toBe('http://localhost:4001');
      expect(() => reader.finish()).toThrow(message);
    });

    it('accepts an @ in the path, which is not a credential', () => {
      const reader = new EnvReader({ PUBLIC_URL: 'http://a.example/@team' });

      expect(reader.baseUrl('PUBLIC_URL', 'http://localhost:4001')).toBe('http://a.example/@team');
      expect(() => reader.finish()).not.toThrow();
    });

    it('does not echo credentials into the error message', () => {
      const error = problemsOf({ PUBLIC_URL: 'https://user:hunter2@id.example' }, (reader) => {
        reader.baseUrl('PUBLIC_URL', 'http://localhost:4001');
      });
      expect(error?.message).not.toContain('hunter2');
    });

    it('checks the fallback too', () => {
      const error = problemsOf({}, (reader) => reader.baseUrl('ISSUER_URL', 'localhost:4001'));
      expect(error?.message).toContain('ISSUER_URL');
    });
  });

  describe('json', () => {
    const parseClients = (value: unknown): { id: string }[] => {
      if (!Array.isArray(value)) throw new Error('must be a JSON array of clients');
      return value.map((client, i) => {
        if (typeof client?.id !== 'string') throw new Error(`client ${i} needs a string "id"`);
        return { id: client.id };
      });
    };

    it('returns what the parse function makes of the decoded value', () => {
      const reader = new EnvReader({ CLIENTS: '[{"id":"server2","extra":true}]' });
      expect(reader.json('CLIENTS', [], parseClients)).toEqual([{ id: 'server2' }]);
      expect(() => reader.finish()).not.toThrow();
    });

    it('returns the fallback without calling parse when unset', () => {
      const reader = new EnvReader({});
      const fallback = [{ id: 'default' }];
      expect(reader.json('CLIENTS', fallback, () => expect.unreachable())).toBe(fallback);
    });

    it('reports invalid JSON', () => {
      const reader = new EnvReader({ CLIENTS: "[{id: 'server2'}]" });
      expect(reader.json('CLIENTS', [], parseClients)).toEqual([]);
      expect(() => reader.finish()).toThrow(/CLIENTS is not valid JSON/);
    });

    it("reports the parse function's message", () => {
      const reader = new EnvReader({ CLIENTS: '[{"name":"server2"}]' });
      expect(reader.json('CLIENTS', [], parseClients)).toEqual([]);
      expect(() => reader.finish()).toThrow(/CLIENTS client 0 needs a string "id"/);
    });
  });

  describe('oneOf', () => {
    it('accepts an allowed word and refuses any other', () => {
      const reader = new EnvReader({ GOOD: 'debug', BAD: 'verbose' });

      expect(reader.oneOf('GOOD', ['info', 'debug'] as const, 'info')).toBe('debug');
      expect(reader.oneOf('BAD', ['info', 'debug'] as const, 'info')).toBe('info');
      expect(() => reader.finish()).toThrow(/BAD must be one of info, debug, got "verbose"/);
    });
  });
});
