import type { Statement } from 'better-sqlite3';
import type { Db } from './database.ts';

/** Base of the SQLite stores: each statement is compiled once and reused (some run several times per search). */
export abstract class SqliteStore {
  private readonly statements = new Map<string, Statement>();

  constructor(protected readonly db: Db) {}

  protected stmt(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.db.prepare(sql)));
    return s;
  }
}
