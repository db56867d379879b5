import type { ShellMessageKey } from './zh-CN';

export const en: Record<ShellMessageKey, string> = {
  'app.title': 'Grid governance',
  'app.subtitle': 'Community grids · dispatch · analysis',
  'lang.switch': '中文',
  'lang.name': 'English',
  'panel.status': 'Service status',
  'health.ok': 'Database OK',
  'health.down': 'Database unavailable',
  'health.checking': 'Checking…',
  'map.loading': 'Loading map…',
  'map.ready': 'Map ready',
  'grids.published': 'Published grids',
  'error.config': 'Could not read the service settings',
};
