/**
 * Synthetic events (事件) for the demo city: about 300 over the `days` before an anchor time, in the
 * demo's buildings, with a few spatial hot spots (clusters around three buildings) over a background
 * spread, categories from the seeded taxonomy (migration 0011), and each event's workflow steps up to
 * the anchor: old ones mostly closed, recent ones open in every state, a few left stuck (overdue).
 * Pure: same seed and anchor ⇒ the same events. Times are offsets from the anchor, so analyses over
 * "the last N days" find them whenever the demo was loaded. No reporter data.
 *
 * @example
 * const events = generateDemoEvents({ seed: 1, anchor: new Date(), buildings: [...city.buildings] });
 */
import type { Position } from 'geojson';
import { bboxCentre, M_PER_DEG_LAT, M_PER_DEG_LNG, round7 } from './geometry';
import { rngFor, WeightedTable, type Rng } from './random';
import type { Building } from './types';

/** The workflow actions a demo event goes through, in order (server/modules/events/event.service.ts WORKFLOW). */
export type DemoEventAction = 'accept' | 'reject' | 'dispatch' | 'start' | 'resolve' | 'verify' | 'close';

export interface DemoEventStep {
  action: DemoEventAction;
  at: Date;
}

export interface DemoEvent {
  /** Stable within a run: 'E' + 3 digits, in reporting order. */
  key: string;
  /** A sub-type code of the seeded taxonomy (version 1). */
  categoryCode: string;
  description: string;
  channel: 'patrol' | 'hotline' | 'resident' | 'video' | 'assigned';
  /** [lng, lat], 7 decimals. */
  location: Position;
  address: string;
  occurredAt: Date;
  reportedAt: Date;
  /** Steps taken before the anchor, in order (the intake itself is not one). */
  steps: DemoEventStep[];
  /** Which hot spot it belongs to (0-based), or null for the background. */
  hotspot: number | null;
}

export interface GenerateDemoEventsOptions {
  seed: number;
  /** Times are relative to it (the load time). */
  anchor: Date;
  /** The city's buildings (events happen at or near them). */
  buildings: readonly Building[];
  /** Default 300. */
  count?: number;
  /** Spread over this many days before the anchor; default 60. */
  days?: number;
}

/** Sub-types with a description each; weights shape the mix (environment and facilities dominate, as in practice). */
const CATEGORIES: ReadonlyArray<readonly [string, number, readonly string[]]> = [
  ['environment.garbage', 14, ['楼道口垃圾堆放未清运', '小区垃圾桶满溢', '建筑垃圾乱堆放']],
  ['environment.street_cleaning', 6, ['路面有大片油污', '人行道落叶积存']],
  ['environment.graffiti', 5, ['单元门张贴小广告', '墙面乱涂乱画']],
  ['environment.noise', 6, ['夜间施工噪声扰民', '广场舞音响声音过大']],
  ['environment.sewage', 3, ['餐馆污水直排雨水口']],
  ['environment.abandoned_vehicle', 3, ['僵尸车长期占用车位']],
  ['environment.greenery', 3, ['绿化带树木倒伏', '草坪被踩踏损毁']],
  ['facility.street_light', 7, ['路灯不亮', '路灯灯杆倾斜']],
  ['facility.road', 6, ['人行道地砖松动', '路面坑洼积水']],
  ['facility.manhole', 3, ['井盖破损', '井盖缺失']],
  ['facility.drain', 4, ['雨水篦子堵塞', '下水道反味']],
  ['facility.litter_bin', 2, ['果皮箱损坏']],
  ['facility.sign', 2, ['路名牌缺失']],
  ['dispute.neighbour', 6, ['楼上漏水引发邻里纠纷', '占用公共楼道引发纠纷']],
  ['dispute.property', 5, ['物业费纠纷', '小区停车管理纠纷']],
  ['dispute.family', 2, ['家庭矛盾需调解']],
  ['dispute.labour', 2, ['装修工人讨要工资']],
  ['security_hazard.public_order', 3, ['夜间聚集喧哗']],
  ['security_hazard.traffic', 4, ['路口车辆乱停放遮挡视线', '电动车逆行严重']],
  ['safety.fire', 4, ['楼道堆放杂物堵塞消防通道', '电动车楼道内充电']],
  ['safety.gas', 2, ['闻到燃气异味']],
  ['safety.building', 2, ['外墙瓷砖脱落']],
  ['urgent_need.care', 2, ['独居老人多日未出门']],
  ['urgent_need.livelihood', 1, ['困难家庭申请临时救助']],
  ['other.other', 3, ['居民咨询政策']],
];

/** Hot-spot categories: each cluster has its own complaint mix (a market's garbage, a school gate's traffic…). */
const HOTSPOT_CATEGORIES: ReadonlyArray<readonly string[]> = [
  ['environment.garbage', 'environment.street_cleaning', 'environment.sewage', 'environment.noise'],
  ['security_hazard.traffic', 'facility.road', 'environment.abandoned_vehicle'],
  ['dispute.property', 'dispute.neighbour', 'safety.fire', 'facility.drain'],
];

const CHANNELS = new WeightedTable<DemoEvent['channel']>([['patrol', 5], ['hotline', 3], ['resident', 2], ['video', 1], ['assigned', 1]]);

const PACE = new WeightedTable<number>([[1, 6], [3, 2], [10, 1]]);

const HOUR_MS = 3_600_000;

function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[rng.int(0, items.length - 1)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** A point `distanceM` metres from `centre` in a random direction. */
function offset(rng: Rng, centre: Position, sdM: number): Position {
  const dx = rng.normal(0, sdM);
  const dy = rng.normal(0, sdM);
  return [round7((centre[0] ?? 0) + dx / M_PER_DEG_LNG), round7((centre[1] ?? 0) + dy / M_PER_DEG_LAT)];
}

/** Hours until each next step, a plausible range each (accept, dispatch, start, resolve, verify, close). */
const STEP_HOURS: ReadonlyArray<readonly [DemoEventAction, number, number]> = [
  ['accept', 0.2, 3],
  ['dispatch', 0.2, 4],
  ['start', 0.5, 8],
  ['resolve', 3, 60],
  ['verify', 1, 20],
  ['close', 0.2, 8],
];

function distanceM(a: Position, b: Position): number {
  return Math.hypot(((a[0] ?? 0) - (b[0] ?? 0)) * M_PER_DEG_LNG, ((a[1] ?? 0) - (b[1] ?? 0)) * M_PER_DEG_LAT);
}

/**
 * Three buildings to cluster around, 150–350 m apart (a market, a school gate, an old compound in one
 * neighbourhood): close enough that their cells neighbour each other, which is what Gi* calls a hot
 * spot, yet separate clusters for DBSCAN. Falls back to the nearest others in a very small city.
 */
function chooseHotspots(rng: Rng, buildings: readonly Building[]): Building[] {
  const first = pick(rng, buildings);
  const chosen = [first];
  const centre = (b: Building): Position => bboxCentre(b.footprint);
  for (let k = 1; k < 3; k++) {
    const ok = buildings.filter((b) => chosen.every((c) => { const d = distanceM(centre(b), centre(c)); return d >= 150 && d <= 350; }));
    const rest = buildings.filter((b) => !chosen.includes(b)).sort((a, b) => distanceM(centre(a), centre(first)) - distanceM(centre(b), centre(first)));
    const next = ok.length > 0 ? pick(rng, ok) : rest[0];
    if (next) chosen.push(next);
  }
  return chosen;
}

export function generateDemoEvents(options: GenerateDemoEventsOptions): DemoEvent[] {
  const count = options.count ?? 300;
  const days = options.days ?? 60;
  const anchorMs = options.anchor.getTime();
  const buildings = options.buildings;
  if (buildings.length === 0) return [];
  const rng = rngFor(options.seed, 'events');
  const categories = new WeightedTable(CATEGORIES.map(([code, weight, texts]) => [[code, texts] as const, weight] as const));
  const descriptions = new Map(CATEGORIES.map(([code, , texts]) => [code, texts]));
  const hotspots = chooseHotspots(rng, buildings);
  const hotspotShare = [0.18, 0.14, 0.12];

  const drafts: Array<Omit<DemoEvent, 'key'>> = [];
  for (let i = 0; i < count; i++) {
    const roll = rng.next();
    let hotspot: number | null = null;
    let acc = 0;
    for (const [k, share] of hotspotShare.entries()) {
      acc += share;
      if (hotspot === null && roll < acc) hotspot = k;
    }
    let categoryCode: string;
    let building: Building;
    let location: Position;
    if (hotspot !== null) {
      building = hotspots[hotspot] ?? pick(rng, buildings);
      categoryCode = rng.chance(0.8) ? pick(rng, HOTSPOT_CATEGORIES[hotspot] ?? []) : categories.draw(rng)[0];
      location = offset(rng, bboxCentre(building.footprint), 25);
    } else {
      building = pick(rng, buildings);
      categoryCode = categories.draw(rng)[0];
      location = offset(rng, bboxCentre(building.footprint), 15);
    }
    // Ages skew young a little (more recent reports), over the whole window.
    const ageH = Math.pow(rng.next(), 1.4) * days * 24;
    // Mostly in daytime: shift to between 7:00 and 21:00 China time.
    const reported = new Date(anchorMs - ageH * HOUR_MS);
    const hourCn = (reported.getUTCHours() + 8) % 24;
    const reportedAt = hourCn >= 7 && hourCn < 21 ? reported : new Date(reported.getTime() - ((hourCn + 24 - 12) % 24) * HOUR_MS);
    // Drawn whatever the anchor's hour, so the anchor moves the times and nothing else.
    const fallbackH = 1 + rng.next() * 23;
    if (reportedAt.getTime() > anchorMs - 5 * 60_000 || reportedAt.getTime() < anchorMs - days * 24 * HOUR_MS) {
      reportedAt.setTime(anchorMs - fallbackH * HOUR_MS);
    }
    const occurredAt = new Date(reportedAt.getTime() - rng.float(0.1, 6) * HOUR_MS);
    // Planned life: most run to closed; some are rejected at once; a few stall (and go overdue).
    const fate = rng.next();
    const planned: DemoEventAction[] = fate < 0.05 ? ['reject'] : fate < 0.1 ? ['accept', 'dispatch', 'start'].slice(0, rng.int(1, 3)) as DemoEventAction[] : STEP_HOURS.map(([a]) => a);
    // Pace: most are handled briskly, some wait (a backlog of recent reports in every state).
    const pace = PACE.draw(rng);
    const steps: DemoEventStep[] = [];
    let t = reportedAt.getTime();
    for (const action of planned) {
      const range = STEP_HOURS.find(([a]) => a === action) ?? ['reject', 0.2, 3];
      t += rng.float(range[1], range[2]) * pace * HOUR_MS;
      if (t >= anchorMs - 60_000) break;
      steps.push({ action, at: new Date(Math.round(t / 1000) * 1000) });
    }
    const texts = descriptions.get(categoryCode) ?? ['事件'];
    drafts.push({
      categoryCode,
      description: `${building.address}：${pick(rng, texts)}`,
      channel: CHANNELS.draw(rng),
      location,
      address: building.address,
      occurredAt: new Date(Math.round(occurredAt.getTime() / 1000) * 1000),
      reportedAt: new Date(Math.round(reportedAt.getTime() / 1000) * 1000),
      steps,
      hotspot,
    });
  }
  drafts.sort((a, b) => a.reportedAt.getTime() - b.reportedAt.getTime());
  return drafts.map((d, i) => ({ key: `E${String(i + 1).padStart(3, '0')}`, ...d }));
}
