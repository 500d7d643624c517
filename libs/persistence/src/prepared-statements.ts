import { createHash } from 'node:crypto';
import pg from 'pg';

/**
 * How many distinct statement texts a process prepares. The services send a few dozen; a text built with a varying
 * number of placeholders (a multi-row insert, say) adds one per shape. Past this bound new texts run unnamed, as
 * before, so a process that builds statements from data cannot grow the prepared statements of its sessions
 * without bound.
 */
export const MAX_PREPARED_STATEMENTS = 500;

const names = new Map<string, string>();

/** The name a statement text is prepared under: the same in every session of the process, or none past the bound. */
export function preparedNameFor(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_PREPARED_STATEMENTS) {
    name = `am_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * A `pg` client that sends every statement with parameters as a named prepared statement. The default sends it
 * unnamed: PostgreSQL parses it and plans it on every execution, which cost about two thirds of the database's time
 * per statement in the bench's saga (its parse and bind against its execute, in the server's log). Named, a session
 * parses each text once, and after a few executions PostgreSQL keeps a generic plan when it is no worse (the
 * default `plan_cache_mode`). A statement without parameters (`START TRANSACTION`, `COMMIT`, DDL) still goes as
 * a simple query.
 */
export class PreparingClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    const query = this.query.bind(this) as (...args: unknown[]) => unknown;
    this.query = ((...args: unknown[]) => {
      const [text, values, ...rest] = args;
      if (typeof text === 'string' && Array.isArray(values) && values.length > 0) {
        const name = preparedNameFor(text);
        if (name !== undefined) return query({ name, text, values }, ...rest);
      }
      return query(...args);
    }) as pg.Client['query'];
  }
}

/** A pool of `PreparingClient`s. */
export class PreparingPool extends pg.Pool {
  constructor(config?: pg.PoolConfig) {
    super({ ...config, Client: PreparingClient as unknown as pg.PoolConfig['Client'] });
  }
}

/**
 * The `pg` module as TypeORM loads it (its `driver` option), with `Pool` and `Client` replaced by the preparing
 * ones. Everything else (types, defaults) is the module's own: it is the prototype, not a copy, so none of its
 * getters (`pg.native`) run.
 */
export const preparingPg: typeof pg = Object.assign(Object.create(pg) as typeof pg, {
  Pool: PreparingPool,
  Client: PreparingClient,
});
