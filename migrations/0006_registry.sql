-- Registry (issue #5): buildings, households, residents, organisations, grid staff, assignments and the
-- duty roster. 人进户、户进房、房进格、格进图: a resident belongs to a household, a household to a building,
-- a building to the grid its footprint lies in (derived, see registry_grid_for), a grid to the map.
--
-- Every row that hangs off a grid carries its derived `grid_id` and, denormalised, `grid_code` and
-- `community_code`: codes survive re-division while ids change with every layout, and Row Level Security
-- policies compare codes against the request's scope prefixes (wangge_in_scope, migration 0004).
--
-- Personal data: ID numbers and phones of residents are stored encrypted by the application
-- (AES-256-GCM, `*_enc`) plus a keyed HMAC-SHA256 (`*_hmac`) for exact-match search and the natural key.
-- The database never sees them in plaintext.

-- The grid a geometry belongs to, in the published layouts (layout_id NULL) or in one layout (a draft,
-- for impact previews and the validation's household balance). The one rule, kept here so SQL callers
-- (publish re-derivation, preview, validation, import) cannot drift apart:
--   1. a grid that covers the geometry wins (a footprint inside one grid: the grid of its
--      point-on-surface; a point on a shared edge is covered by both, so rule 3 decides);
--   2. otherwise (a footprint straddling grids) the grid with the largest intersection area; planar
--      degrees² are fine for ranking within one building's few metres;
--   3. ties: grid code, then grid id (drafts may have uncoded grids).
CREATE FUNCTION registry_grid_for(geom geometry, layout integer DEFAULT NULL) RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT g.id
  FROM grids g JOIN layouts l ON l.id = g.layout_id
  WHERE g.geom && registry_grid_for.geom AND ST_Intersects(g.geom, registry_grid_for.geom)
    AND CASE WHEN registry_grid_for.layout IS NULL THEN l.status = 'published' ELSE l.id = registry_grid_for.layout END
  ORDER BY CASE WHEN ST_Covers(g.geom, registry_grid_for.geom) THEN 'Infinity'::float8
                ELSE ST_Area(ST_Intersection(g.geom, registry_grid_for.geom)) END DESC,
           g.code NULLS LAST, g.id
  LIMIT 1
$$;

-- The community whose boundary covers a geometry's point-on-surface (lowest code on a shared edge).
CREATE FUNCTION registry_community_for(geom geometry) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT d.code FROM divisions d
  WHERE d.level = 'community' AND d.geom && registry_community_for.geom
    AND ST_Covers(d.geom, ST_PointOnSurface(registry_community_for.geom))
  ORDER BY d.code LIMIT 1
$$;

-- Where a new or moved building/organisation goes: its community (given, else the one covering it) and
-- the grid of that community's published layout (none while it has no published layout). A geometry
-- outside every community boundary takes any published grid, and that grid's community.
CREATE FUNCTION registry_place(geom geometry, community text DEFAULT NULL)
RETURNS TABLE (community_code text, grid_id integer, grid_code text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  WITH c AS (
    SELECT coalesce(registry_place.community, registry_community_for(registry_place.geom)) AS code
  ),
  cl AS (
    SELECT c.code, (SELECT l.id FROM layouts l WHERE l.community_code = c.code AND l.status = 'published') AS layout_id FROM c
  ),
  gid AS (
    SELECT cl.code, CASE WHEN cl.code IS NULL THEN registry_grid_for(registry_place.geom)
                         WHEN cl.layout_id IS NULL THEN NULL
                         ELSE registry_grid_for(registry_place.geom, cl.layout_id) END AS id
    FROM cl
  )
  SELECT coalesce(gid.code, l.community_code), g.id, g.code
  FROM gid LEFT JOIN grids g ON g.id = gid.id LEFT JOIN layouts l ON l.id = g.layout_id
$$;

CREATE TABLE buildings (
  id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- NULL for imported buildings outside every community (e.g. a foreign test data set).
  community_code  text REFERENCES divisions (code) ON UPDATE CASCADE,
  -- 5-digit sequence within the community, numbered in time order (never reused).
  code            text NOT NULL CHECK (code ~ '^[0-9]{5}$'),
  -- Natural key of an imported source row ('sfbf2013_00001'); NULL for buildings entered by hand.
  external_id     text UNIQUE,
  name            text NOT NULL DEFAULT '',
  address         text NOT NULL DEFAULT '',
  use             text NOT NULL DEFAULT 'residential' CHECK (use IN ('residential', 'commercial', 'mixed', 'public', 'industrial', 'other')),
  floors          integer CHECK (floors IS NULL OR floors BETWEEN 1 AND 300),
  -- Footprint, or a point where no footprint is known.
  geom            geometry(Geometry, 4326) NOT NULL CHECK (
                    GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON', 'POINT') AND ST_IsValid(geom) AND NOT ST_IsEmpty(geom)
                  ),
  grid_id         integer REFERENCES grids (id) ON DELETE SET NULL,
  grid_code       text,
  version         integer NOT NULL DEFAULT 1,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  deleted_at      timestamptz,
  deleted_reason  text,
  CONSTRAINT buildings_deleted_reason CHECK ((deleted_at IS NULL) = (deleted_reason IS NULL))
);
-- NULLS NOT DISTINCT: buildings outside every community share one numbering.
CREATE UNIQUE INDEX buildings_code_unique ON buildings (community_code, code) NULLS NOT DISTINCT;
CREATE INDEX buildings_geom_gix ON buildings USING gist (geom);
CREATE INDEX buildings_grid_idx ON buildings (grid_id);

CREATE TABLE households (
  id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  building_id     integer NOT NULL REFERENCES buildings (id),
  -- 单元 and room ('1', '502'); '' when the building has none. With the building: the natural key.
  unit            text NOT NULL DEFAULT '',
  room            text NOT NULL DEFAULT '',
  tenure          text NOT NULL DEFAULT 'owned' CHECK (tenure IN ('owned', 'rented', 'vacant', 'other')),
  grid_id         integer REFERENCES grids (id) ON DELETE SET NULL,
  grid_code       text,
  community_code  text,
  version         integer NOT NULL DEFAULT 1,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  deleted_at      timestamptz,
  deleted_reason  text,
  CONSTRAINT households_natural_key UNIQUE (building_id, unit, room),
  CONSTRAINT households_deleted_reason CHECK ((deleted_at IS NULL) = (deleted_reason IS NULL))
);
CREATE INDEX households_grid_idx ON households (grid_id);
CREATE INDEX households_grid_code_idx ON households (grid_code);

-- Special-group tags (重点人群) from a versioned taxonomy: a tag is added in one version and may be
-- retired in a later one; residents keep retired tags (history stays readable) but cannot be given them.
CREATE TABLE resident_tags (
  code          text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]*$'),
  name_zh       text NOT NULL UNIQUE,
  name_en       text NOT NULL,
  -- Tags that are sensitive personal data under PIPL (health, criminal record) list as such.
  sensitive     boolean NOT NULL DEFAULT false,
  added_in      integer NOT NULL DEFAULT 1,
  retired_in    integer CHECK (retired_in IS NULL OR retired_in > added_in)
);
INSERT INTO resident_tags (code, name_zh, name_en, sensitive, added_in) VALUES
  ('low_income', '低保', 'low-income (minimum living allowance)', false, 1),
  ('elderly_alone', '独居老人', 'elderly living alone', false, 1),
  ('disabled', '残疾', 'disabled', true, 1),
  ('community_correction', '社区矫正', 'community correction', true, 1),
  ('released_prisoner', '刑释解教', 'released from prison', true, 1),
  ('at_risk_youth', '重点青少年', 'at-risk youth', true, 1),
  ('severe_mental_illness', '严重精神障碍', 'severe mental illness', true, 1);

CREATE TABLE residents (
  id                integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  household_id      integer REFERENCES households (id),
  name              text NOT NULL CHECK (length(btrim(name)) > 0),
  gender            text NOT NULL CHECK (gender IN ('M', 'F')),
  birth_date        date NOT NULL,
  -- AES-256-GCM: 1-byte key version ‖ 12-byte IV ‖ ciphertext ‖ 16-byte tag (server/modules/registry/registry-crypto.ts).
  id_number_enc     bytea NOT NULL,
  -- HMAC-SHA256 of the upper-cased number under a separate key: exact search and the natural key.
  id_number_hmac    bytea NOT NULL UNIQUE,
  phone_enc         bytea,
  phone_hmac        bytea,
  relation          text NOT NULL DEFAULT 'other' CHECK (relation IN ('head', 'spouse', 'child', 'parent', 'grandchild', 'child_in_law', 'sibling', 'other')),
  registration      text NOT NULL CHECK (registration IN ('registered', 'floating', 'foreign')),
  tags              text[] NOT NULL DEFAULT '{}',
  status            text NOT NULL DEFAULT 'present' CHECK (status IN ('present', 'moved_out', 'deceased')),
  grid_id           integer REFERENCES grids (id) ON DELETE SET NULL,
  grid_code         text,
  community_code    text,
  version           integer NOT NULL DEFAULT 1,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  deleted_at        timestamptz,
  deleted_reason    text,
  CONSTRAINT residents_phone_pair CHECK ((phone_enc IS NULL) = (phone_hmac IS NULL)),
  CONSTRAINT residents_deleted_reason CHECK ((deleted_at IS NULL) = (deleted_reason IS NULL))
);
-- The grid worker's daily list: one grid's residents in id order, paged by keyset.
CREATE INDEX residents_grid_idx ON residents (grid_id, id) WHERE deleted_at IS NULL;
CREATE INDEX residents_household_idx ON residents (household_id);
CREATE INDEX residents_phone_hmac_idx ON residents (phone_hmac) WHERE phone_hmac IS NOT NULL;
CREATE INDEX residents_tags_gin ON residents USING gin (tags);

-- History of residents (SCD type 2): one row per state, valid over [valid_from, valid_to). Every change
-- closes the current row and opens a new one naming what changed, when (the date it took effect, which
-- may be before it was recorded) and who recorded it. Monthly counts read states at a date and the
-- changes within a month (registry-history.repository.ts).
CREATE TABLE resident_history (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  resident_id     integer NOT NULL REFERENCES residents (id),
  valid_from      date NOT NULL,
  valid_to        date CHECK (valid_to IS NULL OR valid_to >= valid_from),
  change          text NOT NULL CHECK (change IN ('registered', 'birth', 'move_in', 'move_out', 'death', 'household', 'registration', 'tags', 'details', 'deleted')),
  household_id    integer,
  registration    text NOT NULL,
  tags            text[] NOT NULL,
  status          text NOT NULL,
  grid_code       text,
  community_code  text,
  actor_id        integer,
  actor           text,
  recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX resident_history_resident_idx ON resident_history (resident_id, valid_from);
CREATE INDEX resident_history_period_idx ON resident_history (community_code, valid_from, valid_to);

CREATE TABLE household_history (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  household_id    integer NOT NULL REFERENCES households (id),
  valid_from      date NOT NULL,
  valid_to        date CHECK (valid_to IS NULL OR valid_to >= valid_from),
  change          text NOT NULL CHECK (change IN ('registered', 'details', 'regrid', 'deleted')),
  building_id     integer NOT NULL,
  tenure          text NOT NULL,
  grid_code       text,
  community_code  text,
  actor_id        integer,
  actor           text,
  recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX household_history_household_idx ON household_history (household_id, valid_from);

CREATE TABLE organisations (
  id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- Community code + 'O' + 4 digits for organisations entered here; imports may bring their own code.
  code            text NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 64),
  name            text NOT NULL CHECK (length(btrim(name)) > 0),
  kind            text NOT NULL CHECK (kind IN ('shop', 'school', 'hospital', 'agency', 'other')),
  category        text NOT NULL DEFAULT '',
  employees       integer NOT NULL DEFAULT 0 CHECK (employees >= 0),
  address         text NOT NULL DEFAULT '',
  building_id     integer REFERENCES buildings (id),
  geom            geometry(Geometry, 4326) NOT NULL CHECK (
                    GeometryType(geom) IN ('POINT', 'POLYGON', 'MULTIPOLYGON') AND ST_IsValid(geom) AND NOT ST_IsEmpty(geom)
                  ),
  -- Trading period: employment of a month counts organisations open at its end.
  opened_on       date NOT NULL DEFAULT current_date,
  closed_on       date CHECK (closed_on IS NULL OR closed_on >= opened_on),
  grid_id         integer REFERENCES grids (id) ON DELETE SET NULL,
  grid_code       text,
  community_code  text,
  version         integer NOT NULL DEFAULT 1,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  deleted_at      timestamptz,
  deleted_reason  text,
  CONSTRAINT organisations_deleted_reason CHECK ((deleted_at IS NULL) = (deleted_reason IS NULL))
);
CREATE INDEX organisations_geom_gix ON organisations USING gist (geom);
CREATE INDEX organisations_grid_idx ON organisations (grid_id);

-- Employee counts over time (SCD 2), so shop employment can be reported for any month.
CREATE TABLE organisation_history (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  organisation_id  integer NOT NULL REFERENCES organisations (id),
  valid_from       date NOT NULL,
  valid_to         date CHECK (valid_to IS NULL OR valid_to >= valid_from),
  kind             text NOT NULL,
  employees        integer NOT NULL,
  grid_code        text,
  community_code   text,
  actor_id         integer,
  recorded_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX organisation_history_org_idx ON organisation_history (organisation_id, valid_from);

-- People who work grids. Their phones are work contacts that dispatch must read in full, so they are
-- stored as entered (not resident personal data); staff rows are scoped for writes by the service.
CREATE TABLE staff (
  id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code            text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9]{1,32}$'),
  name            text NOT NULL CHECK (length(btrim(name)) > 0),
  gender          text CHECK (gender IN ('M', 'F')),
  phone           text CHECK (phone ~ '^[0-9+-]{5,20}$'),
  role            text NOT NULL CHECK (role IN ('grid_leader', 'full_time_worker', 'part_time_worker', 'party_secretary',
                                                'community_police', 'community_duty_officer', 'street_duty_officer')),
  -- The division (9/12 digits) or grid (15) they belong to.
  unit_code       text NOT NULL CHECK (unit_code ~ '^[0-9]{6,15}$'),
  version         integer NOT NULL DEFAULT 1,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  deleted_at      timestamptz,
  deleted_reason  text,
  CONSTRAINT staff_deleted_reason CHECK ((deleted_at IS NULL) = (deleted_reason IS NULL))
);
CREATE INDEX staff_unit_idx ON staff (unit_code);

-- Staff ↔ grid by grid CODE (codes survive re-division), over [from_date, to_date).
CREATE TABLE staff_assignments (
  id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  staff_id    integer NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
  grid_code   text NOT NULL CHECK (grid_code ~ '^[0-9]{15}$'),
  role        text NOT NULL CHECK (role IN ('grid_leader', 'full_time_worker', 'part_time_worker', 'party_secretary', 'community_police')),
  from_date   date NOT NULL,
  to_date     date CHECK (to_date IS NULL OR to_date > from_date),
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT staff_assignments_no_overlap EXCLUDE USING gist (
    staff_id WITH =, grid_code WITH =, daterange(from_date, to_date, '[)') WITH &&
  )
);
CREATE INDEX staff_assignments_grid_idx ON staff_assignments (grid_code, from_date);

-- Weekly shifts in Asia/Shanghai local time: [start_time, end_time) on an ISO weekday (1 = Monday);
-- end_time may be 24:00. Overnight duty is two rows. scope_code: grid (15), community (12) or street (9).
CREATE TABLE roster_shifts (
  id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  staff_id    integer NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
  scope_code  text NOT NULL CHECK (scope_code ~ '^([0-9]{9}|[0-9]{12}|[0-9]{15})$'),
  weekday     smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
  start_time  time NOT NULL,
  end_time    time NOT NULL CHECK (end_time > start_time),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX roster_shifts_scope_idx ON roster_shifts (scope_code, weekday);

-- Dated exceptions, as instants: a staff member's leave; a holiday for every grid under scope_code
-- (grid workers' weekly shifts do not apply, duty officers still do); an extra shift of a staff member
-- in scope_code.
CREATE TABLE roster_exceptions (
  id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('leave', 'holiday', 'extra')),
  staff_id    integer REFERENCES staff (id) ON DELETE CASCADE,
  scope_code  text CHECK (scope_code ~ '^[0-9]{6,15}$'),
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz NOT NULL CHECK (ends_at > starts_at),
  reason      text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT roster_exceptions_shape CHECK (
    (kind = 'leave' AND staff_id IS NOT NULL) OR
    (kind = 'holiday' AND staff_id IS NULL AND scope_code IS NOT NULL) OR
    (kind = 'extra' AND staff_id IS NOT NULL AND scope_code IS NOT NULL)
  )
);
CREATE INDEX roster_exceptions_period_idx ON roster_exceptions USING gist (tstzrange(starts_at, ends_at, '[)'));

-- Row Level Security on residents' personal data. FORCE makes the policies apply to the table owner too
-- (superusers still bypass them); system tasks (demo load, imports, re-derivation) set
-- wangge.scope_all for their transaction (registry.repository.ts: asSystem). Rows outside every
-- community and grid are visible to scope_all only.
ALTER TABLE households ENABLE ROW LEVEL SECURITY;
ALTER TABLE households FORCE ROW LEVEL SECURITY;
CREATE POLICY households_scope ON households
  USING (wangge_in_scope(grid_code) OR wangge_in_scope(community_code))
  WITH CHECK (wangge_in_scope(grid_code) OR wangge_in_scope(community_code));

ALTER TABLE residents ENABLE ROW LEVEL SECURITY;
ALTER TABLE residents FORCE ROW LEVEL SECURITY;
CREATE POLICY residents_scope ON residents
  USING (wangge_in_scope(grid_code) OR wangge_in_scope(community_code))
  WITH CHECK (wangge_in_scope(grid_code) OR wangge_in_scope(community_code));

ALTER TABLE resident_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE resident_history FORCE ROW LEVEL SECURITY;
CREATE POLICY resident_history_scope ON resident_history
  USING (wangge_in_scope(grid_code) OR wangge_in_scope(community_code))
  WITH CHECK (wangge_in_scope(grid_code) OR wangge_in_scope(community_code));

ALTER TABLE household_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE household_history FORCE ROW LEVEL SECURITY;
CREATE POLICY household_history_scope ON household_history
  USING (wangge_in_scope(grid_code) OR wangge_in_scope(community_code))
  WITH CHECK (wangge_in_scope(grid_code) OR wangge_in_scope(community_code));

-- 0004's default privileges cover these tables for wangge_app; the functions need EXECUTE.
GRANT EXECUTE ON FUNCTION registry_grid_for(geometry, integer) TO wangge_app;
GRANT EXECUTE ON FUNCTION registry_community_for(geometry) TO wangge_app;
GRANT EXECUTE ON FUNCTION registry_place(geometry, text) TO wangge_app;
