/**
 * The audit log in a real browser: the demo auditor signs in and gets the log (no map: the table has
 * the window's width), finds their own sign-in among the rows, filters by action and actor as the API
 * does, and verifies the hash chain: intact, in both languages.
 */
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditPage, AuditVerification } from '../../server/contracts/audit';
import { screenshotPath } from '../../server/test/browser';
import { useWebApp, watchProblems } from '../../server/test/web-app';

describe('audit log (auditor) in a real browser', () => {
  const web = useWebApp();
  let token: string;
  const api = <T>(url: string): Promise<T> => web.fetchJson<T>(token, url);

  beforeAll(async () => {
    token = (await web.signIn('demo-auditor')).accessToken;
  });

  const rows = (page: Page): Promise<Array<{ id: string | null; action: string | null; actor: string | null }>> =>
    page.getByTestId('audit-row').evaluateAll((trs) => trs.map((tr) => ({ id: tr.getAttribute('data-id'), action: tr.getAttribute('data-action'), actor: tr.getAttribute('data-actor') })));

  it("shows the log with the auditor's own sign-in, filters it, and verifies the chain", async () => {
    const page = await web.newPage();
    const problems = watchProblems(page);
    await web.openSignedIn(page, 'demo-auditor', { waitFor: '[data-testid="audit-view"]' });
    expect(await page.getByTestId('menu').locator('button').evaluateAll((bs) => bs.map((b) => b.getAttribute('data-testid')))).toEqual(['menu-audit']);
    expect(await page.getByTestId('menu-audit').textContent()).toBe('审计日志');
    await expect.poll(() => page.getByTestId('audit-view').getAttribute('data-entries')).toMatch(/^[1-9][0-9]*$/);

    // no map: the panel has the window's width
    expect(await page.locator('#map').isVisible()).toBe(false);
    expect((await page.locator('#panel').boundingBox())!.width).toBe(1280);

    // the page's own sign-in is the auditor's newest one, and it is in the table
    const signIns = await api<AuditPage>('/api/v1/audit?action=auth.sign_in&actorName=demo-auditor');
    const newest = signIns.entries[0]!;
    expect(newest.outcome).toBe('success');
    const shown = await rows(page);
    expect(shown).toContainEqual({ id: String(newest.id), action: 'auth.sign_in', actor: 'demo-auditor' });
    // the action and its target in the reader's words, the code beside it for the filter
    const signInRow = page.locator(`[data-testid="audit-row"][data-id="${newest.id}"]`);
    expect(await signInRow.getByTestId('audit-action').textContent()).toBe('登录 auth.sign_in');
    expect(await signInRow.getByTestId('audit-target').textContent()).toBe(`账号 ${newest.targetId}`);
    // newest first, as the API answers
    const ids = shown.map((r) => Number(r.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const all = await api<AuditPage>('/api/v1/audit?limit=100');
    expect(ids.slice(0, 10)).toEqual(all.entries.filter((e) => e.id <= ids[0]!).slice(0, 10).map((e) => e.id));

    // ---- filters: the API's answer for the same query ----
    await page.getByTestId('audit-filter-action').fill('auth.sign_in');
    await page.getByTestId('audit-filter-actorName').fill('demo-auditor');
    await page.getByTestId('audit-apply').click();
    await expect.poll(async () => (await rows(page)).map((r) => r.id)).toEqual(signIns.entries.map((e) => String(e.id)));
    for (const r of await rows(page)) expect(r).toMatchObject({ action: 'auth.sign_in', actor: 'demo-auditor' });
    expect(new URL(page.url()).searchParams.get('auditAction')).toBe('auth.sign_in');
    // an action prefix
    await page.getByTestId('audit-filter-action').fill('user.');
    await page.getByTestId('audit-filter-actorName').fill('');
    await page.getByTestId('audit-apply').click();
    const users = await api<AuditPage>('/api/v1/audit?action=user.');
    expect(users.entries.length).toBeGreaterThan(0);
    await expect.poll(async () => (await rows(page)).map((r) => r.id)).toEqual(users.entries.map((e) => String(e.id)));

    // ---- verify the chain ----
    await page.getByTestId('audit-verify').click();
    await expect.poll(() => page.getByTestId('audit-verify-result').getAttribute('data-ok')).toBe('true');
    const verified = await api<AuditVerification>('/api/v1/audit/verify');
    expect(verified.ok).toBe(true);
    expect(await page.getByTestId('audit-verify-result').textContent()).toMatch(/^哈希链完整：已校验 \d+ 条记录（最新 #\d+）$/);
    await page.screenshot({ path: screenshotPath('audit') });

    // ---- English: the filters stay (URL), and the check says "intact" ----
    await page.getByTestId('lang-switch').click();
    await expect.poll(() => page.getByTestId('menu-audit').textContent()).toBe('Audit log');
    expect(await page.locator('[data-testid="audit-row"][data-action="user.create"]').first().getByTestId('audit-action').textContent()).toBe('Account created user.create');
    expect(await page.getByTestId('audit-filter-action').inputValue()).toBe('user.');
    await expect.poll(async () => (await rows(page)).map((r) => r.id)).toEqual(users.entries.map((e) => String(e.id)));
    await page.getByTestId('audit-verify').click();
    await expect.poll(() => page.getByTestId('audit-verify-result').textContent()).toMatch(/^The hash chain is intact: \d+ entries checked/);

    // ---- on a phone: the table scrolls in its box, the page is no wider than the screen ----
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBe(390);
    await page.screenshot({ path: screenshotPath('audit-phone') });

    // ---- signing out brings the map back for the sign-in form ----
    await page.getByTestId('sign-out').click();
    await page.waitForSelector('[data-testid="sign-in"]');
    expect(await page.locator('#map').isVisible()).toBe(true);

    expect(problems).toEqual([]);
    await page.close();
  });
});
