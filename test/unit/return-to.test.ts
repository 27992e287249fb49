import { safeReturnTo } from '@jwt-handoff/shared';
import { describe, expect, it } from 'vitest';

describe('safeReturnTo', () => {
  it.each(['/', '/a/b?c=d#e', '/dashboard', '/search?q=a%20b&page=2'])(
    'keeps the same-service path %j',
    (path) => {
      expect(safeReturnTo(path)).toBe(path);
    },
  );

  it.each([
    '//evil.example',
    '///evil.example',
    '/\\evil.example',
    '\\\\evil',
    '\\/evil.example',
    'https:evil.example',
    'https://evil.example',
    'http://evil.example/path',
    'javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    '/..//evil.example',
    '/.//evil.example',
    '/a/..//evil.example',
    '/%2e%2e//evil.example',
    '%2F%2Fevil.example',
    'evil.example',
    ' /x',
    '/x\n',
    '/x\r\nSet-Cookie: a=b',
    '/\t/evil.example',
    '/x\u0000',
    '',
  ])('falls back to "/" for %j', (value) => {
    expect(safeReturnTo(value)).toBe('/');
  });

  it.each([undefined, null, 42, ['/a'], { path: '/a' }, true])(
    'falls back to "/" for the non-string %j',
    (value) => {
      expect(safeReturnTo(value)).toBe('/');
    },
  );

  it('falls back to "/" for a path of 3000 characters', () => {
    expect(safeReturnTo(`/${'a'.repeat(2999)}`)).toBe('/');
  });

  it.each(['/%2F%2Fevil.example', '/%5C%5Cevil.example', '/%2f%2fevil.example/x'])(
    'keeps the encoded %j a path on this service',
    (value) => {
      const result = safeReturnTo(value);

      expect(result.startsWith('/')).toBe(true);
      expect(result.startsWith('//')).toBe(false);
      expect(new URL(result, 'http://a.example').host).toBe('a.example');
    },
  );

  it('falls back to "/" for a path that percent-encoding makes longer than 2048 characters', () => {
    const path = `/${'é'.repeat(400)}`;

    expect(path.length).toBeLessThanOrEqual(2048);
    expect(safeReturnTo(path)).toBe('/');
  });

  it('keeps a path that percent-encoding leaves within 2048 characters, and gives it back unchanged', () => {
    const result = safeReturnTo(`/${'é'.repeat(340)}`);

    expect(result).toBe(`/${'%C3%A9'.repeat(340)}`);
    expect(safeReturnTo(result)).toBe(result);
  });

  it('never returns something a browser would resolve to another host', () => {
    const tricky = [
      '/',
      '//',
      '/\\',
      '\\',
      '/.',
      '/..',
      '%2F',
      '%5C',
      'x:',
      '@',
      '?',
      '#',
      '\t',
      ' ',
      'evil.example',
    ];
    for (const a of tricky) {
      for (const b of tricky) {
        for (const c of tricky) {
          const result = safeReturnTo(a + b + c);
          expect(result.startsWith('/') && !result.startsWith('//') && !result.includes('\\')).toBe(true);
          expect(new URL(result, 'http://a.example').host).toBe('a.example');
        }
      }
    }
  });
});
