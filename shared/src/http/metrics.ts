/** Label values of one sample, e.g. `{ reason: 'token_expired' }`. */
export type Labels = Readonly<Record<string, string>>;

interface Family {
  readonly type: 'counter' | 'gauge';
  readonly help: string;
  readonly samples: Map<string, { labels: Labels; value: number }>;
  readonly collect?: () => number | Promise<number>;
}

/**
 * A small Prometheus text-format registry: counters incremented by the code, gauges read when
 * scraped. Enough for /metrics without pulling in a client library.
 */
export class MetricsRegistry {
  private readonly families = new Map<string, Family>();

  /** Declares a counter; returns a function that adds `by` (default 1) to it. */
  counter(name: string, help: string): (labels?: Labels, by?: number) => void {
    const family = this.declare(name, { type: 'counter', help, samples: new Map() });
    return (labels = {}, by = 1) => {
      const key = labelKey(labels);
      const sample = family.samples.get(key);
      if (sample) sample.value += by;
      else family.samples.set(key, { labels, value: by });
    };
  }

  /** Declares a gauge whose value `collect` reads at scrape time. */
  gauge(name: string, help: string, collect: () => number | Promise<number>): void {
    this.declare(name, { type: 'gauge', help, samples: new Map(), collect });
  }

  /** The whole registry in the Prometheus text exposition format (version 0.0.4). */
  async render(): Promise<string> {
    const lines: string[] = [];
    for (const [name, family] of this.families) {
      lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
      if (family.collect) lines.push(`${name} ${await family.collect()}`);
      for (const { labels, value } of family.samples.values())
        lines.push(`${name}${formatLabels(labels)} ${value}`);
    }
    return `${lines.join('\n')}\n`;
  }

  private declare(name: string, family: Family): Family {
    if (this.families.has(name)) throw new Error(`metric ${name} is declared twice`);
    this.families.set(name, family);
    return family;
  }
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

function formatLabels(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  const escaped = keys.map(
    (k) => `${k}="${String(labels[k]).replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`,
  );
  return `{${escaped.join(',')}}`;
}
