-- Event intake, group commit (issue #7): concurrent intakes gathered by the application into ONE
-- statement and ONE durable commit (server/modules/events/intake-group-commit.ts), and a duplicate-hint
-- index that fits the search's predicate.
--
-- events_report_batch: events_report (migration 0017) for many events at once, set-based; it replaces
-- events_report (an intake written alone is a batch of one). Each element of
-- p_rows is one intake (the parameters of events_report as JSON, bytea as base64, `i` its ordinal). One
-- row comes back per event written: (i, its id, its duplicate list). An element whose idempotency key is
-- already held (committed, or by a concurrent transaction: the claim waits for it as in events_report)
-- writes nothing and returns no row; the caller reads the stored answer. Keys are claimed in
-- (principal_key, key) order, so two batches in flight never wait on each other's keys in a cycle. The
-- application never puts one key twice in a batch. The duplicate search reads the statement's snapshot,
-- as with concurrent single intakes: events of the same batch do not see each other. Any error fails
-- the whole statement (nothing is written); the application then writes that batch one event at a time,
-- so only the failing event's caller gets the error.
CREATE FUNCTION events_report_batch(p_rows jsonb)
RETURNS TABLE (i integer, new_event_id bigint, duplicate_list jsonb)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY
  WITH r AS MATERIALIZED (
    SELECT x.*, nextval(pg_get_serial_sequence('events', 'id')) AS id, ST_SetSRID(ST_MakePoint(x.lon, x.lat), 4326) AS g
    FROM jsonb_to_recordset(p_rows) AS x (
      i integer, principal_key text, key text, request_hash text, status_code integer, response jsonb,
      taxonomy_version integer, category_code text, description text, channel text, source text,
      occurred_at timestamptz, reported_at timestamptz, address text, lon double precision, lat double precision,
      reporter_name_enc text, reporter_phone_enc text, reporter_masked jsonb, attachments text[],
      grid_id integer, grid_code text, grid_name text, layout_id integer, community_code text, street_code text,
      responsible_staff_id integer, routing jsonb, stage text, stage_due_at timestamptz, due_at timestamptz,
      created_by integer, actor_name text, transition_details jsonb,
      dup_radius_m double precision, dup_hours double precision)
  ),
  -- The duplicate search, through events_open_duplicate_gix below. Category equality is written as
  -- >= and <=, which that GiST index (btree_gist) answers and the category listing's btree index
  -- (text_pattern_ops) cannot: a plan cached while the table was nearly empty (a new database, or after
  -- TRUNCATE, before autovacuum analyses it) could otherwise walk every event of the category for as long
  -- as the session lives. ST_DWithin on geography uses the index's geography column.
  d AS MATERIALIZED (
    SELECT r.i, m.other_id, m.distance_m
    FROM r CROSS JOIN LATERAL (
      SELECT x.id AS other_id, ST_Distance(x.geom::geography, r.g::geography) AS distance_m
      FROM events x
      WHERE x.state NOT IN ('closed', 'rejected') AND x.category_code >= r.category_code AND x.category_code <= r.category_code
        AND ST_DWithin(x.geom::geography, r.g::geography, r.dup_radius_m)
        AND x.occurred_at BETWEEN r.occurred_at - r.dup_hours * interval '1 hour' AND r.occurred_at + r.dup_hours * interval '1 hour'
      ORDER BY distance_m, x.id LIMIT 5
    ) m
  ),
  dj AS MATERIALIZED (
    SELECT r.i, coalesce(jsonb_agg(jsonb_build_object('id', d.other_id, 'distanceM', round(d.distance_m::numeric, 1)) ORDER BY d.other_id)
                           FILTER (WHERE d.other_id IS NOT NULL), '[]'::jsonb) AS list
    FROM r LEFT JOIN d ON d.i = r.i GROUP BY r.i
  ),
  k AS (
    INSERT INTO event_idempotency_keys (principal_key, key, request_hash, status_code, response, event_id)
    SELECT r.principal_key, r.key, r.request_hash, r.status_code, r.response || jsonb_build_object('id', r.id, 'possibleDuplicates', dj.list), r.id
    FROM r JOIN dj ON dj.i = r.i WHERE r.key IS NOT NULL
    ORDER BY r.principal_key, r.key
    ON CONFLICT (principal_key, key) DO NOTHING
    RETURNING event_idempotency_keys.event_id
  ),
  claimed AS MATERIALIZED (
    SELECT r.* FROM r WHERE r.key IS NULL
    UNION ALL
    SELECT r.* FROM r JOIN k ON k.event_id = r.id
  ),
  ins AS (
    INSERT INTO events (id, taxonomy_version, category_code, description, channel, source, occurred_at, reported_at, address, geom,
                        reporter_name_enc, reporter_phone_enc, reporter_masked, attachments,
                        grid_id, grid_code, grid_name, layout_id, community_code, street_code, responsible_staff_id, routing,
                        stage, stage_started_at, stage_due_at, due_at, created_by, updated_at)
    OVERRIDING SYSTEM VALUE
    SELECT c.id, c.taxonomy_version, c.category_code, c.description, c.channel, c.source, c.occurred_at, c.reported_at, c.address, c.g,
           decode(c.reporter_name_enc, 'base64'), decode(c.reporter_phone_enc, 'base64'), c.reporter_masked, coalesce(c.attachments, '{}'),
           c.grid_id, c.grid_code, c.grid_name, c.layout_id, c.community_code, c.street_code, c.responsible_staff_id, c.routing,
           c.stage, c.reported_at, c.stage_due_at, c.due_at, c.created_by, c.reported_at
    FROM claimed c ORDER BY c.i
    RETURNING events.id
  ),
  t AS (
    INSERT INTO event_transitions (event_id, action, from_state, to_state, at, actor_user_id, actor_name, details)
    SELECT c.id, 'report', NULL, 'reported', c.reported_at, c.created_by, c.actor_name, c.transition_details
    FROM claimed c JOIN ins ON ins.id = c.id ORDER BY c.i
  ),
  l AS (
    INSERT INTO event_links (event_id, other_id, distance_m)
    SELECT c.id, d.other_id, d.distance_m FROM claimed c JOIN ins ON ins.id = c.id JOIN d ON d.i = c.i
  )
  SELECT c.i, c.id, dj.list FROM claimed c JOIN ins ON ins.id = c.id JOIN dj ON dj.i = c.i;
END
$$;

-- The duplicate hint's search, exactly: open events of one category within N metres and M hours. The
-- partial GiST index on (geom) alone (0011) read every open event near the point, of every category and
-- any age, and filtered them: the search grew with the open events around a place (measured: 33 read
-- and dropped a search at 12,000 open events; with this index 1). Keyed by category, place (geography,
-- as ST_DWithin measures) and time (btree_gist for the scalars), it reads the candidates only. It
-- replaces that index (its only reader), so intake updates no more indexes than before.
DROP INDEX events_open_geom_gix;
DROP FUNCTION events_report(text, text, text, integer, jsonb, integer, text, text, text, text, timestamptz, timestamptz, text, double precision, double precision,
  bytea, bytea, jsonb, text[], integer, text, text, integer, text, text, integer, jsonb, text, timestamptz, timestamptz, integer, text, jsonb,
  double precision, double precision, double precision, double precision, double precision, double precision);
CREATE INDEX events_open_duplicate_gix ON events USING gist (category_code, (geom::geography), occurred_at) WHERE state NOT IN ('closed', 'rejected');
