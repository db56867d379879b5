/**
 * The request log at level info: a search of residents by ID number must not write the full number
 * (every response masks it; the log would keep it, readable by whoever reads the server's output).
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ logLevel: 'info' });
});
afterAll(async () => t.close());

describe('request log', () => {
  it('leaves searched ID numbers and phones out of the logged URL', async () => {
    const written: string[] = [];
    // pino writes its lines to stdout through fs.write (sonic-boom): catch them there.
    const spy = vi.spyOn(fs, 'write').mockImplementation(((_fd: number, data: unknown, ...rest: unknown[]) => {
      written.push(String(data));
      const done = rest.find((r) => typeof r === 'function') as ((err: null, n: number) => void) | undefined;
      done?.(null, Buffer.byteLength(String(data)));
    }));
    try {
      expect((await t.inject('/api/v1/residents?idNumber=41010519750607023X&limit=5')).statusCode).toBe(200);
      expect((await t.inject('/api/v1/residents/export?idNumber=41010519750607023X')).statusCode).toBe(200);
    } finally {
      spy.mockRestore();
    }
    const log = written.join('');
    expect(log).toContain('incoming request');
    expect(log).toContain('/api/v1/residents?idNumber=[redacted]&limit=5');
    expect(log).not.toContain('41010519750607023X');
  });
});
