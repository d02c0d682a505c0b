-- The event table of one service (each service has its own schema, so "events" is never shared).
-- position: allocation order across the store; several transactions may commit out of that order.
-- tx_id: the writing transaction. Readers of the whole store (projections) take only rows whose
-- transaction ended before the oldest one still running, ordered by (tx_id, position): a row that
-- commits later always has a larger tx_id than any row already read, so none is ever skipped.
CREATE TABLE IF NOT EXISTS events
(
    position    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id   varchar(200) NOT NULL,
    version     integer      NOT NULL,
    event_type  varchar(100) NOT NULL,
    payload     jsonb        NOT NULL,
    command_id  varchar(200) NULL,
    recorded_at timestamptz  NOT NULL DEFAULT now(),
    tx_id       xid8         NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT events_stream_version UNIQUE (stream_id, version)
);

CREATE INDEX IF NOT EXISTS events_tx_position ON events (tx_id, position);

-- The W3C trace context of the append (null when it was not traced): a projection's apply span links to it.
ALTER TABLE events ADD COLUMN IF NOT EXISTS trace_parent varchar(64) NULL;

-- A command is applied to its stream at most once, however long ago it ran: a command carries its id on
-- the first event it writes, and a second append with the same id fails here. Services remember only
-- their recent commands in memory and find an older one's outcome through this index.
CREATE UNIQUE INDEX IF NOT EXISTS events_stream_command ON events (stream_id, command_id) WHERE command_id IS NOT NULL;

-- The latest snapshot of a stream: its state folded up to a version, and the command ids it still
-- remembers, so an activation reads the snapshot and the events after it rather than the whole stream.
-- A cache of the events: deleting a row only makes the next activation slower.
CREATE TABLE IF NOT EXISTS snapshots
(
    stream_id varchar(200) NOT NULL PRIMARY KEY,
    version   integer      NOT NULL,
    state     jsonb        NOT NULL,
    commands  jsonb        NOT NULL,
    taken_at  timestamptz  NOT NULL DEFAULT now()
);
