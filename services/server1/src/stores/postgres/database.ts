import { AppError, StoreUnavailableError } from '@jwt-handoff/shared';
import pg from 'pg';

/** Where a query can run: the pool, or the one client of a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** server1's PostgreSQL database: a pool whose failures become `store_unavailable`. */
export interface PostgresDatabase extends Queryable {
  /**
   * Runs `work` in one transaction on one client: committed when it resolves, rolled back when
   * it throws. `timeoutMs` replaces the statement timeout inside it (the migrations' longer one).
   */
  transaction<T>(work: (client: Queryable) => Promise<T>, options?: { timeoutMs?: number }): Promise<T>;
  /** Whether the last query or health probe reached the server (for /readyz). */
  readonly available: boolean;
  close(): Promise<void>;
}

/** Options of {@link openPostgres}. */
export interface PostgresOptions {
  /** `postgres://user:password@host:port/database` (DATABASE_URL). */
  url: string;
  /** Connections the pool may hold (DATABASE_POOL_MAX). */
  poolMax: number;
  /**
   * Bound on getting a connection and on each statement, in ms (DATABASE_TIMEOUT_MS): a request
   * that needs the database answers within about this long, whether the server is down, stuck
   * or unreachable.
   */
  timeoutMs: number;
  /** How often the health probe runs while nothing else touches the database, in ms. */
  probeIntervalMs?: number;
  /** Where connection problems are reported (the app's logger). */
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

// int8 (count(*), the BIGINT millisecond columns) comes back as a string by default. Every
// bigint here is a time in ms or a row count, far inside Number's exact range.
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as never,
};

/**
 * Opens the pool and checks that the server answers. Nothing here throws a bare driver error at
 * a request: every failure to reach the server (refused, reset, timed out, shut down) becomes
 * {@link StoreUnavailableError}, answered 503 `store_unavailable`, so server1 fails closed with a
 * stable reason and no stack in the answer (and the log has one warning line, not a stack per
 * request). SQL errors (a bug, a constraint) stay what they are.
 */
export async function openPostgres(options: PostgresOptions): Promise<PostgresDatabase> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    connectionTimeoutMillis: options.timeoutMs,
    // Both ends bound a statement: the server cancels it, and the client stops waiting even when
    // the server cannot answer at all (a network partition).
    statement_timeout: options.timeoutMs,
    query_timeout: options.timeoutMs + 500,
    idle_in_transaction_session_timeout: options.timeoutMs * 2,
    types,
  });
  let available = true;
  const markDown = (err: unknown) => {
    if (available) options.log.warn({ err }, 'PostgreSQL unavailable: answering 503 store_unavailable');
    available = false;
  };
  const markUp = () => {
    if (!available) options.log.info({}, 'PostgreSQL reachable again');
    available = true;
  };
  // An idle client whose connection dies (the server restarted) emits 'error' on the pool; an
  // unhandled 'error' event would crash the process.
  pool.on('error', (err) => markDown(err));

  const translate = (err: unknown): unknown => {
    if (!isUnavailable(err)) return err;
    markDown(err);
    return new StoreUnavailableError('PostgreSQL', err);
  };
  const query = async <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => {
    try {
      const result = await pool.query<R>(text, values);
      markUp();
      return result;
    } catch (err) {
      throw translate(err);
    }
  };

  const probe = setInterval(() => {
    query('SELECT 1').catch(() => {});
  }, options.probeIntervalMs ?? 1_000);
  probe.unref();

  const db: PostgresDatabase = {
    query,
    get available() {
      return available;
    },
    async transaction(work, transactionOptions = {}) {
      const timeoutMs = transactionOptions.timeoutMs;
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw translate(err);
      }
      let broken: unknown;
      try {
        await client.query('BEGIN');
        if (timeoutMs !== undefined)
          await client.query(`SET LOCAL statement_timeout = ${Math.floor(timeoutMs)}`);
        const result = await work({
          query: (text, values) =>
            timeoutMs === undefined
              ? client.query(text, values)
              : client.query({ text, values, query_timeout: timeoutMs + 500 } as pg.QueryConfig),
        });
        await client.query('COMMIT');
        markUp();
        return result;
      } catch (err) {
        broken = err;
        await client.query('ROLLBACK').catch(() => {});
        throw translate(err);
      } finally {
        // A client whose connection failed is thrown away rather than handed to the next query.
        client.release(broken !== undefined && isUnavailable(broken) ? (broken as Error) : undefined);
      }
    },
    async close() {
      clearInterval(probe);
      await pool.end();
    },
  };
  try {
    await db.query('SELECT 1');
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
  return db;
}

// SQLSTATE classes that mean "the server cannot serve this now", not "this query is wrong":
// 08 connection exception, 53 insufficient resources, 57 operator intervention (shutdown,
// statement_timeout's query_canceled 57014), 58 system error.
const UNAVAILABLE_CLASSES = ['08', '53', '57', '58'];

/** Whether `err` says the server could not be reached or could not answer, rather than a bad query. */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof StoreUnavailableError) return true;
  if (err instanceof AppError) return err.reason === 'store_unavailable';
  if (err instanceof pg.DatabaseError) return UNAVAILABLE_CLASSES.includes((err.code ?? '').slice(0, 2));
  if (!(err instanceof Error)) return false;
  // A socket error (ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE, ...), or pg's own timeouts and
  // lost connections, which carry no code at all.
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('E')) return true;
  return /connection|timeout|terminated|not queryable/i.test(err.message);
}
