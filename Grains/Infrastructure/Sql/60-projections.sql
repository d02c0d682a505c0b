-- Projections: which generation of views is live (and which one is being rebuilt), how far each
-- generation has read each source store, and the events it could not apply (parked).
CREATE TABLE IF NOT EXISTS projection_status
(
    projection            varchar(100) NOT NULL PRIMARY KEY,
    live_generation       integer      NOT NULL,
    rebuilding_generation integer      NULL,
    updated_at            timestamptz  NOT NULL DEFAULT now()
);

-- Fencing: every save of the status names the version it read (a stale runner's save is refused).
ALTER TABLE projection_status ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 0;

CREATE TABLE IF NOT EXISTS projection_checkpoints
(
    projection varchar(100) NOT NULL,
    generation integer      NOT NULL,
    store      varchar(50)  NOT NULL,
    tx_id      xid8         NOT NULL,
    position   bigint       NOT NULL,
    updated_at timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, generation, store)
);

CREATE TABLE IF NOT EXISTS projection_parked
(
    projection varchar(100) NOT NULL,
    generation integer      NOT NULL,
    store      varchar(50)  NOT NULL,
    position   bigint       NOT NULL,
    stream_id  varchar(200) NOT NULL,
    version    integer      NOT NULL,
    event_type varchar(100) NOT NULL,
    error      text         NOT NULL,
    attempts   integer      NOT NULL,
    parked_at  timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, generation, store, position)
);

-- The views' own state (ViewStateStorage): one row per view grain, written in batches; the version is
-- the ETag. Space is left free in each page so updates stay in place (HOT). Views were first kept in the
-- generic grain-state table; when this table is created, the projections start over from the events
-- (their checkpoints are reset), so every view is rebuilt here.
DO $$
BEGIN
    IF to_regclass('view_states') IS NULL THEN
        CREATE TABLE view_states
        (
            grain_key  text        NOT NULL,
            grain_type text        NOT NULL,
            state_name text        NOT NULL,
            payload    bytea       NOT NULL,
            version    integer     NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (grain_key, grain_type, state_name)
        ) WITH (fillfactor = 80);
        DELETE FROM projection_checkpoints;
        DELETE FROM projection_parked;
        DELETE FROM projection_status;
    END IF;
END
$$;
