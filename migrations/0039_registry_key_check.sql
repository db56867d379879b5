-- Which registry key encrypted this database's personal data (ID numbers, phones, event reporters).
-- One row: a 16-byte fingerprint derived from the key (HKDF, its own label, so it reveals nothing about
-- the encryption or search keys). The server compares it with its configured key before it serves or
-- imports anything: a server started with another key (a lost or regenerated `.data/registry.key`, a
-- REGISTRY_KEY from another installation) would answer 500 for every stored value it cannot decrypt
-- and, worse, write new values no one with the right key could read. It refuses to start instead.
CREATE TABLE registry_key (
  singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  fingerprint bytea NOT NULL CHECK (length(fingerprint) = 16),
  claimed_at  timestamptz NOT NULL DEFAULT now()
);
-- Nothing scoped needs it (the check runs before any request, as the owner).
REVOKE ALL ON registry_key FROM wangge_app;
