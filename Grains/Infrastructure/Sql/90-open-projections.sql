-- Event stores other services append to over HTTP. Each one's events live in a schema (or a database)
-- of its own, made by the same event-store script as the built-in services'; this is only the list.
CREATE TABLE IF NOT EXISTS open_stores
(
    name       varchar(40) NOT NULL PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- JavaScript projections: every registered version of every script, never changed once written.
CREATE TABLE IF NOT EXISTS projection_scripts
(
    projection varchar(100) NOT NULL,
    version    integer      NOT NULL,
    stores     text[]       NOT NULL,
    source     text         NOT NULL,
    created_at timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, version)
);

-- Which script version a generation of a JavaScript projection's views is built with. Written when the
-- generation starts, before any view of it exists, so its views and its runner always agree.
CREATE TABLE IF NOT EXISTS projection_script_generations
(
    projection varchar(100) NOT NULL,
    generation integer      NOT NULL,
    version    integer      NOT NULL,
    PRIMARY KEY (projection, generation)
);
