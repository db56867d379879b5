/** A migration that cannot run, with the fix when there is one (its own module: the CLIs need it without Kysely). */
export class MigrationError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = 'MigrationError';
  }
}
