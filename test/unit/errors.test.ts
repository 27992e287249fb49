import { AppError, withoutStackTrace } from '@jwt-handoff/shared';
import { describe, expect, it } from 'vitest';

// A refusal is the expected answer to bad input: capturing a stack through fastify's call chain
// for each one would make a flood of bad requests far costlier than good ones.
const stackFrames = (error: Error) => (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));

describe('AppError', () => {
  it('captures no stack trace for a 4xx refusal', () => {
    const error = new AppError(401, 'unknown_kid', 'no key with this kid');
    expect(stackFrames(error)).toEqual([]);
    expect(error).toMatchObject({ status: 401, reason: 'unknown_kid', error: 'unauthorized' });
    expect(error.message).toBe('no key with this kid');
  });

  it('keeps the stack trace of a 5xx, which reports a fault', () => {
    expect(stackFrames(new AppError(500, 'internal_error', 'boom')).length).toBeGreaterThan(0);
  });

  it('restores the stack trace limit for every other error', () => {
    const before = Error.stackTraceLimit;
    new AppError(400, 'invalid_request', 'bad');
    expect(Error.stackTraceLimit).toBe(before);
    expect(stackFrames(new Error('elsewhere')).length).toBeGreaterThan(0);
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
