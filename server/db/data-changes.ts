/**
 * Announcing a data change on `wangge_data_changed` from the application, coalesced: at most one
 * NOTIFY per layer every `delayMs`, sent in its own tiny statement AFTER the writes it covers committed.
 *
 * Why not a trigger: a transaction that NOTIFYs takes a cluster-wide lock at commit (PostgreSQL queues
 * notifications in commit order) and holds it through its WAL flush, so a NOTIFY in every event intake
 * would serialise the group-committed intake path (measured: about half the throughput, see README).
 * Event intake therefore announces here; everything else that changes events (transitions, imports,
 * SQL by hand) is announced by the trigger of migrations/0021_event_tiles.sql.
 *
 * If the process dies between a commit and the NOTIFY, caches of other processes miss that change;
 * event tiles are also keyed by the minute (tile.service.ts), which bounds such staleness to a minute.
 */
import { sql } from 'kysely';
import type { Database } from './database';

export const DATA_CHANGED_CHANNEL = 'wangge_data_changed';

export class DataChangeAnnouncer {
  private readonly pending = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly db: Database,
    private readonly delayMs = 50,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Call after the change committed. */
  announce(layer: string): void {
    if (this.pending.has(layer)) return;
    const timer = setTimeout(() => {
      this.pending.delete(layer);
      sql`SELECT pg_notify(${DATA_CHANGED_CHANNEL}, ${layer})`.execute(this.db).catch(this.onError);
    }, this.delayMs);
    timer.unref();
    this.pending.set(layer, timer);
  }

  /** Drop pending announcements (on shutdown). */
  close(): void {
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
  }
}
