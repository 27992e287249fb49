// @ts-check
// Reads a service's /metrics (Prometheus text) and its process's memory.
import { readFileSync } from 'node:fs';

/**
 * The value of sample `name` on `baseUrl`/metrics; `name` may carry its labels as printed, e.g.
 * `server2_handoffs_total{outcome="completed"}`. A labelled counter not yet incremented is 0.
 * @param {string} baseUrl
 * @param {string} name
 * @returns {Promise<number>}
 */
export async function metricValue(baseUrl, name) {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  if (line) return Number(line.slice(name.length + 1));
  if (name.includes('{')) return 0;
  throw new Error(`${baseUrl}/metrics has no ${name}`);
}

/**
 * The resident set size of process `pid`, in bytes (Linux: /proc/<pid>/status VmRSS).
 * @param {number} pid
 */
export function rssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!kib) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kib[1]) * 1024;
}

/**
 * CPU time process `pid` has used so far, user and system, all threads, in milliseconds
 * (Linux: /proc/<pid>/stat, in clock ticks of 10 ms).
 * @param {number} pid
 */
export function cpuMillis(pid) {
  // The fields after the command name, which is in parentheses and may itself hold ") ".
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
