import pg from 'pg';

/** The pool or one of its clients (inside a transaction). */
export type Queryable = pg.Pool | pg.PoolClient;

const INT8_OID = 20;

/**
 * Per-pool type parsing: bigint (int8) columns and count(*) come back as numbers. Times are ms and
 * tokens come from a sequence, so every value stays far below 2^53. Set per pool, not through the
 * global pg.types, so other pg users in the process keep the default.
 */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

export function createPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, types: TYPES });
  // An idle client whose connection broke is removed from the pool, which then emits 'error';
  // without a listener that would crash the process. The next query opens a fresh connection.
  pool.on('error', () => {});
  return pool;
}

export async function rows<T extends pg.QueryResultRow>(
  q: Queryable,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  return (await q.query<T>(sql, params)).rows;
}

export async function first<T extends pg.QueryResultRow>(
  q: Queryable,
  sql: string,
  params: unknown[] = [],
): Promise<T | undefined> {
  return (await q.query<T>(sql, params)).rows[0];
}

/** Runs a write and returns how many rows it changed. */
export async function run(q: Queryable, sql: string, params: unknown[] = []): Promise<number> {
  return (await q.query(sql, params)).rowCount ?? 0;
}

/**
 * Runs `fn` on one client inside a transaction. Resolves only after COMMIT returned, which with
 * the server's default synchronous_commit = on means the WAL record was flushed. A client whose
 * ROLLBACK failed is destroyed rather than returned to the pool.
 */
export async function transaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(begin);
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      broken = rollbackError as Error;
    }
    throw err;
  } finally {
    client.release(broken);
  }
}

/** Several reads that must agree (one snapshot), without blocking writers. */
export function snapshot<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return transaction(pool, fn, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
}
