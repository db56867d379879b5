-- Administrative divisions, versioned grid layouts and grids (issue #3).
-- Geometry is WGS 84 lon/lat (EPSG:4326) everywhere; areas come from the geography type (m²).

CREATE TABLE divisions (
  code        text PRIMARY KEY,
  level       text NOT NULL CHECK (level IN ('district', 'street', 'community')),
  name        text NOT NULL CHECK (length(btrim(name)) > 0),
  parent_code text REFERENCES divisions (code) ON UPDATE CASCADE,
  -- Missing for upper levels is allowed; readers derive it as the union of the children.
  geom        geometry(MultiPolygon, 4326) CHECK (geom IS NULL OR (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  -- GB/T 2260 district codes have 6 digits, street (乡镇/街道) 9, community (社区/村) 12.
  CONSTRAINT divisions_code_format CHECK (
    (level = 'district' AND code ~ '^[0-9]{6}$') OR
    (level = 'street' AND code ~ '^[0-9]{9}$') OR
    (level = 'community' AND code ~ '^[0-9]{12}$')
  ),
  CONSTRAINT divisions_parent_required CHECK (level = 'district' OR parent_code IS NOT NULL)
);
CREATE INDEX divisions_parent_idx ON divisions (parent_code);
CREATE INDEX divisions_geom_gix ON divisions USING gist (geom);

-- A community's layouts. Exactly one is published at any instant: the exclusion constraint forbids two
-- layouts of one community with overlapping effective periods, and the partial unique index allows one
-- open-ended published layout. History stays queryable by effective period (like MapIt's generations).
CREATE TABLE layouts (
  id                  integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  community_code      text NOT NULL REFERENCES divisions (code) ON UPDATE CASCADE,
  status              text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
  name                text NOT NULL DEFAULT '',
  -- The layout it was copied from (a draft made from the published layout), for impact previews.
  based_on_layout_id  integer REFERENCES layouts (id) ON DELETE SET NULL,
  effective_from      timestamptz,
  effective_to        timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  published_at        timestamptz,
  CONSTRAINT layouts_status_period CHECK (
    (status = 'draft' AND effective_from IS NULL AND effective_to IS NULL) OR
    (status = 'published' AND effective_from IS NOT NULL AND effective_to IS NULL) OR
    (status = 'archived' AND effective_from IS NOT NULL AND effective_to IS NOT NULL AND effective_to > effective_from)
  ),
  CONSTRAINT layouts_one_at_a_time EXCLUDE USING gist (
    community_code WITH =,
    tstzrange(effective_from, effective_to, '[)') WITH &&
  ) WHERE (effective_from IS NOT NULL)
);
CREATE UNIQUE INDEX layouts_one_published ON layouts (community_code) WHERE status = 'published';
CREATE INDEX layouts_community_idx ON layouts (community_code, id);

CREATE TABLE grids (
  id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  layout_id       integer NOT NULL REFERENCES layouts (id) ON DELETE CASCADE,
  -- community code (12) + 3-digit sequence; NULL until the layout is coded (at publish at the latest).
  code            text CHECK (code ~ '^[0-9]{15}$'),
  name            text NOT NULL DEFAULT '',
  kind            text NOT NULL DEFAULT 'general' CHECK (kind IN ('general', 'dedicated')),
  properties      jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(properties) = 'object'),
  geom            geometry(Geometry, 4326) NOT NULL CHECK (
                    GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON') AND ST_IsValid(geom) AND NOT ST_IsEmpty(geom)
                  ),
  area_m2         double precision GENERATED ALWAYS AS (ST_Area(geom::geography)) STORED,
  -- Optimistic concurrency: every write bumps it; writers send the version they read (If-Match).
  version         integer NOT NULL DEFAULT 1,
  -- The grid of the source layout this one was copied from (identity across redraws).
  source_grid_id  integer REFERENCES grids (id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT grids_code_unique_in_layout UNIQUE (layout_id, code)
);
CREATE INDEX grids_layout_idx ON grids (layout_id);
CREATE INDEX grids_geom_gix ON grids USING gist (geom);
CREATE INDEX grids_code_idx ON grids (code);
