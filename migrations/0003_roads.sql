-- Named roads: drawn on the offline base map and used to name places (issue #3 demo, #9 tiles).
CREATE TABLE roads (
  id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code       text UNIQUE,
  name       text NOT NULL DEFAULT '',
  kind       text NOT NULL DEFAULT 'residential',
  geom       geometry(Geometry, 4326) NOT NULL CHECK (GeometryType(geom) IN ('LINESTRING', 'MULTILINESTRING')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX roads_geom_gix ON roads USING gist (geom);
CREATE INDEX roads_name_trgm ON roads USING gin (name gin_trgm_ops);
