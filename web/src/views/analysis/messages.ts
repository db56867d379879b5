/** Texts of the analysis view: zh-CN (default) and English. Keys are prefixed 'analysis.'. */
export const zhCN = {
  'analysis.menu': '分析地图',
} as const;

export const en: Record<keyof typeof zhCN, string> = {
  'analysis.menu': 'Analysis map',
};
