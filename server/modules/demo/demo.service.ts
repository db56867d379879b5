import type { Database } from '../../db/database';

export interface DemoLoadResult {
  loaded: boolean;
  summary: Record<string, number>;
}

/** Load the demo city into an empty database. Placeholder until the divisions schema lands (issue #3). */
export async function loadDemoIfEmpty(_db: Database): Promise<DemoLoadResult> {
  return { loaded: false, summary: {} };
}
