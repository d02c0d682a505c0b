-- Grain state for Orleans.Persistence.AdoNet, written for this project from the provider's contract.
-- Version is the etag: NULL expected = "insert version 1 unless a row exists"; otherwise the update
-- must match the expected version and returns it plus one. Returning NULL tells the provider the
-- comparison failed, which it raises as InconsistentStateException.

CREATE TABLE IF NOT EXISTS OrleansStorage
(
    GrainIdHash            integer      NOT NULL,
    GrainIdN0              bigint       NOT NULL,
    GrainIdN1              bigint       NOT NULL,
    GrainTypeHash          integer      NOT NULL,
    GrainTypeString        varchar(512) NOT NULL,
    GrainIdExtensionString varchar(1024) NULL,
    ServiceId              varchar(150) NOT NULL,
    PayloadBinary          bytea        NULL,
    ModifiedOn             timestamptz  NOT NULL DEFAULT now(),
    Version                integer      NULL
);

-- String grain keys are made of ids of up to 256 characters whose braces are doubled (StorageKeys), so
-- they need more than upstream's 512; databases made before are widened (no rewrite: only the limit moves).
DO $$
BEGIN
    IF (SELECT character_maximum_length FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = 'orleansstorage' AND column_name = 'grainidextensionstring') < 1024 THEN
        ALTER TABLE OrleansStorage ALTER COLUMN GrainIdExtensionString TYPE varchar(1024);
    END IF;
END $$;

-- One row per grain identity. Upstream has no unique constraint here, which lets two racing first
-- writes both insert; with it, the loser gets a version conflict instead of a duplicate row.
CREATE UNIQUE INDEX IF NOT EXISTS orleansstorage_identity ON OrleansStorage
    (GrainIdHash, GrainTypeHash, ServiceId, GrainTypeString, GrainIdN0, GrainIdN1,
     (COALESCE(GrainIdExtensionString, '')));

-- Every write updates ModifiedOn, Version and the payload, none of them indexed: room left on each page
-- lets PostgreSQL update in place (HOT) without touching the index. An index on ModifiedOn (tried for
-- the idempotency sweep) made every update also insert into it and tripled write latency; the sweep
-- runs every ten minutes and scans instead.
ALTER TABLE OrleansStorage SET (fillfactor = 80);
DROP INDEX IF EXISTS orleansstorage_modified;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('ReadFromStorageKey', $sql$
SELECT PayloadBinary, Version
  FROM OrleansStorage
 WHERE GrainIdHash = CAST(@GrainIdHash AS integer) AND GrainTypeHash = CAST(@GrainTypeHash AS integer)
   AND ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString
   AND GrainIdN0 = CAST(@GrainIdN0 AS bigint) AND GrainIdN1 = CAST(@GrainIdN1 AS bigint)
   AND COALESCE(GrainIdExtensionString, '') = COALESCE(CAST(@GrainIdExtensionString AS varchar), '')
 LIMIT 1;
$sql$),

('WriteToStorageKey', $sql$
WITH updated AS (
    UPDATE OrleansStorage
       SET PayloadBinary = @PayloadBinary, ModifiedOn = now(), Version = Version + 1
     WHERE CAST(@GrainStateVersion AS integer) IS NOT NULL
       AND GrainIdHash = CAST(@GrainIdHash AS integer) AND GrainTypeHash = CAST(@GrainTypeHash AS integer)
       AND ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString
       AND GrainIdN0 = CAST(@GrainIdN0 AS bigint) AND GrainIdN1 = CAST(@GrainIdN1 AS bigint)
       AND COALESCE(GrainIdExtensionString, '') = COALESCE(CAST(@GrainIdExtensionString AS varchar), '')
       AND Version = CAST(@GrainStateVersion AS integer)
    RETURNING Version
), inserted AS (
    INSERT INTO OrleansStorage
        (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString,
         ServiceId, PayloadBinary, ModifiedOn, Version)
    SELECT CAST(@GrainIdHash AS integer), CAST(@GrainIdN0 AS bigint), CAST(@GrainIdN1 AS bigint),
           CAST(@GrainTypeHash AS integer), CAST(@GrainTypeString AS varchar),
           CAST(@GrainIdExtensionString AS varchar), CAST(@ServiceId AS varchar), @PayloadBinary, now(), 1
     WHERE CAST(@GrainStateVersion AS integer) IS NULL
    ON CONFLICT DO NOTHING
    RETURNING Version
)
SELECT (SELECT Version FROM updated UNION ALL SELECT Version FROM inserted LIMIT 1) AS NewGrainStateVersion;
$sql$),

-- Clearing keeps the row (payload NULL) and bumps the version, so a stale writer still conflicts.
('ClearStorageKey', $sql$
WITH cleared AS (
    UPDATE OrleansStorage
       SET PayloadBinary = NULL, ModifiedOn = now(), Version = Version + 1
     WHERE CAST(@GrainStateVersion AS integer) IS NOT NULL
       AND GrainIdHash = CAST(@GrainIdHash AS integer) AND GrainTypeHash = CAST(@GrainTypeHash AS integer)
       AND ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString
       AND GrainIdN0 = CAST(@GrainIdN0 AS bigint) AND GrainIdN1 = CAST(@GrainIdN1 AS bigint)
       AND COALESCE(GrainIdExtensionString, '') = COALESCE(CAST(@GrainIdExtensionString AS varchar), '')
       AND Version = CAST(@GrainStateVersion AS integer)
    RETURNING Version
)
SELECT (SELECT Version FROM cleared) AS NewGrainStateVersion;
$sql$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
