-- Intake (issue #7): events_report (migrations/0017_events_perf.sql) draws the new event's id from the
-- identity sequence by its name, resolved once when the statement is planned, instead of through
-- pg_get_serial_sequence('events', 'id'), which searched pg_depend on every intake. Nothing else changes.
-- The caller now also sends the call as a named (prepared) statement (server/db/database.ts).
CREATE OR REPLACE FUNCTION events_report(
  p_principal_key text, p_key text, p_request_hash text, p_status_code integer, p_response jsonb,
  p_taxonomy_version integer, p_category_code text, p_description text, p_channel text, p_source text,
  p_occurred_at timestamptz, p_reported_at timestamptz, p_address text, p_lon double precision, p_lat double precision,
  p_reporter_name_enc bytea, p_reporter_phone_enc bytea, p_reporter_masked jsonb, p_attachments text[],
  p_grid_id integer, p_grid_code text, p_grid_name text, p_layout_id integer, p_community_code text, p_street_code text,
  p_responsible_staff_id integer, p_routing jsonb, p_stage text, p_stage_due_at timestamptz, p_due_at timestamptz,
  p_created_by integer, p_actor_name text, p_transition_details jsonb,
  -- Duplicate hint: radius (m), window (h) and a lon/lat box around the point for the GiST prefilter.
  p_dup_radius_m double precision, p_dup_hours double precision,
  p_box_west double precision, p_box_south double precision, p_box_east double precision, p_box_north double precision
) RETURNS TABLE (new_event_id bigint, duplicate_list jsonb)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY
  WITH p AS (SELECT ST_SetSRID(ST_MakePoint(p_lon, p_lat), 4326) AS g),
  nid AS (SELECT nextval('events_id_seq'::regclass) AS id),
  d AS (
    SELECT x.id AS other_id, ST_Distance(x.geom::geography, p.g::geography) AS distance_m
    FROM events x, p
    WHERE x.state NOT IN ('closed', 'rejected') AND x.category_code = p_category_code
      AND x.geom && ST_MakeEnvelope(p_box_west, p_box_south, p_box_east, p_box_north, 4326)
      AND ST_DWithin(x.geom::geography, p.g::geography, p_dup_radius_m)
      AND x.occurred_at BETWEEN p_occurred_at - p_dup_hours * interval '1 hour' AND p_occurred_at + p_dup_hours * interval '1 hour'
    ORDER BY distance_m, x.id LIMIT 5
  ),
  dj AS (
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', d.other_id, 'distanceM', round(d.distance_m::numeric, 1)) ORDER BY d.other_id), '[]'::jsonb) AS list FROM d
  ),
  k AS (
    INSERT INTO event_idempotency_keys (principal_key, key, request_hash, status_code, response, event_id)
    SELECT p_principal_key, p_key, p_request_hash, p_status_code,
           p_response || jsonb_build_object('id', nid.id, 'possibleDuplicates', dj.list), nid.id
    FROM nid, dj WHERE p_key IS NOT NULL
    ON CONFLICT (principal_key, key) DO NOTHING
    RETURNING event_idempotency_keys.event_id AS id
  ),
  claimed AS (SELECT k.id FROM k UNION ALL SELECT nid.id FROM nid WHERE p_key IS NULL),
  ins AS (
    INSERT INTO events (id, taxonomy_version, category_code, description, channel, source, occurred_at, reported_at, address, geom,
                        reporter_name_enc, reporter_phone_enc, reporter_masked, attachments,
                        grid_id, grid_code, grid_name, layout_id, community_code, street_code, responsible_staff_id, routing,
                        stage, stage_started_at, stage_due_at, due_at, created_by, updated_at)
    OVERRIDING SYSTEM VALUE
    SELECT claimed.id, p_taxonomy_version, p_category_code, p_description, p_channel, p_source, p_occurred_at, p_reported_at, p_address, p.g,
           p_reporter_name_enc, p_reporter_phone_enc, p_reporter_masked, p_attachments,
           p_grid_id, p_grid_code, p_grid_name, p_layout_id, p_community_code, p_street_code, p_responsible_staff_id, p_routing,
           p_stage, p_reported_at, p_stage_due_at, p_due_at, p_created_by, p_reported_at
    FROM claimed, p
    RETURNING events.id
  ),
  t AS (
    INSERT INTO event_transitions (event_id, action, from_state, to_state, at, actor_user_id, actor_name, details)
    SELECT ins.id, 'report', NULL, 'reported', p_reported_at, p_created_by, p_actor_name, p_transition_details FROM ins
  ),
  l AS (INSERT INTO event_links (event_id, other_id, distance_m) SELECT ins.id, d.other_id, d.distance_m FROM ins, d)
  SELECT ins.id, dj.list FROM ins, dj;
END
$$;
