/**
 * Names for the tile statements. Tile SQL texts differ only by layer and filters (z/x/y and the filter
 * values are parameters), so each text runs as a named statement: PostgreSQL parses and plans it once
 * per connection instead of on every tile. A grid tile spent about 40 % of its PostgreSQL time parsing
 * and planning (PostGIS's overloaded functions make both slow; README "Benchmarks").
 *
 * Texts with many variants (event filters, scopes of any number of prefixes) are named too, but only up
 * to `max` distinct texts a process: later new texts run unnamed, so odd filters cannot fill every
 * connection with plans. Named statements need a session per client connection: a transaction-mode
 * pooler between the server and PostgreSQL (PgBouncer before 1.21) would not keep them.
 */
import { hash } from 'node:crypto';

export class StatementNames {
  private readonly names = new Map<string, string>();

  constructor(
    private readonly prefix: string,
    private readonly max: number,
  ) {}

  /** The name for this SQL text, or undefined once `max` texts have names (run it unnamed). */
  nameOf(text: string): string | undefined {
    let name = this.names.get(text);
    if (name === undefined && this.names.size < this.max) {
      // The text's hash: one text, one name, on every connection and in every process; 24 hex digits
      // keep prefix + hash within PostgreSQL's 63-byte identifiers.
      name = `${this.prefix}${hash('sha1', text, 'hex').slice(0, 24)}`;
      this.names.set(text, name);
    }
    return name;
  }

  get size(): number {
    return this.names.size;
  }
}
