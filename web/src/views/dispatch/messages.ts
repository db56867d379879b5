/** Texts of the dispatch view: zh-CN (default) and English. Keys are prefixed 'dispatch.'. */
export const zhCN = {
  'dispatch.menu': '派单台',
} as const;

export const en: Record<keyof typeof zhCN, string> = {
  'dispatch.menu': 'Dispatch',
};
