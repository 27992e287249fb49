import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The README's "Use the relying side in your own fastify app" shows examples/billing/src/billing-app.ts,
// which the end-to-end suite and `npm start` run. This compiles the snippet as printed, so it cannot rot.
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const APP = 'examples/billing/src/billing-app.ts';
const MARKER = `<!-- snippet: ${APP} -->`;

function readmeSnippet(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const at = readme.indexOf(MARKER);
  expect(at, 'the README marks its snippet').toBeGreaterThan(-1);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  expect(block, 'a ts code block follows the marker').not.toBeNull();
  return (block as RegExpExecArray)[1] as string;
}

describe("the README's relying-app snippet", () => {
  it('is the code the end-to-end suite runs', () => {
    expect(readmeSnippet()).toBe(readFileSync(join(root, APP), 'utf8'));
  });

  it('compiles with the repository settings, against the built shared package', () => {
    // Beside the app it shows, so that its imports resolve as they do there.
    const file = join(root, 'examples/billing/src/readme-snippet.generated.ts');
    writeFileSync(file, readmeSnippet());
    try {
      const config = ts.getParsedCommandLineOfConfigFile(
        join(root, 'examples/billing/tsconfig.json'),
        {},
        {
          ...ts.sys,
          onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
            throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
          },
        },
      );
      const program = ts.createProgram([file], { ...config?.options, noEmit: true });
      const problems = ts
        .getPreEmitDiagnostics(program)
        .map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
      expect(problems).toEqual([]);
    } finally {
      rmSync(file, { force: true });
    }
    // A whole type-check of the app and fastify's types: seconds alone, more on a loaded machine.
  }, 60_000);
});
