/**
 * Record types of the synthetic demo city. All geometry is GeoJSON in EPSG:4326 with positions
 * [lng, lat]; polygons have counter-clockwise exteriors (RFC 7946). Every person, phone and ID
 * number is synthetic.
 */
import type { LineString, MultiPolygon, Point, Polygon } from 'geojson';

export type DemoCitySize = 'small' | 'medium' | 'large' | 'xlarge';

export type DivisionLevel = 'district' | 'street' | 'community';

/** 区 (6-digit code), 街道 (9 = district + 3) or 社区 (12 = street + 3). */
export interface Division {
  code: string;
  name: string;
  level: DivisionLevel;
  /** null for the district. */
  parentCode: string | null;
  /** Exact union of the child divisions (communities: of their grids), sharing their vertices. */
  boundary: MultiPolygon;
}

export type RoadKind = 'primary' | 'secondary' | 'residential';

export interface Road {
  /** 'R' + 4 digits, unique in the district. */
  code: string;
  name: string;
  kind: RoadKind;
  /** Runs along grid edges (centre lines), through the same lattice vertices. */
  geom: LineString;
}

/** 综合网格 (general) or 专属网格 (a school / hospital compound managed as its own grid). */
export type GridKind = '综合' | '专属';

export interface Grid {
  communityCode: string;
  /** 15 digits: community code + 3-digit sequence (see `compareGridsForNumbering`). */
  code: string;
  /** The 3-digit sequence as a number, 1-based. */
  sequence: number;
  /** '第3网格'. */
  name: string;
  kind: GridKind;
  geom: Polygon;
}

export type BuildingUse = 'residential' | 'commercial' | 'mixed' | 'public';

export interface Building {
  communityCode: string;
  gridCode: string;
  /** 5 digits, sequence within the community (grids in sequence order, then north→south, west→east). */
  code: string;
  /** '3号楼', or the compound's own name ('教学楼') in 专属 grids. */
  name: string;
  /** '建设路12号院3号楼'. */
  address: string;
  use: BuildingUse;
  floors: number;
  /** 单元 (stairwells); 0 for buildings without flats. */
  units: number;
  /** A rectangle, possibly rotated by a few degrees; inside one grid, never crossing a road. */
  footprint: Polygon;
}

export type Tenure = 'owned' | 'rented' | 'vacant' | 'other';

export interface Household {
  /** `${communityCode}-${buildingCode}-${unit}-${room}`: stable across runs with the same seed. */
  key: string;
  buildingCode: string;
  communityCode: string;
  gridCode: string;
  /** 单元 number, 1-based. */
  unit: number;
  /** Floor then 2-digit door: '502', '1803'. */
  room: string;
  tenure: Tenure;
}

export type Gender = 'M' | 'F';

export type Relation = '户主' | '配偶' | '子女' | '父母' | '孙子女' | '儿媳' | '女婿' | '兄弟姐妹' | '其他';

/** 户籍 (registered here), 流动人口 (floating) or 境外人员 (foreign). */
export type Registration = 'registered' | 'floating' | 'foreign';

export const RESIDENT_TAGS = ['低保', '独居老人', '残疾', '社区矫正', '刑释解教', '重点青少年', '严重精神障碍'] as const;
export type ResidentTag = (typeof RESIDENT_TAGS)[number];

export interface Resident {
  /** `${householdKey}-${n}` with n the 1-based member number (户主 is 1). */
  key: string;
  householdKey: string;
  name: string;
  gender: Gender;
  /** YYYY-MM-DD. */
  birthDate: string;
  /**
   * 18-character 居民身份证号 (check digit valid, date and gender digit consistent). Foreign residents
   * carry a 2023-style 永久居留身份证 number ('9' + province + nationality), which follows the same rules.
   */
  idNumber: string;
  /** 11-digit mobile; null for children under 14 and some of the very old (they use the household's). */
  phone: string | null;
  relation: Relation;
  registration: Registration;
  tags: ResidentTag[];
}

export type OrganisationKind = 'shop' | 'school' | 'hospital' | 'agency';

export interface Organisation {
  /** Community code + 'O' + 4 digits. */
  code: string;
  communityCode: string;
  gridCode: string;
  name: string;
  kind: OrganisationKind;
  /** '餐饮', '超市便利店', '小学', '街道办事处', … */
  category: string;
  employees: number;
  address: string;
  /** Shops and agencies are points inside their building; schools and hospitals are their compound. */
  geom: Point | Polygon;
}

export type StaffRole = '网格长' | '专职网格员' | '兼职网格员' | '社区值班员' | '街道值班员';

export interface StaffMember {
  /** 'W' + the code of the division or grid they belong to + 2 digits. */
  code: string;
  name: string;
  gender: Gender;
  phone: string;
  role: StaffRole;
  /** Grid code for grid staff, community / street code for duty officers. */
  unitCode: string;
}

export interface Assignment {
  staffCode: string;
  gridCode: string;
  role: '网格长' | '专职网格员' | '兼职网格员';
  /** YYYY-MM-DD. */
  fromDate: string;
}

/** ISO weekday: 1 = Monday … 7 = Sunday. */
export type Weekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/**
 * One weekly shift. Times are local (Asia/Shanghai) 'HH:MM', start inclusive and end exclusive;
 * end may be '24:00'. Shifts never cross midnight (an overnight duty is two rows).
 */
export interface Shift {
  staffCode: string;
  /** The grid (15 digits), community (12) or street (9) the shift covers. */
  scopeCode: string;
  weekday: Weekday;
  start: string;
  end: string;
}

/** Re-iterable lazy collection: each `for…of` regenerates the records from the seed. */
export type LazyCollection<T> = Iterable<T>;

export interface DemoCity {
  size: DemoCitySize;
  seed: number;
  /** Fixed "today" for ages and dates (not the wall clock, so output is reproducible). */
  referenceDate: string;
  /** District first, then streets, then communities, each in code order. */
  divisions: readonly Division[];
  roads: readonly Road[];
  /** By community code, then sequence. */
  grids: readonly Grid[];
  buildings: LazyCollection<Building>;
  households: LazyCollection<Household>;
  residents: LazyCollection<Resident>;
  organisations: LazyCollection<Organisation>;
  staff: readonly StaffMember[];
  assignments: readonly Assignment[];
  roster: readonly Shift[];
}
