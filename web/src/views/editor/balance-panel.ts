/**
 * Household balance: one bar per grid, its length the households, the target range shaded, coloured
 * under/ok/over — the population-balance chart of redistricting tools. Residents come from the
 * re-division impact preview (what each grid of this layout would hold).
 */
import { gridLabel } from './grid-label';
import type { LayoutValidationReport } from '@contracts/layout-validation';
import type { LayoutImpact } from '@contracts/registry';
import { t } from '../../i18n/i18n';
import { el } from '../../ui/dom';

export function renderBalance(root: HTMLElement, report: LayoutValidationReport | null, impact: LayoutImpact | null, onSelect: (gridId: number) => void): void {
  const min = report?.options.householdsMin ?? 300;
  const max = report?.options.householdsMax ?? 500;
  root.replaceChildren(el('h3', '', t('editor.balance', { min, max })));
  if (!report) return;
  const residents = new Map(impact?.grids.map((g) => [g.gridId, g.residents]) ?? []);
  const scaleMax = Math.max(max * 1.4, ...report.households.map((h) => h.households ?? 0));
  const chart = el('div', 'balance');
  chart.dataset.testid = 'balance';
  for (const h of [...report.households].sort((a, b) => (a.gridCode ?? '').localeCompare(b.gridCode ?? '') || a.gridId - b.gridId)) {
    const row = el('div', `balance-row ${h.status}`);
    row.dataset.testid = `balance-${h.gridId}`;
    row.dataset.households = String(h.households ?? '');
    row.addEventListener('click', () => onSelect(h.gridId));
    const label = el('span', 'balance-label', gridLabel(h.gridCode, h.gridId));
    const track = el('span', 'balance-track');
    const band = el('span', 'balance-band');
    band.style.left = `${(min / scaleMax) * 100}%`;
    band.style.width = `${((max - min) / scaleMax) * 100}%`;
    const bar = el('span', 'balance-bar');
    bar.style.width = `${(((h.households ?? 0) / scaleMax) * 100).toFixed(1)}%`;
    track.append(band, bar);
    const value = el('span', 'balance-value', h.households === null ? t('editor.balance.unknown') : t('editor.balance.row', { households: h.households, residents: residents.get(h.gridId) ?? '–' }));
    row.title = value.textContent ?? '';
    row.append(label, track, value);
    chart.append(row);
  }
  root.append(chart);
}
