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
