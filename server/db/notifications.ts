/**
 * One LISTEN connection per server process, shared by every in-memory cache (tiles now, dispatch
 * later) that must follow PostgreSQL's data. Several server processes each hold their own, so all stay
 * in sync. If the connection drops, notifications may have been missed: subscribers get `onReconnect`
 * and must treat their state as stale.
 */
import type pg from 'pg';

type Handler = (payload: string) => void;

export class NotificationHub {
  private client: pg.PoolClient | undefined;
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly reconnectHandlers = new Set<() => void>();
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: (msg: string, err?: unknown) => void = () => undefined,
  ) {}

  /** Subscribe before `start()`; channels are fixed for the process's life. */
  on(channel: string, handler: Handler): void {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`bad channel name ${channel}`);
    let set = this.handlers.get(channel);
    if (!set) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
  }

  onReconnect(handler: () => void): void {
    this.reconnectHandlers.add(handler);
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  async start(): Promise<void> {
    if (this.closed) return;
    try {
      const client = await this.pool.connect();
      client.on('notification', (msg) => {
        for (const handler of this.handlers.get(msg.channel) ?? []) handler(msg.payload ?? '');
      });
      client.on('error', (err) => this.lost(err));
      for (const channel of this.handlers.keys()) await client.query(`LISTEN ${channel}`);
      this.client = client;
      for (const handler of this.reconnectHandlers) handler();
    } catch (err) {
      this.lost(err);
    }
  }

  private lost(err: unknown): void {
    const client = this.client;
    this.client = undefined;
    if (client) client.release(true);
    for (const handler of this.reconnectHandlers) handler();
    if (this.closed) return;
    this.log('notification connection lost; retrying in 1 s', err);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.start(), 1_000);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    if (client) {
      await client.query('UNLISTEN *').catch(() => undefined);
      client.release();
    }
  }
}
