import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/** Label values of one sample, e.g. `{ reason: 'token_expired' }`. */
export type Labels = Readonly<Record<string, string>>;

/** Options of a {@link MetricsRegistry}. */
export interface MetricsRegistryOptions {
  /**
   * Also render the process metrics: CPU, memory and heap, event-loop lag, GC, handles, open
   * files, Node version. Default: on in a process started by `runService`, off otherwise (an app
   * built by a test renders only its own metrics unless it asks).
   */
  processMetrics?: boolean;
}

let processMetricsByDefault = false;
let processRegistry: Registry | undefined;

/**
 * Makes every {@link MetricsRegistry} created from now on render the process metrics unless it
 * says otherwise. `runService` calls it: the metrics describe the process it runs.
 */
export function renderProcessMetricsByDefault(): void {
  processMetricsByDefault = true;
}

/**
 * The process metrics, collected once per process into their own registry. prom-client's
 * collectors cannot be stopped (an event-loop delay histogram sampling every 10 ms, a GC
 * performance observer), so they are started at most once, however many apps a test process
 * builds; neither keeps the process alive. Every registry that renders them shares this one.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * The metrics of one app, on a prom-client registry of its own (never prom-client's global one,
 * so apps built side by side in one process do not collide): counters incremented by the code,
 * gauges read when scraped, and optionally the process metrics. It holds no timer or handle of
 * its own, so there is nothing to close with the app.
 */
export class MetricsRegistry {
  private readonly registry = new Registry();
  private readonly names = new Set<string>();
  private readonly process: Registry | undefined;

  constructor(options: MetricsRegistryOptions = {}) {
    this.process = (options.processMetrics ?? processMetricsByDefault) ? processMetrics() : undefined;
  }

  /** The content type of {@link render}'s text: Prometheus text format, version 0.0.4. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * Declares a counter; returns a function that adds `by` (default 1) to it. The label names are
   * those of the first increment (every later one must use the same); a counter never
   * incremented has no sample yet.
   */
  counter(name: string, help: string): (labels?: Labels, by?: number) => void {
    this.declare(name);
    let counter: Counter | undefined;
    return (labels = {}, by = 1) => {
      counter ??= new Counter({ name, help, labelNames: Object.keys(labels), registers: [this.registry] });
      counter.inc(labels, by);
    };
  }

  /** Declares a gauge whose value `collect` reads at scrape time. */
  gauge(name: string, help: string, collect: () => number | Promise<number>): void {
    this.declare(name);
    new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        this.set(await collect());
      },
    });
  }

  /** The whole registry in the Prometheus text exposition format (version 0.0.4). */
  async render(): Promise<string> {
    return (this.process ? Registry.merge([this.registry, this.process]) : this.registry).metrics();
  }

  private declare(name: string): void {
    if (this.names.has(name) || this.process?.getSingleMetric(name))
      throw new Error(`metric ${name} is declared twice`);
    this.names.add(name);
  }
}
