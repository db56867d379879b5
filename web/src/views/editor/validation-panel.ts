/**
 * The layout's topology report as a list: each problem clickable (zoom to it and highlight it), with
 * the fix the server offers where there is one (clip a part outside, give a gap to its neighbour).
 */
import { gridLabel } from './grid-label';
import type { LayoutProblem, LayoutValidationReport } from '@contracts/layout-validation';
import { t } from '../../i18n/i18n';
import { button, el } from '../../ui/dom';

export interface ValidationHandlers {
  onShow(problem: LayoutProblem): void;
  onClip?(gridId: number): void;
  onFillGap?(problem: Extract<LayoutProblem, { kind: 'gap' }>): void;
}

export function renderValidation(root: HTMLElement, report: LayoutValidationReport | null, handlers: ValidationHandlers): void {
  root.replaceChildren(el('h3', '', t('editor.validation')));
  if (!report) return;
  const summary = el('p', report.summary.publishable ? 'ok-text' : 'error', report.summary.publishable ? t('editor.validation.publishable') : t('editor.validation.blocked'));
  summary.dataset.testid = 'validation-summary';
  root.append(summary);
  const list = el('ul', 'problems');
  list.dataset.testid = 'problems';
  if (report.problems.length === 0) root.append(el('p', 'muted', t('editor.validation.none')));
  report.problems.forEach((problem, i) => {
    const item = el('li', `problem ${problem.severity}`);
    item.dataset.testid = `problem-${problem.kind}`;
    item.dataset.index = String(i);
    const text = button(`${t(problem.severity === 'error' ? 'editor.problem.error' : 'editor.problem.warning')} · ${describeProblem(problem)}`, `show-problem-${i}`, () => handlers.onShow(problem), 'link');
    item.append(text);
    if (problem.kind === 'outside' && handlers.onClip && problem.gridIds[0] !== undefined) {
      const gridId = problem.gridIds[0];
      item.append(button(t('editor.clip'), `fix-clip-${i}`, () => handlers.onClip?.(gridId), 'small'));
    }
    if (problem.kind === 'gap' && handlers.onFillGap && problem.suggestedGridId !== null) {
      item.append(button(t('editor.fillGap'), `fix-gap-${i}`, () => handlers.onFillGap?.(problem), 'small'));
    }
    list.append(item);
  });
  root.append(list);
}

/** One problem in words, e.g. "Too many households: 001, 564 households". */
export function describeProblem(p: LayoutProblem): string {
  const codes = p.gridCodes.map((c, i) => gridLabel(c, p.gridIds[i] ?? 0)).join(t('list.separator'));
  switch (p.kind) {
    case 'overlap':
      return t('editor.problem.overlap', { codes, area: Math.round(p.areaM2) });
    case 'gap':
      return t('editor.problem.gap', { area: Math.round(p.areaM2) });
    case 'outside':
      return t('editor.problem.outside', { codes, area: Math.round(p.areaM2) });
    case 'sliver':
      return t('editor.problem.sliver', { codes, area: Math.round(p.areaM2) });
    case 'multipart':
      return t('editor.problem.multipart', { codes, parts: p.parts });
    case 'households':
      return t('editor.problem.households', { codes, households: p.households, status: t(p.status === 'under' ? 'editor.problem.under' : 'editor.problem.over') });
  }
}
