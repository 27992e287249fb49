import { AppError, REASON_CODES, REASONS, refusedToken, withoutStackTrace } from '@jwt-handoff/shared';
import { describe, expect, it } from 'vitest';

// A refusal is the expected answer to bad input: capturing a stack through fastify's call chain
// for each one would make a flood of bad requests far costlier than good ones.
const stackFrames = (error: Error) => (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));

describe('AppError', () => {
  it('captures no stack trace for a 4xx refusal', () => {
    const error = new AppError('unknown_kid', 'no key with this kid', { statusCode: 401 });
    expect(stackFrames(error)).toEqual([]);
    expect(error).toMatchObject({ statusCode: 401, reason: 'unknown_kid', error: 'unauthorized' });
    expect(error.message).toBe('no key with this kid');
  });

  it('keeps the stack trace of a 5xx, which reports a fault', () => {
    expect(stackFrames(new AppError('internal_error', 'boom')).length).toBeGreaterThan(0);
  });

  it('restores the stack trace limit for every other error', () => {
    const before = Error.stackTraceLimit;
    new AppError('invalid_request', 'bad');
    expect(Error.stackTraceLimit).toBe(before);
    expect(stackFrames(new Error('elsewhere')).length).toBeGreaterThan(0);
  });
});

describe('the reason table', () => {
  it('binds every reason code to a status and an error word', () => {
    for (const reason of REASON_CODES) {
      expect(REASONS[reason].statusCode, reason).toBeGreaterThanOrEqual(400);
      expect(REASONS[reason].error, reason).toMatch(/^[a-z_]+$/);
    }
    expect(Object.keys(REASONS).sort()).toEqual([...REASON_CODES].sort());
  });

  it('takes the status from the table, so a throw names only the reason', () => {
    expect(new AppError('txn_unknown', 'used')).toMatchObject({ statusCode: 400, error: 'invalid_request' });
    expect(new AppError('insufficient_scope', 'x')).toMatchObject({ statusCode: 403 });
    expect(new AppError('rate_limited', 'x')).toMatchObject({ statusCode: 429 });
  });

  it('answers a key outage with 503 whatever status the caller asks for', () => {
    const outage = refusedToken({ reason: 'jwks_unavailable', message: 'down' }, { statusCode: 401 });
    expect(outage).toMatchObject({ statusCode: 503, error: 'temporarily_unavailable' });
    const bad = refusedToken({ reason: 'token_expired', message: 'late' }, { statusCode: 401 });
    expect(bad).toMatchObject({ statusCode: 401, error: 'unauthorized' });
    expect(refusedToken({ reason: 'token_expired', message: 'late' })).toMatchObject({
      statusCode: 400,
      error: 'invalid_token',
    });
  });
});

describe('withoutStackTrace', () => {
  it('builds the error without frames and restores the limit, even when building throws', () => {
    const before = Error.stackTraceLimit;
    expect(stackFrames(withoutStackTrace(() => new TypeError('quiet')))).toEqual([]);
    expect(() =>
      withoutStackTrace(() => {
        throw new Error('while building');
      }),
    ).toThrow('while building');
    expect(Error.stackTraceLimit).toBe(before);
  });
});
