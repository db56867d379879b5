-- Accounts, sessions, API tokens and the tamper-evident audit log (issue #4).
-- Secrets are never stored: passwords as scrypt hashes, tokens as SHA-256 of 32 random bytes.

CREATE TABLE users (
  id                    integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username              text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9_.-]{1,63}$'),
  display_name          text NOT NULL DEFAULT '',
  -- 'scrypt$N$r$p$salt$hash' (base64url); see server/auth/password.ts
  password_hash         text NOT NULL,
  roles                 text[] NOT NULL DEFAULT '{}' CHECK (roles <@ ARRAY['admin', 'planner', 'dispatcher', 'grid_worker',
                          'community_manager', 'street_manager', 'analyst', 'auditor']::text[]),
  scope_all             boolean NOT NULL DEFAULT false,
  -- Division (6/9/12 digits) and grid (15 digits) codes; see wangge_in_scope() in 0004.
  scope_prefixes        text[] NOT NULL DEFAULT '{}' CHECK (array_to_string(scope_prefixes, ',') ~ '^([0-9]{6,15}(,[0-9]{6,15})*)?$'),
  must_change_password  boolean NOT NULL DEFAULT false,
  disabled              boolean NOT NULL DEFAULT false,
  -- Consecutive failed sign-ins; at the threshold the account is locked with exponential backoff.
  failed_sign_ins       integer NOT NULL DEFAULT 0,
  locked_until          timestamptz,
  password_changed_at   timestamptz NOT NULL DEFAULT now(),
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);

-- One row per access/refresh pair. Refreshing marks the row rotated and inserts its successor in the
-- same family; presenting a rotated refresh token again (a stolen copy) revokes the whole family.
CREATE TABLE sessions (
  id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id             integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family_id           uuid NOT NULL,
  access_hash         text NOT NULL UNIQUE,
  access_expires_at   timestamptz NOT NULL,
  refresh_hash        text NOT NULL UNIQUE,
  refresh_expires_at  timestamptz NOT NULL,
  rotated_at          timestamptz,
  revoked_at          timestamptz,
  revoked_reason      text,
  ip                  text,
  user_agent          text,
  created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_family_idx ON sessions (family_id);

-- Machine clients (hotline systems): roles a subset of the creator's, scope inside the creator's.
CREATE TABLE api_tokens (
  id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id         integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name            text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
  token_hash      text NOT NULL UNIQUE,
  -- The first characters of the token, so an operator can tell tokens apart in a list.
  token_prefix    text NOT NULL,
  roles           text[] NOT NULL CHECK (roles <@ ARRAY['admin', 'planner', 'dispatcher', 'grid_worker',
                    'community_manager', 'street_manager', 'analyst', 'auditor']::text[]),
  scope_all       boolean NOT NULL DEFAULT false,
  scope_prefixes  text[] NOT NULL DEFAULT '{}',
  expires_at      timestamptz,
  last_used_at    timestamptz,
  revoked_at      timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

-- Failed sign-ins by client address, for the per-address backoff (accounts have their own counter).
CREATE TABLE sign_in_failures (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ip        text NOT NULL,
  username  text NOT NULL,
  at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_failures_ip_idx ON sign_in_failures (ip, at);

-- Append-only, hash-chained audit log. `hash` = SHA-256 over the canonical serialisation of the row
-- (server/modules/audit/audit-chain.ts) including `prev_hash`, so editing or deleting any row breaks
-- the chain from there on. Appends serialise on the single row of audit_chain_head (SELECT … FOR
-- UPDATE), so concurrent writers never fork the chain, and ids have no gaps.
CREATE TABLE audit_log (
  id            bigint PRIMARY KEY,
  at            timestamptz NOT NULL,
  actor_kind    text NOT NULL CHECK (actor_kind IN ('user', 'token', 'anonymous', 'system')),
  actor_user_id integer,
  actor_name    text,
  action        text NOT NULL CHECK (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
  outcome       text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
  target_type   text,
  target_id     text,
  ip            text,
  details       jsonb NOT NULL DEFAULT '{}'::jsonb,
  prev_hash     text NOT NULL,
  hash          text NOT NULL
);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_user_id, id);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id, id);
CREATE INDEX audit_log_at_idx ON audit_log (at);

CREATE TABLE audit_chain_head (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  last_id    bigint NOT NULL,
  last_hash  text NOT NULL
);
-- The genesis hash: 64 zeros.
INSERT INTO audit_chain_head (last_id, last_hash) VALUES (0, repeat('0', 64));

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();

-- wangge_app (requests reading personal data under RLS, see 0004) may append to the audit log from
-- inside its transactions, never rewrite it; it never needs credentials.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM wangge_app;
GRANT SELECT, INSERT ON audit_log TO wangge_app;
REVOKE DELETE, TRUNCATE, INSERT ON audit_chain_head FROM wangge_app;
GRANT SELECT, UPDATE ON audit_chain_head TO wangge_app;
REVOKE ALL ON sessions, api_tokens, sign_in_failures FROM wangge_app;
REVOKE ALL ON users FROM wangge_app;
GRANT SELECT (id, username, display_name) ON users TO wangge_app;
