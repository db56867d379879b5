/**
 * Name material. Surnames are weighted roughly by their share of the population (公安部 surname
 * reports); given-name characters are grouped by the generation in which they were fashionable, so
 * a 1950s grandmother is 桂兰 and her granddaughter 梓涵. Combinations are random: nothing refers to
 * a real person. Road names are common Zhengzhou-style names placed in a fictional district.
 */
import { type Rng, WeightedTable } from './random';
import { type Gender } from './types';

const SURNAME_WEIGHTS: readonly (readonly [string, number])[] = [
  ['王', 7.1], ['李', 7.0], ['张', 6.7], ['刘', 5.4], ['陈', 4.5], ['杨', 3.1], ['黄', 2.2], ['赵', 2.2], ['吴', 2.0],
  ['周', 1.9], ['徐', 1.3], ['孙', 1.3], ['马', 1.2], ['朱', 1.2], ['胡', 1.1], ['郭', 1.1], ['何', 1.0], ['高', 1.0],
  ['林', 1.0], ['罗', 0.9], ['郑', 0.9], ['梁', 0.8], ['谢', 0.7], ['宋', 0.7], ['唐', 0.6], ['许', 0.6], ['韩', 0.6],
  ['冯', 0.6], ['邓', 0.6], ['曹', 0.5], ['彭', 0.5], ['曾', 0.5], ['肖', 0.5], ['田', 0.5], ['董', 0.5], ['袁', 0.4],
  ['潘', 0.4], ['于', 0.4], ['蒋', 0.4], ['蔡', 0.4], ['余', 0.4], ['杜', 0.4], ['叶', 0.4], ['程', 0.4], ['苏', 0.3],
  ['魏', 0.3], ['吕', 0.3], ['丁', 0.3], ['任', 0.3], ['沈', 0.3], ['姚', 0.3], ['卢', 0.3], ['姜', 0.3], ['崔', 0.3],
  ['钟', 0.3], ['谭', 0.3], ['陆', 0.3], ['汪', 0.2], ['范', 0.2], ['金', 0.2], ['石', 0.2], ['廖', 0.2], ['贾', 0.2],
  ['夏', 0.2], ['韦', 0.2], ['付', 0.2], ['方', 0.2], ['白', 0.2], ['邹', 0.2], ['孟', 0.2], ['熊', 0.2], ['秦', 0.2],
  ['邱', 0.2], ['江', 0.2], ['尹', 0.2], ['薛', 0.2], ['闫', 0.2], ['段', 0.2], ['雷', 0.2], ['侯', 0.2], ['龙', 0.1],
  ['史', 0.1], ['陶', 0.1], ['黎', 0.1], ['贺', 0.1], ['顾', 0.1], ['毛', 0.1], ['郝', 0.1], ['龚', 0.1], ['邵', 0.1],
  ['万', 0.1], ['钱', 0.1], ['严', 0.1], ['武', 0.1], ['戴', 0.1], ['孔', 0.1], ['汤', 0.1], ['常', 0.1], ['牛', 0.1],
  ['申', 0.1], ['翟', 0.1], ['司马', 0.01], ['欧阳', 0.02], ['诸葛', 0.005],
];
const SURNAMES = new WeightedTable(SURNAME_WEIGHTS);

/** Given-name characters by birth cohort and gender. */
const GIVEN: Record<'old' | 'middle' | 'young', Record<Gender, readonly string[]>> = {
  old: {
    M: ['建国', '国强', '建华', '志强', '建军', '德胜', '保国', '振华', '国庆', '卫东', '红旗', '永福', '长海', '树林', '金生', '明', '军', '伟', '刚', '勇', '强', '华', '平', '斌'],
    F: ['秀英', '桂兰', '玉兰', '秀兰', '凤英', '淑珍', '桂英', '玉珍', '素芳', '淑华', '秀珍', '玉梅', '桂芳', '兰', '英', '芳', '华', '萍', '霞', '红', '娟'],
  },
  middle: {
    M: ['伟', '磊', '勇', '军', '涛', '斌', '强', '鹏', '杰', '浩', '海涛', '志刚', '晓东', '建伟', '俊杰', '明辉', '文博', '国栋', '鹏飞', '晓峰', '永刚', '立新', '振宇'],
    F: ['丽', '静', '敏', '燕', '艳', '娟', '霞', '芳', '婷', '丽娟', '晓燕', '海燕', '红梅', '丽华', '秀梅', '慧', '洁', '莉', '晶晶', '雪梅', '春燕', '亚楠'],
  },
  young: {
    M: ['浩然', '子轩', '宇轩', '梓豪', '俊熙', '子墨', '一鸣', '浩宇', '宇航', '博文', '天佑', '皓轩', '奕辰', '明轩', '睿', '诚', '昊', '宸', '嘉懿', '铭泽', '思远', '沐阳'],
    F: ['梓涵', '子涵', '欣怡', '诗涵', '梓萱', '一诺', '雨桐', '可馨', '紫涵', '思彤', '佳怡', '若汐', '语桐', '欣妍', '雅琪', '悦', '瑶', '琳', '梦瑶', '诗雨', '安琪', '婉清'],
  },
};

export function drawSurname(rng: Rng): string {
  return SURNAMES.draw(rng);
}

export function drawGivenName(rng: Rng, gender: Gender, birthYear: number): string {
  const cohort = birthYear < 1965 ? 'old' : birthYear < 1990 ? 'middle' : 'young';
  return rng.pick(GIVEN[cohort][gender]);
}

export function drawFullName(rng: Rng, gender: Gender, birthYear: number, surname = drawSurname(rng)): string {
  return surname + drawGivenName(rng, gender, birthYear);
}

const DIGITS = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'] as const;

/** 1..99 in Chinese numerals: 3 → 三, 12 → 十二, 40 → 四十. */
export function chineseNumber(n: number): string {
  if (n < 10) return DIGITS[n] ?? String(n);
  const tens = Math.floor(n / 10);
  const ones = n % 10;
  return `${tens === 1 ? '' : (DIGITS[tens] ?? '')}十${ones === 0 ? '' : (DIGITS[ones] ?? '')}`;
}

/** North–south roads (经 roads run north–south in Zhengzhou). */
const NORTH_SOUTH_ROADS = [
  '桐柏路', '嵩山路', '工人路', '大学路', '京广路', '铭功路', '二七路', '紫荆山路', '城东路', '未来路', '花园路', '文化路',
  '南阳路', '杜岭街', '银河路', '红专路', '玉凤路', '天明路', '丰庆路', '英协路', '政七街', '兴华街', '勤劳街', '福寿街',
];
/** East–west roads (纬 roads run east–west). */
const EAST_WEST_ROADS = [
  '建设路', '中原路', '陇海路', '航海路', '淮河路', '棉纺路', '农业路', '黄河路', '金水路', '纬五路', '纬四路', '东风路',
  '丰产路', '政通路', '互助路', '红旗路', '三全路', '国基路', '商城路', '顺河路', '郑汴路', '伏牛路', '秦岭路', '汝河路',
];

/** A distinct name for the n-th road of an orientation; falls back to 经N路 / 纬N路 after the list. */
export function roadName(orientation: 'north-south' | 'east-west', n: number, rng: Rng, used: Set<string>): string {
  const pool = (orientation === 'north-south' ? NORTH_SOUTH_ROADS : EAST_WEST_ROADS).filter((name) => !used.has(name));
  let name = pool.length > 0 ? rng.pick(pool) : `${orientation === 'north-south' ? '经' : '纬'}${chineseNumber(n + 1)}路`;
  for (let k = 2; used.has(name); k++) name = `${orientation === 'north-south' ? '经' : '纬'}${chineseNumber(n + k)}路`;
  used.add(name);
  return name;
}

const LANE_SUFFIXES = ['街', '巷', '里'] as const;
/** Short residential lane named after the block's main road: 建设路 → 建设一街. */
export function laneName(mainRoad: string, n: number, rng: Rng): string {
  return `${mainRoad.replace(/(路|街)$/, '')}${chineseNumber(n)}${rng.pick(LANE_SUFFIXES)}`;
}

const PLACE_WORDS = [
  '锦华', '福华', '幸福里', '工人新村', '文化宫', '百花', '颐和', '锦绣', '阳光', '和平', '翠竹', '荷花', '秀水', '同乐',
  '兴隆', '永安', '康宁', '长青', '育才', '青年', '光明', '友爱', '迎宾', '华山', '嵩岳', '绿城', '碧云', '春晖', '朝阳',
  '桃园', '梨园', '杏林', '凤凰', '金桥', '银杏', '紫荆', '丹桂', '书香', '振兴', '新华', '东明', '西苑', '南苑', '北苑',
  '花园', '建业', '瑞祥', '安泰', '怡景', '晨光', '清华园', '丽水', '枫林', '棉纺', '国棉', '电厂', '铁路', '园林', '嘉园',
];

/** A distinct place word; adds 东/西/南/北 and then numbers once the list runs out (large city). */
export function placeName(rng: Rng, used: Set<string>): string {
  const free = PLACE_WORDS.filter((word) => !used.has(word));
  let name = free.length > 0 ? rng.pick(free) : `${rng.pick(PLACE_WORDS)}${rng.pick(['东', '西', '南', '北'])}`;
  for (let k = 2; used.has(name); k++) name = `${rng.pick(PLACE_WORDS)}${chineseNumber(k)}`;
  used.add(name);
  return name;
}

const SHOP_KINDS: readonly (readonly [category: string, names: readonly string[], employees: [number, number]])[] = [
  ['餐饮', ['烩面馆', '胡辣汤', '包子铺', '饺子馆', '面馆', '小吃店', '烧烤', '火锅店'], [2, 15]],
  ['超市便利店', ['便利店', '超市', '生鲜超市', '粮油店'], [1, 12]],
  ['美容美发', ['理发店', '美发沙龙', '美甲店'], [1, 8]],
  ['药店诊所', ['大药房', '诊所', '口腔诊所'], [2, 10]],
  ['五金建材', ['五金店', '水电材料', '装饰材料'], [1, 5]],
  ['服装', ['服装店', '鞋店', '裁缝铺'], [1, 5]],
  ['维修', ['家电维修', '开锁修鞋', '手机维修', '电动车维修'], [1, 4]],
  ['快递驿站', ['快递驿站', '菜鸟驿站'], [1, 4]],
  ['教育培训', ['培训中心', '书画班', '托管班'], [2, 20]],
  ['休闲娱乐', ['棋牌室', '网吧', '茶馆'], [1, 8]],
];
const SHOP_PREFIXES = ['老', '小', '好邻居', '福满', '鑫', '旺', '悦', '惠民', '家家', '正宗', '豫', '中原'];

export interface ShopDraw {
  name: string;
  category: string;
  employees: number;
}

export function drawShop(rng: Rng): ShopDraw {
  const [category, kinds, [minEmployees, maxEmployees]] = rng.pick(SHOP_KINDS);
  const kind = rng.pick(kinds);
  const prefix = rng.chance(0.4) ? `${drawSurname(rng)}记` : rng.pick(SHOP_PREFIXES);
  // Skewed towards the small end: most 商业网点 are family businesses.
  const employees = minEmployees + Math.floor((maxEmployees - minEmployees + 1) * rng.next() * rng.next());
  return { name: prefix + kind, category, employees };
}
