import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The docs point into the code and the tests a lot; a rename must not leave them pointing at
// nothing. And the threat model claims a test for every threat: that claim is checked here.
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const DOCS = [
  'README.md',
  'shared/README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** The text of a markdown file without its fenced code blocks and inline code: links there are not links. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** Every `[text](target)` link of a markdown file. */
function linksOf(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((match) => match[1] as string);
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  const headings = [...markdown.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6}\s+(.+)$/gm)];
  return new Set(headings.map((match) => slug(match[1] as string)));
}

/** What is wrong with a relative link from `file`, or undefined when it points at something real. */
function brokenLink(file: string, target: string): string | undefined {
  const [path = '', anchor] = target.split('#');
  const resolved = path === '' ? join(root, file) : join(root, dirname(file), decodeURIComponent(path));
  if (!existsSync(resolved)) return `${file}: ${target} (no such file: ${relative(root, resolved)})`;
  if (anchor && resolved.endsWith('.md') && statSync(resolved).isFile()) {
    if (!anchorsOf(readFileSync(resolved, 'utf8')).has(anchor)) return `${file}: ${target} (no such heading)`;
  }
  return undefined;
}

describe('relative links in the docs', () => {
  it.each(DOCS)('%s: every relative link points at an existing file (and heading)', (file) => {
    const links = linksOf(readFileSync(join(root, file), 'utf8')).filter(
      (target) => !/^[a-z][a-z0-9+.-]*:/i.test(target),
    );
    expect(links.map((target) => brokenLink(file, target)).filter(Boolean)).toEqual([]);
  });

  it('notices a broken link (the check is not vacuous)', () => {
    expect(brokenLink('docs/threat-model.md', '../test/unit/no-such.test.ts')).toMatch(/no such file/);
    expect(brokenLink('README.md', 'docs/deployment.md#no-such-heading')).toMatch(/no such heading/);
    expect(brokenLink('README.md', 'docs/deployment.md#production-mode')).toBeUndefined();
    expect(linksOf('see [a](a.md), `[b](b.md)`, and\n```\n[c](c.md)\n```\n')).toEqual(['a.md']);
  });
});

/** The rows of the threat model's tables: each cell of each body row. */
function threatRows(): string[][] {
  const markdown = readFileSync(join(root, 'docs/threat-model.md'), 'utf8');
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|\s*-/.test(line) && !/^\|\s*threat\s*\|/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    );
}

/** The tests a threat-model cell names: `[file](../test/….test.ts) › "test name"; › "another"`. */
function namedTests(cell: string): { file: string; names: string[] }[] {
  return [...cell.matchAll(/\[[^\]]*\]\(\.\.\/(test\/[^)]+\.test\.ts)\)((?:\s*›\s*"[^"]+"[^[]*)*)/g)].map(
    (match) => ({
      file: match[1] as string,
      names: [...(match[2] as string).matchAll(/›\s*"([^"]+)"/g)].map((name) => name[1] as string),
    }),
  );
}

describe('docs/threat-model.md', () => {
  const rows = threatRows();

  it('has a row per threat, each with its five columns', () => {
    expect(rows.length).toBeGreaterThanOrEqual(25);
    for (const row of rows) expect(row, row[0]).toHaveLength(5);
  });

  it('links every threat to a test file that exists and to tests by name that are in it', () => {
    const problems: string[] = [];
    for (const [threat, , , proof = ''] of rows) {
      const tests = namedTests(proof);
      if (tests.length === 0) problems.push(`${threat}: no test file linked`);
      for (const { file, names } of tests) {
        const path = join(root, file);
        if (!existsSync(path)) {
          problems.push(`${threat}: ${file} does not exist`);
          continue;
        }
        if (names.length === 0) problems.push(`${threat}: ${file} is linked without naming a test`);
        const source = readFileSync(path, 'utf8');
        for (const name of names) {
          if (!source.includes(name)) problems.push(`${threat}: ${file} has no test named "${name}"`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('names a reference for every threat', () => {
    for (const [threat, , , , reference = ''] of rows) {
      expect(reference, threat).toMatch(/RFC \d+|BCL|form_post|OWASP/);
    }
  });

  it('reads a named test out of a cell (the check is not vacuous)', () => {
    expect(
      namedTests('[a](../test/unit/a.test.ts) › "one"; › "two"; [b](../test/e2e/b.test.ts) › "three"'),
    ).toEqual([
      { file: 'test/unit/a.test.ts', names: ['one', 'two'] },
      { file: 'test/e2e/b.test.ts', names: ['three'] },
    ]);
  });
});
