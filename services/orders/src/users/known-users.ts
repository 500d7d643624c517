import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * The user ids this process has seen in the `users` table, so `POST /orders` checks its user without a database
 * round trip per request (the largest cost of intake once measured: about 520 µs of Node CPU and 275 µs of
 * PostgreSQL per request).
 *
 * Only ids that exist are remembered, and users are never deleted, so the cache can never answer "exists" wrongly:
 * it holds nothing stale. An id it does not know is looked up (a user registered through another instance), and a
 * miss is not remembered, so a user registered a moment later is found. Bounded: past `capacity` ids the oldest
 * are forgotten and looked up again when they come back.
 */
@Injectable()
export class KnownUsers {
  private readonly ids = new BoundedSet(100_000);

  constructor(private readonly db: DataSource) {}

  /** Remembers a user this process has just stored. */
  remember(userId: string): void {
    this.ids.add(userId);
  }

  async exists(userId: string): Promise<boolean> {
    if (this.ids.has(userId)) return true;
    const rows = await this.db.query<unknown[]>('SELECT 1 FROM users WHERE id = $1', [userId]);
    if (rows.length === 0) return false;
    this.remember(userId);
    return true;
  }

  get size(): number {
    return this.ids.size;
  }
}

/** A set that forgets its oldest entries past `capacity`. */
export class BoundedSet {
  private readonly entries = new Set<string>();

  constructor(private readonly capacity: number) {}

  add(value: string): void {
    if (this.entries.has(value)) return;
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.values().next().value!);
    this.entries.add(value);
  }

  has(value: string): boolean {
    return this.entries.has(value);
  }

  get size(): number {
    return this.entries.size;
  }
}
