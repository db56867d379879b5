/**
 * `npm run bench [-- name …]`: run every `scripts/bench/*.bench.ts` (or the named ones) one after the
 * other — never in parallel, the machine has two cores — and print where their JSON results went.
 * Each benchmark measures its own baseline in the same run and reports ratios, because this machine is
 * shared and absolute timings drift.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();

let failed = 0;
for (const file of benches) {
  console.log(`\n=== ${file} ===`);
  const res = spawnSync('npx', ['tsx', path.join(dir, file)], { stdio: 'inherit' });
  if (res.status !== 0) {
    failed += 1;
    console.error(`${file} failed (exit ${res.status ?? 'signal'})`);
  }
}
console.log(`\n${benches.length - failed} benchmark(s) ran, ${failed} failed; results in test-output/bench/`);
process.exitCode = failed > 0 ? 1 : 0;
