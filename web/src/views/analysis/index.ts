/**
 * Placeholder created by the shell so the registry resolves; the analysis view's own helper replaces it.
 */
import { t } from '../../i18n/i18n';
import type { View } from '../view';

export const view: View = {
  id: 'analysis',
  roles: ['analyst', 'community_manager', 'street_manager'],
  mount({ panel }) {
    const title = document.createElement('h2');
    title.textContent = t('analysis.menu');
    panel.append(title);
    return () => title.remove();
  },
};
