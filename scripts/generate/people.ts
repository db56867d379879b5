/**
 * Households and residents. Each household's tenure and members come from streams keyed by the
 * household key, so one household can be regenerated alone; only uniqueness of ID numbers and
 * phones needs state across households (the `Registries` of one pass).
 *
 * Rates are rough orders of magnitude from Chinese community statistics (average household ~2.6
 * people, ~7 % vacancy, 低保 ~1–2 %, registered disability ~6 % nationally but lower in city
 * registers); they are meant to look plausible in a demo, not to be a census.
 */
import { residentIdCheckDigit } from '../../server/modules/registry/resident-id';
import { householdsIn, type PlacedBuilding } from './buildings';
import { drawFullName, drawGivenName, drawSurname } from './names';
import { type Rng, rngFor, WeightedTable } from './random';
import { type Gender, type Household, type Registration, type Relation, type Resident, type ResidentTag, type Tenure } from './types';

/** The generator's "today": ages and dates are relative to it so output never depends on the clock. */
export const REFERENCE_DATE = '2025-01-01';
const REFERENCE_YEAR = 2025;

/** Uniqueness state for one pass over the residents (ID numbers and mobile numbers). */
export interface Registries {
  idNumbers: Set<string>;
  phones: Set<string>;
}

export function newRegistries(): Registries {
  return { idNumbers: new Set(), phones: new Set() };
}

/** Households of one building: unit by unit, floor by floor, door by door. */
export function* householdsOfBuilding(placed: PlacedBuilding, seed: number): Generator<Household> {
  const { spec, building, plan } = placed;
  if (householdsIn(spec) === 0) return;
  for (let unit = 1; unit <= spec.units; unit++) {
    for (let floor = spec.firstResidentialFloor; floor <= spec.floors; floor++) {
      for (let door = 1; door <= spec.doors; door++) {
        const room = `${floor}${String(door).padStart(2, '0')}`;
        const key = `${building.communityCode}-${building.code}-${unit}-${room}`;
        const rng = rngFor(seed, 'tenure', key);
        yield {
          key,
          buildingCode: building.code,
          communityCode: building.communityCode,
          gridCode: plan.grid.code,
          unit,
          room,
          tenure: drawTenure(rng, plan.special !== null, spec.use === 'mixed'),
        };
      }
    }
  }
}

function drawTenure(rng: Rng, dormitory: boolean, aboveShops: boolean): Tenure {
  const r = rng.next();
  if (dormitory) return r < 0.6 ? 'other' : r < 0.85 ? 'rented' : 'vacant';
  const rented = aboveShops ? 0.35 : 0.22;
  return r < 0.07 ? 'vacant' : r < 0.07 + rented ? 'rented' : r < 0.09 + rented ? 'other' : 'owned';
}

/**
 * GB/T 2260 county codes used as ID prefixes: the Zhengzhou urban districts for locally registered
 * people, other Henan prefectures and other provinces for migrants. Real-format codes; whom they
 * identify is random.
 */
const LOCAL_REGIONS = new WeightedTable<string>([
  ['410102', 3], ['410103', 3], ['410104', 2], ['410105', 4], ['410106', 0.5], ['410108', 1], ['410122', 1],
  ['410181', 0.5], ['410182', 0.5], ['410183', 0.5], ['410184', 0.5], ['410185', 0.5],
]);
const MIGRANT_REGIONS = new WeightedTable<string>([
  ['410302', 1], ['410305', 1], ['410402', 1], ['410502', 1], ['410602', 0.5], ['410702', 1], ['410802', 1],
  ['411002', 1], ['411102', 1], ['411302', 1.5], ['411381', 1], ['411402', 1.5], ['411502', 1.5], ['411602', 1.5],
  ['411623', 1], ['411702', 1.5], ['110105', 0.3], ['130102', 0.4], ['140105', 0.4], ['320102', 0.3], ['340102', 0.5],
  ['341221', 0.8], ['370102', 0.4], ['420106', 0.5], ['430102', 0.3], ['440106', 0.3], ['510104', 0.3], ['610113', 0.5],
]);
/** 2023 permanent-residence card: nationality codes (ISO 3166 numeric) and names that fit them. */
const FOREIGNERS: readonly { nationality: string; names: Record<Gender, readonly string[]> }[] = [
  { nationality: '410', names: { M: ['金敏俊', '朴成浩', '李在贤'], F: ['金智恩', '朴秀妍', '崔允儿'] } },
  { nationality: '392', names: { M: ['田中健一', '佐藤大辅'], F: ['山本由美', '铃木爱'] } },
  { nationality: '704', names: { M: ['阮文勇', '陈文雄'], F: ['阮氏兰', '黎氏花'] } },
  { nationality: '840', names: { M: ['约翰·史密斯', '迈克尔·布朗'], F: ['艾米丽·琼斯', '莎拉·米勒'] } },
  { nationality: '643', names: { M: ['伊万·彼得罗夫'], F: ['安娜·伊万诺娃', '娜塔莎·索科洛娃'] } },
];

const MOBILE_PREFIXES = [
  '130', '131', '132', '133', '134', '135', '136', '137', '138', '139', '150', '151', '152', '153', '155', '156', '157',
  '158', '159', '166', '173', '175', '176', '177', '178', '180', '181', '182', '183', '184', '185', '186', '187', '188',
  '189', '191', '198', '199',
];

/** A mobile number not yet issued in this pass (random digits: they may exist in reality but identify no one here). */
export function drawPhone(rng: Rng, phones: Set<string>): string {
  for (;;) {
    const phone = rng.pick(MOBILE_PREFIXES) + String(rng.int(0, 99_999_999)).padStart(8, '0');
    if (!phones.has(phone)) {
      phones.add(phone);
      return phone;
    }
  }
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** A birth date giving the stated age on REFERENCE_DATE (which is 1 January, so any day of the year works). */
function birthDateForAge(rng: Rng, age: number): string {
  const year = REFERENCE_YEAR - 1 - age;
  const month = rng.int(1, 12);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = (DAYS_IN_MONTH[month - 1] ?? 28) + (month === 2 && leap ? 1 : 0);
  return `${year}-${String(month).padStart(2, '0')}-${String(rng.int(1, days)).padStart(2, '0')}`;
}

/**
 * A unique ID number: the 3-digit sequence is random with the parity fixed by gender, and steps by 2
 * on a clash with an earlier resident of this pass (same region and birth date).
 */
function drawIdNumber(rng: Rng, prefix: string, birthDate: string, gender: Gender, issued: Set<string>): string {
  const head = prefix + birthDate.replaceAll('-', '');
  let sequence = rng.int(0, 499) * 2 + (gender === 'M' ? 1 : 0);
  for (let tries = 0; tries < 500; tries++) {
    const first17 = head + String(sequence).padStart(3, '0');
    if (!issued.has(first17)) {
      issued.add(first17);
      return first17 + residentIdCheckDigit(first17);
    }
    sequence = (sequence + 2) % 1000;
  }
  throw new RangeError(`ID sequence space exhausted for ${head}`);
}

interface Person {
  gender: Gender;
  age: number;
  relation: Relation;
  surname: string | null;
}

type Composition = 'single-elderly' | 'single' | 'couple' | 'elderly-couple' | 'family' | 'three-generation' | 'grandparent-head' | 'single-parent' | 'roommates' | 'siblings';

const OWNER_COMPOSITIONS = new WeightedTable<Composition>([
  ['single-elderly', 9], ['single', 6], ['couple', 8], ['elderly-couple', 14], ['family', 36], ['three-generation', 10],
  ['grandparent-head', 8], ['single-parent', 5], ['siblings', 2], ['roommates', 2],
]);
const RENTER_COMPOSITIONS = new WeightedTable<Composition>([
  ['single', 35], ['couple', 20], ['family', 22], ['roommates', 15], ['single-parent', 5], ['single-elderly', 3],
]);

function opposite(gender: Gender): Gender {
  return gender === 'M' ? 'F' : 'M';
}

/** Children of a parent; `surname` null means the head's (children take the father's surname). */
function children(rng: Rng, parentAge: number, count: number, relation: Relation, surname: string | null = null): Person[] {
  const kids: Person[] = [];
  let age = parentAge - rng.int(23, 34);
  for (let k = 0; k < count && age >= 0; k++) {
    kids.push({ gender: rng.chance(0.52) ? 'M' : 'F', age, relation, surname });
    age -= rng.int(1, 7);
  }
  return kids;
}

/** Household members as (gender, age, relation); surname null means "the head's". */
function compose(rng: Rng, composition: Composition): Person[] {
  const headGender: Gender = rng.chance(0.68) ? 'M' : 'F';
  const head = (min: number, max: number, gender = headGender): Person => ({ gender, age: rng.int(min, max), relation: '户主', surname: null });
  const spouse = (of: Person): Person => ({ gender: opposite(of.gender), age: Math.max(20, of.age + rng.int(-4, 3)), relation: '配偶', surname: drawSurname(rng) });
  const kidCount = () => (rng.chance(0.55) ? 1 : rng.chance(0.9) ? 2 : 3);
  switch (composition) {
    case 'single-elderly':
      return [head(60, 94, rng.chance(0.65) ? 'F' : 'M')];
    case 'single':
      return [head(20, 58, rng.chance(0.55) ? 'M' : 'F')];
    case 'couple': {
      const h = head(23, 40);
      return [h, spouse(h)];
    }
    case 'elderly-couple': {
      const h = head(60, 88, 'M');
      return [h, spouse(h)];
    }
    case 'family': {
      const h = head(27, 55);
      const s = spouse(h);
      return [h, s, ...children(rng, h.age, kidCount(), '子女', h.gender === 'M' ? null : s.surname)];
    }
    case 'three-generation': {
      const h = head(30, 52);
      const s = spouse(h);
      // The head's father shares the head's surname; the mother keeps her own.
      const parents: Person[] = [{ gender: 'M', age: Math.min(96, h.age + rng.int(22, 34)), relation: '父母', surname: null }];
      if (rng.chance(0.6)) parents.push({ gender: 'F', age: Math.min(96, h.age + rng.int(20, 32)), relation: '父母', surname: drawSurname(rng) });
      // One parent only is the common case of a widowed grandparent moving in.
      if (rng.chance(0.5)) parents.shift();
      return [h, s, ...children(rng, h.age, kidCount(), '子女', h.gender === 'M' ? null : s.surname), ...parents];
    }
    case 'grandparent-head': {
      const h = head(58, 80, 'M');
      const son: Person = { gender: 'M', age: Math.max(22, h.age - rng.int(24, 32)), relation: '子女', surname: null };
      const inLaw: Person = { gender: 'F', age: Math.max(22, son.age + rng.int(-3, 2)), relation: '儿媳', surname: drawSurname(rng) };
      return [h, spouse(h), son, inLaw, ...children(rng, son.age, kidCount(), '孙子女')];
    }
    case 'single-parent': {
      const h = head(28, 52, rng.chance(0.7) ? 'F' : 'M');
      return [h, ...children(rng, h.age, kidCount(), '子女')];
    }
    case 'roommates': {
      const h = head(21, 35, rng.chance(0.5) ? 'M' : 'F');
      const mates = Array.from({ length: rng.int(1, 2) }, (): Person => ({ gender: h.gender, age: rng.int(20, 35), relation: '其他', surname: drawSurname(rng) }));
      return [h, ...mates];
    }
    case 'siblings': {
      const h = head(25, 70);
      return [h, { gender: rng.chance(0.5) ? 'M' : 'F', age: Math.max(18, h.age + rng.int(-8, 8)), relation: '兄弟姐妹', surname: null }];
    }
  }
}

function drawTags(rng: Rng, age: number, alone: boolean, poorRelief: boolean): ResidentTag[] {
  const tags: ResidentTag[] = [];
  if (poorRelief) tags.push('低保');
  if (alone && age >= 60) tags.push('独居老人');
  if (rng.chance(age < 18 ? 0.004 : age < 60 ? 0.012 : age < 80 ? 0.03 : 0.07)) tags.push('残疾');
  if (age >= 18 && age <= 65 && rng.chance(0.0005)) tags.push('社区矫正');
  if (age >= 20 && age <= 70 && rng.chance(0.0008)) tags.push('刑释解教');
  if (age >= 6 && age <= 25 && rng.chance(0.004)) tags.push('重点青少年');
  if (age >= 15 && rng.chance(0.0045)) tags.push('严重精神障碍');
  return tags;
}

/** The residents of one household (none if vacant), 户主 first. */
export function residentsOfHousehold(household: Household, seed: number, registries: Registries): Resident[] {
  if (household.tenure === 'vacant') return [];
  const rng = rngFor(seed, 'members', household.key);
  const renting = household.tenure === 'rented';
  const people = compose(rng, (renting ? RENTER_COMPOSITIONS : OWNER_COMPOSITIONS).draw(rng));
  const foreign = renting && people.length <= 3 && rng.chance(0.01) ? rng.pick(FOREIGNERS) : null;
  const householdRegistration: Registration = foreign ? 'foreign' : rng.chance(renting ? 0.3 : household.tenure === 'other' ? 0.5 : 0.9) ? 'registered' : 'floating';
  const poorRelief = !renting && rng.chance(0.013);
  const familyName = drawSurname(rng);

  return people.map((person, index) => {
    const birthDate = birthDateForAge(rng, person.age);
    const birthYear = REFERENCE_YEAR - 1 - person.age;
    // Elderly parents who moved in to help are often still registered in their home county.
    const registration: Registration =
      householdRegistration === 'registered' && person.relation === '父母' && rng.chance(0.4) ? 'floating' : householdRegistration;
    let name: string;
    let prefix: string;
    if (foreign) {
      name = rng.pick(foreign.names[person.gender]);
      prefix = `941${foreign.nationality}`;
    } else {
      name = person.surname ? drawFullName(rng, person.gender, birthYear, person.surname) : familyName + drawGivenName(rng, person.gender, birthYear);
      prefix = registration === 'registered' && rng.chance(0.85) ? LOCAL_REGIONS.draw(rng) : MIGRANT_REGIONS.draw(rng);
    }
    const phone = person.age < 14 || (person.age >= 80 && rng.chance(0.5)) ? null : drawPhone(rng, registries.phones);
    return {
      key: `${household.key}-${index + 1}`,
      householdKey: household.key,
      name,
      gender: person.gender,
      birthDate,
      idNumber: drawIdNumber(rng, prefix, birthDate, person.gender, registries.idNumbers),
      phone,
      relation: person.relation,
      registration,
      tags: drawTags(rng, person.age, people.length === 1, poorRelief),
    };
  });
}
