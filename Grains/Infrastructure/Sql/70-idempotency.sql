-- The idempotency keys' state: one row per key, written in batches (group commit) by IdempotencyStorage.
-- Keys used to live in orleansstorage; rows still there are moved here the first time their key is used.
CREATE TABLE IF NOT EXISTS idempotency_keys
(
    grain_key  text        NOT NULL,
    grain_type text        NOT NULL,
    state_name text        NOT NULL,
    payload    bytea       NOT NULL,
    version    integer     NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (grain_key, grain_type, state_name)
) WITH (fillfactor = 80);

-- No index on updated_at, although the sweeper deletes by age: it would make every update of a key
-- non-HOT (bench idempotency measured that once on orleansstorage: a third of the write rate). The sweep
-- is a sequential scan in batches, once per sweep period.
