/** Texts of the editor view: zh-CN (default) and English. Keys are prefixed 'editor.'. */
export const zhCN = {
  'editor.menu': '网格编辑',
} as const;

export const en: Record<keyof typeof zhCN, string> = {
  'editor.menu': 'Grid editor',
};
