import { describe, expect, it } from 'vitest';
// An internal of the JWKS client, not part of the package's API: imported from the compiled module.
import { cacheControlMaxAgeMs } from '../../shared/dist/keys/cache-control.js';

describe('cacheControlMaxAgeMs', () => {
  it.each<[string, string | string[] | undefined]>([
    ['no header', undefined],
    ['an empty header', ''],
    ['no max-age', 'public'],
    ['no max-age among other directives', 'public, must-revalidate, stale-if-error=60'],
  ])('gives undefined for %s', (_name, header) => {
    expect(cacheControlMaxAgeMs(header)).toBeUndefined();
  });

  it.each<[string, string | string[], number]>([
    ['a bare max-age', 'max-age=60', 60_000],
    ['max-age among other directives', 'public, max-age=300, must-revalidate', 300_000],
    ['max-age=0', 'max-age=0', 0],
    ['any case', 'Public, MAX-AGE=20', 20_000],
    ['spaces around the = and the commas', 'public ,  max-age = 20 ', 20_000],
    ['no space after the comma', 'public,max-age=20', 20_000],
    ['a quoted value', 'max-age="20"', 20_000],
    ['leading zeros', 'max-age=0020', 20_000],
    ['the first of two max-ages', 'max-age=10, max-age=20', 10_000],
    ['a header sent twice, as one list', ['public', 'max-age=30'], 30_000],
  ])('reads %s', (_name, header, ms) => {
    expect(cacheControlMaxAgeMs(header)).toBe(ms);
  });

  it.each([
    ['s-maxage alone', 's-maxage=60'],
    ['s-maxage next to a public directive', 'public, s-maxage=3600'],
  ])('ignores %s, which is meant for shared caches', (_name, header) => {
    expect(cacheControlMaxAgeMs(header)).toBeUndefined();
  });

  it('takes max-age and not s-maxage when both are given', () => {
    expect(cacheControlMaxAgeMs('s-maxage=3600, max-age=60')).toBe(60_000);
  });

  it.each([
    ['no-cache', 'no-cache'],
    ['no-store', 'no-store'],
    ['no-store among other directives', 'private, no-store'],
    ['no-cache, any case', 'NO-CACHE'],
    ['no-cache over a max-age', 'max-age=600, no-cache'],
    ['no-store in a second header', ['max-age=600', 'no-store']],
  ])('gives 0 for %s', (_name, header) => {
    expect(cacheControlMaxAgeMs(header)).toBe(0);
  });

  it('does not read no-cache with a field-name list as no-cache', () => {
    expect(cacheControlMaxAgeMs('no-cache="set-cookie", max-age=60')).toBe(60_000);
  });

  it.each([
    ['a value that is not a number', 'max-age=abc'],
    ['a negative value', 'max-age=-5'],
    ['a fraction', 'max-age=1.5'],
    ['an exponent', 'max-age=1e3'],
    ['an empty value', 'max-age='],
    ['no value', 'max-age'],
    ['a unit suffix', 'max-age=60s'],
    ['a directive that only ends in max-age', 'x-max-age=60'],
  ])('gives undefined for a malformed max-age: %s', (_name, header) => {
    expect(cacheControlMaxAgeMs(header)).toBeUndefined();
  });

  it('reads a max-age of ten digits in full', () => {
    expect(cacheControlMaxAgeMs('max-age=9999999999')).toBe(9_999_999_999_000);
  });

  it.each([
    ['eleven digits', 'max-age=99999999999'],
    ['far beyond a safe integer', `max-age=${'9'.repeat(400)}`],
  ])('treats a max-age of %s as none, so cacheMaxAgeMs applies', (_name, header) => {
    expect(cacheControlMaxAgeMs(header)).toBeUndefined();
  });
});
