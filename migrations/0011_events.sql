-- Events (issue #7): a versioned category taxonomy with deadlines, a working calendar, events routed to
-- a grid at intake, their workflow history, idempotent intake and duplicate hints.
--
-- Deadlines are computed by the application (server/modules/events/working-calendar.ts) from the
-- taxonomy and calendar when a stage starts and stored with the event, so a later calendar edit never
-- moves a deadline already given. Whether an event is overdue is never stored: it is `now()` against
-- those deadlines, evaluated when read.

-- A taxonomy version. Exactly one is active; a new version is a complete copy (events keep theirs).
CREATE TABLE event_taxonomies (
  version     integer PRIMARY KEY CHECK (version > 0),
  name        text NOT NULL DEFAULT '',
  active      boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  created_by  integer
);
CREATE UNIQUE INDEX event_taxonomies_one_active ON event_taxonomies (active) WHERE active;

-- Categories (parent_code NULL) and their sub-types. Events always carry a sub-type. Stage limits are
-- hours: working hours on the working calendar, or calendar hours when `urgent`.
CREATE TABLE event_categories (
  taxonomy_version  integer NOT NULL REFERENCES event_taxonomies (version) ON DELETE CASCADE,
  code              text NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$'),
  parent_code       text,
  name              text NOT NULL CHECK (length(btrim(name)) > 0),
  sort              integer NOT NULL DEFAULT 0,
  urgent            boolean NOT NULL DEFAULT false,
  accept_hours      numeric(7, 2) CHECK (accept_hours > 0),
  dispatch_hours    numeric(7, 2) CHECK (dispatch_hours > 0),
  handle_hours      numeric(7, 2) CHECK (handle_hours > 0),
  verify_hours      numeric(7, 2) CHECK (verify_hours > 0),
  PRIMARY KEY (taxonomy_version, code),
  FOREIGN KEY (taxonomy_version, parent_code) REFERENCES event_categories (taxonomy_version, code),
  -- Sub-types carry the deadlines; categories only group them.
  CONSTRAINT event_categories_shape CHECK (
    (parent_code IS NULL AND code !~ '\.') OR
    (parent_code IS NOT NULL AND code LIKE parent_code || '.%'
      AND accept_hours IS NOT NULL AND dispatch_hours IS NOT NULL AND handle_hours IS NOT NULL AND verify_hours IS NOT NULL)
  )
);

-- The working calendar in Asia/Shanghai local time: working periods per ISO weekday (1 = Monday),
-- [start_time, end_time), several per day (a lunch break splits the day).
CREATE TABLE event_work_periods (
  weekday     smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
  start_time  time NOT NULL,
  end_time    time NOT NULL CHECK (end_time > start_time),
  PRIMARY KEY (weekday, start_time)
);

-- Dated exceptions: public holidays ('off') and the weekend days worked in exchange (调休, 'work', which
-- use Monday's periods).
CREATE TABLE event_calendar_days (
  day   date PRIMARY KEY,
  kind  text NOT NULL CHECK (kind IN ('off', 'work')),
  name  text NOT NULL DEFAULT ''
);

CREATE TABLE events (
  id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  taxonomy_version       integer NOT NULL,
  category_code          text NOT NULL,
  description            text NOT NULL CHECK (length(description) <= 10000),
  channel                text NOT NULL CHECK (channel IN ('patrol', 'hotline', 'resident', 'video', 'assigned')),
  -- Where the report came in: the API, Open311, or a bulk import of history.
  source                 text NOT NULL DEFAULT 'api' CHECK (source IN ('api', 'open311', 'import')),
  occurred_at            timestamptz NOT NULL,
  reported_at            timestamptz NOT NULL DEFAULT now(),
  address                text,
  geom                   geometry(Point, 4326) NOT NULL CHECK (ST_IsValid(geom)),
  -- Reporter contact: personal data, AES-GCM encrypted with the registry key; the masked form for display.
  reporter_name_enc      bytea,
  reporter_phone_enc     bytea,
  reporter_masked        jsonb,
  attachments            text[] NOT NULL DEFAULT '{}',
  -- Routing, fixed at intake (and on an explicit re-route): later layout publishes never change these.
  grid_id                integer REFERENCES grids (id) ON DELETE SET NULL,
  grid_code              text,
  grid_name              text,
  layout_id              integer REFERENCES layouts (id) ON DELETE SET NULL,
  community_code         text,
  street_code            text,
  responsible_staff_id   integer REFERENCES staff (id) ON DELETE SET NULL,
  routing                jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- Workflow.
  state                  text NOT NULL DEFAULT 'reported' CHECK (state IN
                           ('reported', 'accepted', 'rejected', 'dispatched', 'in_progress', 'resolved', 'verified', 'closed')),
  stage                  text CHECK (stage IN ('accept', 'dispatch', 'handle', 'verify')),
  stage_started_at       timestamptz,
  stage_due_at           timestamptz,
  -- The deadline to close (all stages from intake), moved by approved extensions.
  due_at                 timestamptz NOT NULL,
  assignee_staff_id      integer REFERENCES staff (id) ON DELETE SET NULL,
  assignee_department    text,
  handler_user_id        integer,
  result                 text,
  rejection_reason       text,
  pending_extension      jsonb,
  extension_hours        numeric(9, 2) NOT NULL DEFAULT 0,
  extension_count        integer NOT NULL DEFAULT 0,
  reopen_count           integer NOT NULL DEFAULT 0,
  transfer_count         integer NOT NULL DEFAULT 0,
  resolved_at            timestamptz,
  closed_at              timestamptz,
  created_by             integer,
  version                integer NOT NULL DEFAULT 1,
  updated_at             timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (taxonomy_version, category_code) REFERENCES event_categories (taxonomy_version, code),
  CONSTRAINT events_closed_at CHECK ((state = 'closed') = (closed_at IS NOT NULL))
);
-- Listing is keyset-paged by id (newest first); each filter has an index leading with it.
CREATE INDEX events_grid_idx ON events (grid_code, id);
CREATE INDEX events_community_idx ON events (community_code, id);
CREATE INDEX events_state_idx ON events (state, id);
CREATE INDEX events_category_idx ON events (category_code text_pattern_ops, id);
CREATE INDEX events_channel_idx ON events (channel, id);
CREATE INDEX events_reported_idx ON events (reported_at, id);
CREATE INDEX events_geom_gix ON events USING gist (geom);
-- Open events by deadline: the overdue filter and the duplicate hint read only open rows.
CREATE INDEX events_open_due_idx ON events (least(stage_due_at, due_at), id) WHERE state NOT IN ('closed', 'rejected');
CREATE INDEX events_open_geom_gix ON events USING gist (geom) WHERE state NOT IN ('closed', 'rejected');
CREATE INDEX events_closed_idx ON events (closed_at) WHERE closed_at IS NOT NULL;

-- Every workflow step: who, when, from, to, note. Never updated or deleted.
CREATE TABLE event_transitions (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id       bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  action         text NOT NULL,
  from_state     text,
  to_state       text NOT NULL,
  at             timestamptz NOT NULL DEFAULT now(),
  actor_user_id  integer,
  actor_name     text,
  note           text,
  details        jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX event_transitions_event_idx ON event_transitions (event_id, id);
CREATE INDEX event_transitions_action_idx ON event_transitions (action, at);

-- Possible duplicates found at intake: linked, never merged.
CREATE TABLE event_links (
  event_id     bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  other_id     bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  kind         text NOT NULL DEFAULT 'possible_duplicate' CHECK (kind IN ('possible_duplicate')),
  distance_m   double precision,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, other_id, kind)
);
CREATE INDEX event_links_other_idx ON event_links (other_id);

-- Idempotent intake: the first request with a key claims it (unique), creates the event and stores its
-- answer in the same transaction; a retry, even one racing the first, waits on the key and returns the
-- stored answer. `principal_key` scopes keys per caller so one client cannot read another's answer.
CREATE TABLE event_idempotency_keys (
  principal_key  text NOT NULL,
  key            text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
  request_hash   text NOT NULL,
  status_code    integer,
  response       jsonb,
  event_id       bigint REFERENCES events (id) ON DELETE CASCADE,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (principal_key, key)
);

-- Defaults: the usual office hours of a sub-district office (9:00–12:00, 13:30–17:30, Monday–Friday).
INSERT INTO event_work_periods (weekday, start_time, end_time)
SELECT d, p.s::time, p.e::time FROM generate_series(1, 5) AS d, (VALUES ('09:00', '12:00'), ('13:30', '17:30')) AS p(s, e);

-- Public holidays and adjusted working days of 2025 and 2026 (State Council notices); keep the table
-- up to date each December.
INSERT INTO event_calendar_days (day, kind, name) VALUES
  ('2025-01-01', 'off', '元旦'),
  ('2025-01-26', 'work', '春节调休'), ('2025-01-28', 'off', '春节'), ('2025-01-29', 'off', '春节'), ('2025-01-30', 'off', '春节'),
  ('2025-01-31', 'off', '春节'), ('2025-02-01', 'off', '春节'), ('2025-02-02', 'off', '春节'), ('2025-02-03', 'off', '春节'),
  ('2025-02-04', 'off', '春节'), ('2025-02-08', 'work', '春节调休'),
  ('2025-04-04', 'off', '清明节'), ('2025-04-05', 'off', '清明节'), ('2025-04-06', 'off', '清明节'),
  ('2025-04-27', 'work', '劳动节调休'), ('2025-05-01', 'off', '劳动节'), ('2025-05-02', 'off', '劳动节'), ('2025-05-03', 'off', '劳动节'),
  ('2025-05-04', 'off', '劳动节'), ('2025-05-05', 'off', '劳动节'),
  ('2025-05-31', 'off', '端午节'), ('2025-06-01', 'off', '端午节'), ('2025-06-02', 'off', '端午节'),
  ('2025-09-28', 'work', '国庆节调休'), ('2025-10-01', 'off', '国庆节、中秋节'), ('2025-10-02', 'off', '国庆节、中秋节'),
  ('2025-10-03', 'off', '国庆节、中秋节'), ('2025-10-04', 'off', '国庆节、中秋节'), ('2025-10-05', 'off', '国庆节、中秋节'),
  ('2025-10-06', 'off', '国庆节、中秋节'), ('2025-10-07', 'off', '国庆节、中秋节'), ('2025-10-08', 'off', '国庆节、中秋节'),
  ('2025-10-11', 'work', '国庆节调休'),
  ('2026-01-01', 'off', '元旦'), ('2026-01-02', 'off', '元旦'), ('2026-01-03', 'off', '元旦'), ('2026-01-04', 'work', '元旦调休'),
  ('2026-02-14', 'work', '春节调休'), ('2026-02-15', 'off', '春节'), ('2026-02-16', 'off', '春节'), ('2026-02-17', 'off', '春节'),
  ('2026-02-18', 'off', '春节'), ('2026-02-19', 'off', '春节'), ('2026-02-20', 'off', '春节'), ('2026-02-21', 'off', '春节'),
  ('2026-02-22', 'off', '春节'), ('2026-02-23', 'off', '春节'), ('2026-02-28', 'work', '春节调休'),
  ('2026-04-04', 'off', '清明节'), ('2026-04-05', 'off', '清明节'), ('2026-04-06', 'off', '清明节'),
  ('2026-05-01', 'off', '劳动节'), ('2026-05-02', 'off', '劳动节'), ('2026-05-03', 'off', '劳动节'), ('2026-05-04', 'off', '劳动节'),
  ('2026-05-05', 'off', '劳动节'), ('2026-05-09', 'work', '劳动节调休'),
  ('2026-06-19', 'off', '端午节'), ('2026-06-20', 'off', '端午节'), ('2026-06-21', 'off', '端午节'),
  ('2026-09-20', 'work', '国庆节调休'), ('2026-09-25', 'off', '中秋节'), ('2026-09-26', 'off', '中秋节'), ('2026-09-27', 'off', '中秋节'),
  ('2026-10-01', 'off', '国庆节'), ('2026-10-02', 'off', '国庆节'), ('2026-10-03', 'off', '国庆节'), ('2026-10-04', 'off', '国庆节'),
  ('2026-10-05', 'off', '国庆节'), ('2026-10-06', 'off', '国庆节'), ('2026-10-07', 'off', '国庆节'), ('2026-10-10', 'work', '国庆节调休');

-- The default taxonomy (version 1). Hours: accept, dispatch, handle, verify. Urgent sub-types (fire, gas,
-- an open manhole, residents in urgent need) run on calendar hours, day and night.
INSERT INTO event_taxonomies (version, name, active) VALUES (1, '默认事件分类', true);
INSERT INTO event_categories (taxonomy_version, code, parent_code, name, sort) VALUES
  (1, 'dispute', NULL, '矛盾纠纷', 10),
  (1, 'security_hazard', NULL, '治安隐患', 20),
  (1, 'safety', NULL, '安全隐患', 30),
  (1, 'environment', NULL, '环境卫生', 40),
  (1, 'facility', NULL, '公共设施（部件）', 50),
  (1, 'urgent_need', NULL, '困难群众急需', 60),
  (1, 'other', NULL, '其他', 90);
INSERT INTO event_categories (taxonomy_version, code, parent_code, name, sort, urgent, accept_hours, dispatch_hours, handle_hours, verify_hours) VALUES
  (1, 'dispute.neighbour', 'dispute', '邻里纠纷', 11, false, 4, 4, 40, 8),
  (1, 'dispute.family', 'dispute', '婚姻家庭纠纷', 12, false, 4, 4, 40, 8),
  (1, 'dispute.property', 'dispute', '物业纠纷', 13, false, 4, 4, 40, 8),
  (1, 'dispute.labour', 'dispute', '劳资纠纷', 14, false, 4, 4, 40, 8),
  (1, 'dispute.land', 'dispute', '土地房屋纠纷', 15, false, 4, 4, 80, 8),
  (1, 'dispute.other', 'dispute', '其他矛盾纠纷', 19, false, 4, 4, 40, 8),
  (1, 'security_hazard.public_order', 'security_hazard', '社会治安隐患', 21, false, 2, 2, 24, 8),
  (1, 'security_hazard.suspicious', 'security_hazard', '可疑人员和场所', 22, false, 2, 2, 24, 8),
  (1, 'security_hazard.traffic', 'security_hazard', '交通安全隐患', 23, false, 2, 2, 24, 8),
  (1, 'safety.fire', 'safety', '消防安全隐患', 31, true, 0.5, 0.5, 24, 24),
  (1, 'safety.gas', 'safety', '燃气安全隐患', 32, true, 0.5, 0.5, 12, 24),
  (1, 'safety.building', 'safety', '房屋安全隐患', 33, false, 2, 2, 40, 8),
  (1, 'safety.other', 'safety', '其他安全隐患', 39, false, 2, 2, 24, 8),
  (1, 'environment.garbage', 'environment', '垃圾堆放', 41, false, 2, 2, 16, 8),
  (1, 'environment.street_cleaning', 'environment', '道路保洁', 42, false, 2, 2, 16, 8),
  (1, 'environment.graffiti', 'environment', '乱涂乱画、小广告', 43, false, 2, 2, 16, 8),
  (1, 'environment.sewage', 'environment', '污水排放', 44, false, 2, 2, 24, 8),
  (1, 'environment.noise', 'environment', '噪声扰民', 45, false, 2, 2, 16, 8),
  (1, 'environment.abandoned_vehicle', 'environment', '废弃车辆', 46, false, 2, 4, 40, 8),
  (1, 'environment.greenery', 'environment', '园林绿化', 47, false, 2, 4, 40, 8),
  (1, 'facility.manhole', 'facility', '井盖', 51, true, 1, 1, 12, 24),
  (1, 'facility.street_light', 'facility', '路灯', 52, false, 2, 4, 24, 8),
  (1, 'facility.road', 'facility', '道路与人行道', 53, false, 2, 4, 40, 8),
  (1, 'facility.sign', 'facility', '标志标牌', 54, false, 2, 4, 40, 8),
  (1, 'facility.litter_bin', 'facility', '果皮箱', 55, false, 2, 4, 24, 8),
  (1, 'facility.drain', 'facility', '排水设施', 56, false, 2, 4, 24, 8),
  (1, 'facility.other', 'facility', '其他部件', 59, false, 2, 4, 40, 8),
  (1, 'urgent_need.livelihood', 'urgent_need', '生活困难急需救助', 61, true, 1, 1, 24, 24),
  (1, 'urgent_need.care', 'urgent_need', '独居老人等无人照料', 62, true, 1, 1, 12, 24),
  (1, 'other.other', 'other', '其他事项', 91, false, 4, 4, 40, 8);
