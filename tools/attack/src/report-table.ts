import { type AttackResult, FAMILIES, type Verdict } from './attack.js';
import type { Report } from './run-attacks.js';

const VERDICT_LABELS: Record<Verdict, string> = {
  refused: 'refused',
  succeeded: 'SUCCEEDED',
  unexpected: 'UNEXPECTED',
  'not-run': 'not run',
  'not-observable': 'not observable',
  error: 'ERROR',
};

const COLUMNS = [
  { title: 'attack', width: 56, of: (r: AttackResult) => r.attack },
  { title: 'where', width: 36, of: (r: AttackResult) => r.where },
  { title: 'expected', width: 34, of: (r: AttackResult) => r.expected },
  { title: 'got', width: 40, of: (r: AttackResult) => r.got },
  { title: 'verdict', width: 14, of: (r: AttackResult) => VERDICT_LABELS[r.verdict] },
] as const;

const cell = (text: string, width: number) => {
  const flat = text.replace(/\s+/g, ' ');
  return (flat.length > width ? `${flat.slice(0, width - 1)}…` : flat).padEnd(width);
};

/**
 * The report as text: one table per family (attack, where, expected, got, verdict), every row
 * that was not refused again in full below it, and a summary line.
 */
export function formatReport(report: Report): string {
  const lines = [
    `jwt-handoff attack self-test: server1 ${report.server1}, server2 ${report.server2}, user ${report.user}`,
  ];
  const header = COLUMNS.map((column) => cell(column.title, column.width)).join(' ');
  for (const family of FAMILIES) {
    const rows = report.results.filter((result) => result.family === family);
    if (rows.length === 0) continue;
    lines.push(
      '',
      `${family} (${rows.length})`,
      header,
      COLUMNS.map((column) => '-'.repeat(column.width)).join(' '),
    );
    for (const row of rows)
      lines.push(
        COLUMNS.map((column) => cell(column.of(row), column.width))
          .join(' ')
          .trimEnd(),
      );
  }
  const notRefused = report.results.filter((result) => result.verdict !== 'refused');
  if (notRefused.length > 0) {
    lines.push('', 'Not refused, in full:');
    for (const row of notRefused) {
      lines.push(
        `  ${VERDICT_LABELS[row.verdict]}  ${row.family}/${row.id} (${row.where})`,
        `      expected ${row.expected}`,
        `      got ${row.got}`,
      );
    }
  }
  if (report.fatal !== undefined) lines.push('', `Could not test the deployment: ${report.fatal}`);
  lines.push('', summaryLine(report));
  return lines.join('\n');
}

/** `121 attacks: 118 refused, 2 not run, 1 not observable · 2345 responses · 4.1 s · exit 0`. */
export function summaryLine(report: Report): string {
  const counts = new Map<Verdict, number>();
  for (const result of report.results) counts.set(result.verdict, (counts.get(result.verdict) ?? 0) + 1);
  const parts = [...counts].map(([verdict, count]) => `${count} ${VERDICT_LABELS[verdict]}`);
  const outcome =
    report.exitCode === 0
      ? 'every attack refused'
      : report.exitCode === 1
        ? 'ATTACKS GOT THROUGH'
        : 'NOT FULLY TESTED';
  return `${report.results.length} attacks: ${parts.join(', ') || 'none run'} · ${report.responses} responses · ${(report.durationMs / 1000).toFixed(1)} s · ${outcome} (exit ${report.exitCode})`;
}

/** The same table as JSON, for `--json FILE`. */
export function reportJson(report: Report): string {
  const { results, ...run } = report;
  return `${JSON.stringify({ ...run, results }, null, 2)}\n`;
}
