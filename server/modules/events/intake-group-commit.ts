/**
 * Group commit for event intake: intakes that arrive while earlier ones are being written are gathered
 * and written together in ONE statement and ONE durable commit (events_report_batch, migration 0027).
 * Each caller is answered only after that commit, so durability is unchanged: an acknowledged event is
 * on disk. Nothing waits on a timer: an intake that finds a free slot (fewer than `maxInFlight` batches
 * being written) goes at once, alone if it is alone; the others queue until a batch returns, then go
 * together (up to `maxBatch`).
 *
 * Per caller, the outcome is what writing alone would give:
 * - One failing event does not fail the others: if the batch statement fails (PostgreSQL rolled it
 *   back: nothing was written), its events are written one at a time, each with its own answer or error.
 *   A failure without an SQLSTATE (connection lost: the commit may or may not have happened) is passed
 *   to every caller of the batch, as a single intake's would be, and nothing is retried.
 * - An Idempotency-Key goes into a batch once: a second intake with the same key in the same batch
 *   writes nothing and, after the commit, reads the first one's stored answer (as a retry racing the
 *   first request does).
 */
import type { Database } from '../../db/database';
import { insertReportedEvent, insertReportedEvents, type BatchedIntake, type WrittenEvent } from './event.repository';

export interface GroupCommitOptions {
  /** Batches written at the same time (each on its own connection). */
  maxInFlight?: number;
  /** Intakes in one statement at most. */
  maxBatch?: number;
}

interface Pending {
  item: BatchedIntake;
  resolve: (w: WrittenEvent | undefined) => void;
  reject: (err: unknown) => void;
}

/** A PostgreSQL error (it carries an SQLSTATE): the statement failed and was rolled back. */
function isStatementError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

export class IntakeGroupCommit {
  private queue: Pending[] = [];
  private inFlight = 0;
  private readonly maxInFlight: number;
  private readonly maxBatch: number;
  /** Batches written and intakes in them, for tests and benchmarks. */
  readonly stats = { batches: 0, intakes: 0, fallbacks: 0 };

  constructor(
    private readonly db: Database,
    opts: GroupCommitOptions = {},
  ) {
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 2);
    this.maxBatch = Math.max(1, opts.maxBatch ?? 64);
  }

  /** Intakes waiting for a batch slot. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Write one intake; resolves after its commit with the event written, or undefined if its key was held. */
  write(item: BatchedIntake): Promise<WrittenEvent | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async run(batch: Pending[]): Promise<void> {
    // One key once per statement; a repeat waits for the batch and then reads the stored answer.
    const seen = new Set<string>();
    const first: Pending[] = [];
    const repeats: Pending[] = [];
    for (const p of batch) {
      const key = p.item.key ? `${p.item.key.principalKey}\u0000${p.item.key.key}` : undefined;
      if (key !== undefined && seen.has(key)) repeats.push(p);
      else {
        if (key !== undefined) seen.add(key);
        first.push(p);
      }
    }
    this.stats.batches++;
    this.stats.intakes += batch.length;
    let written: Array<WrittenEvent | undefined>;
    try {
      written = await insertReportedEvents(this.db, first.map((p) => p.item));
    } catch (err) {
      if (!isStatementError(err) || batch.length === 1) {
        for (const p of batch) p.reject(err);
        return;
      }
      // Rolled back as a whole: each on its own (a repeated key then finds its first one's row, or waits for it).
      this.stats.fallbacks++;
      await Promise.all(batch.map(async (p) => {
        try {
          p.resolve(await insertReportedEvent(this.db, p.item.row, p.item.dup, p.item.key));
        } catch (e) {
          p.reject(e);
        }
      }));
      return;
    }
    first.forEach((p, i) => p.resolve(written[i]));
    for (const p of repeats) p.resolve(undefined);
  }
}

const groups = new WeakMap<object, IntakeGroupCommit>();

/** The group commit of a database (keyed by the root Kysely instance, like the intake caches). */
export function groupCommitOf(db: Database, opts?: GroupCommitOptions): IntakeGroupCommit {
  let g = groups.get(db);
  if (!g) groups.set(db, (g = new IntakeGroupCommit(db, opts)));
  return g;
}
