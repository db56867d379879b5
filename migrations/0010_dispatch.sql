-- Dispatch (issue #6): named places for address lookup, text indexes for 2- and 3+-character Chinese
-- queries, and NOTIFY on roster changes so every server process refreshes its in-memory roster.

-- Places known by name only (bus stops, squares, landmarks): a point and a name. Imports bring a source
-- and their own key so loading a file twice does not duplicate.
CREATE TABLE named_places (
  id           integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name         text NOT NULL CHECK (length(btrim(name)) > 0),
  kind         text NOT NULL DEFAULT 'place' CHECK (kind IN ('place', 'bus_stop', 'landmark', 'road', 'other')),
  source       text NOT NULL DEFAULT '',
  external_id  text,
  geom         geometry(Point, 4326) NOT NULL CHECK (ST_IsValid(geom)),
  created_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT named_places_source_key UNIQUE (source, external_id)
);
CREATE INDEX named_places_geom_gix ON named_places USING gist (geom);

-- The text an address query is matched against, one expression per table so the indexes below apply.
-- pg_trgm needs a UTF-8 database with a non-C locale to make trigrams of CJK text (README, "The database").
CREATE FUNCTION dispatch_building_text(name text, address text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT coalesce(name, '') || ' ' || coalesce(address, '') $$;

-- Every 2-character substring of a text (no whitespace inside), lower-cased: pg_trgm extracts no
-- trigram from a 2-character query, so `ILIKE '%建设%'` would read the whole trigram index. A GIN index
-- on this array answers `dispatch_bigrams(text) @> ARRAY['建设']` from the index instead.
CREATE FUNCTION dispatch_bigrams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT coalesce(array_agg(DISTINCT b), '{}')
  FROM (SELECT substr(lower(t), i, 2) AS b FROM generate_series(1, char_length(t) - 1) AS i) s
  WHERE b !~ '\s'
$$;

CREATE INDEX buildings_dispatch_trgm ON buildings USING gin (dispatch_building_text(name, address) gin_trgm_ops) WHERE deleted_at IS NULL;
CREATE INDEX buildings_dispatch_bigrams ON buildings USING gin (dispatch_bigrams(dispatch_building_text(name, address))) WHERE deleted_at IS NULL;
CREATE INDEX organisations_dispatch_trgm ON organisations USING gin (dispatch_building_text(name, address) gin_trgm_ops) WHERE deleted_at IS NULL;
CREATE INDEX organisations_dispatch_bigrams ON organisations USING gin (dispatch_bigrams(dispatch_building_text(name, address))) WHERE deleted_at IS NULL;
CREATE INDEX named_places_trgm ON named_places USING gin (name gin_trgm_ops);
CREATE INDEX named_places_bigrams ON named_places USING gin (dispatch_bigrams(name));

-- Roster and staff changes, announced per statement: dispatch keeps staff, assignments, shifts and
-- exceptions in memory in every server process and reloads them on this channel.
CREATE FUNCTION dispatch_notify_roster_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('wangge_roster_changed', TG_TABLE_NAME);
  RETURN NULL;
END $$;

CREATE TRIGGER staff_roster_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON staff
  FOR EACH STATEMENT EXECUTE FUNCTION dispatch_notify_roster_changed();
CREATE TRIGGER staff_assignments_roster_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON staff_assignments
  FOR EACH STATEMENT EXECUTE FUNCTION dispatch_notify_roster_changed();
CREATE TRIGGER roster_shifts_roster_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON roster_shifts
  FOR EACH STATEMENT EXECUTE FUNCTION dispatch_notify_roster_changed();
CREATE TRIGGER roster_exceptions_roster_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON roster_exceptions
  FOR EACH STATEMENT EXECUTE FUNCTION dispatch_notify_roster_changed();

GRANT EXECUTE ON FUNCTION dispatch_building_text(text, text) TO wangge_app;
GRANT EXECUTE ON FUNCTION dispatch_bigrams(text) TO wangge_app;
