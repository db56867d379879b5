/** Shared plumbing for the `db:*` scripts: one way to report failures with their fix. */
import { LocalPostgresError } from '../server/db/local-postgres';
import { MigrationError } from '../server/db/migration-error';
import { RegistryKeyMismatchError } from '../server/modules/registry/registry-key.service';

export function runCli(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    if (err instanceof LocalPostgresError || err instanceof MigrationError || err instanceof RegistryKeyMismatchError) {
      console.error(`\n${err.message}`);
      if (err.hint) console.error(`\n  ${err.hint}\n`);
    } else {
      console.error(err);
    }
    process.exit(1);
  });
}
