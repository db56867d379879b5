/** Simplified Chinese: the default language. Every user-visible text lives in these message files. */
export const zhCN = {
  'app.title': '网格化管理',
  'app.subtitle': '社区网格 · 派单 · 分析',
  'lang.switch': 'English',
  'lang.name': '中文',
  'panel.status': '服务状态',
  'health.ok': '数据库正常',
  'health.down': '数据库不可用',
  'health.checking': '正在检查…',
  'map.loading': '地图加载中…',
  'map.ready': '地图已就绪',
  'grids.published': '已发布网格',
  'error.config': '无法读取服务配置',
} as const;

export type ShellMessageKey = keyof typeof zhCN;
