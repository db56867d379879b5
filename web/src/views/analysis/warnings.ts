import type { AnalysisWarning } from '@contracts/analysis';
import { isMessageKey, t } from '../../i18n/i18n';

/** A server warning in the reader's language, by its code; one this app does not know yet in the server's English. */
export function warningText(w: AnalysisWarning): string {
  const key = `analysis.warning.${w.code}`;
  return isMessageKey(key) ? t(key, w.params) : w.message;
}
