-- Sagas: one row per saga, its whole state (steps, status, history) as JSON, written at every
-- transition with a version check. Being one table, it is also the index operators list by status.
CREATE TABLE IF NOT EXISTS sagas
(
    saga_id    varchar(200) NOT NULL PRIMARY KEY,
    kind       varchar(50)  NOT NULL,
    status     varchar(20)  NOT NULL,
    version    integer      NOT NULL,
    state      jsonb        NOT NULL,
    created_at timestamptz  NOT NULL,
    updated_at timestamptz  NOT NULL
) WITH (fillfactor = 80);

CREATE INDEX IF NOT EXISTS sagas_status ON sagas (status, updated_at DESC);

-- Registered workflows: every version of every definition, as the document it was registered with.
-- Versions are never reused: a deleted one keeps its row, marked deleted, so a saga that named it can
-- still be explained.
CREATE TABLE IF NOT EXISTS workflows
(
    name       varchar(50) NOT NULL,
    version    integer     NOT NULL,
    document   jsonb       NOT NULL,
    created_at timestamptz NOT NULL,
    deleted_at timestamptz NULL,
    PRIMARY KEY (name, version)
);
