import type { AnalysisWarning } from '@contracts/analysis';
import { getLocale, isMessageKey, t } from '../../i18n/i18n';

/** A server warning in the reader's language, by its code; one this app does not know yet in the server's English. */
export function warningText(w: AnalysisWarning): string {
  const key = `analysis.warning.${w.code}`;
  return isMessageKey(key) ? t(key, w.params) : w.message;
}

/**
 * A result's status line: counts, then each warning as its own sentence ("Events: 3; features: 1.
 * Note: ….", not "3 events, 1 features Note: …" run together).
 */
export function analysisSummary(s: { events: number; n: number; warnings: readonly AnalysisWarning[] }): string {
  return [t('analysis.summary', { events: s.events, n: s.n }), ...s.warnings.map((w) => t('analysis.warning', { text: warningText(w).replace(/[.。]$/, '') }))].join(getLocale() === 'en' ? ' ' : '');
}
