/** Placeholder until the editor lands (same commit series). */
import { t } from '../../i18n/i18n';
import type { View } from '../view';

export const view: View = {
  id: 'editor',
  roles: ['planner'],
  mount({ panel }) {
    const title = document.createElement('h2');
    title.textContent = t('editor.menu');
    panel.append(title);
    return () => title.remove();
  },
};
