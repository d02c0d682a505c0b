-- Partition drills: one row per activation of a probe grain, with the database's own clock for the first
-- and last call it served. Two rows of one key whose [first_seen, last_seen] overlap are two activations
-- of one grain that were alive at the same time (see docs/guarantees.md).
CREATE TABLE IF NOT EXISTS activation_probes
(
    grain_key  text        NOT NULL,
    activation text        NOT NULL,
    silo       text        NOT NULL,
    first_seen timestamptz NOT NULL,
    last_seen  timestamptz NOT NULL,
    calls      bigint      NOT NULL,
    PRIMARY KEY (grain_key, activation)
);
