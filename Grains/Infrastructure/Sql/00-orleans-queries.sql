-- The table every Orleans ADO.NET provider reads its statements from, once, when it starts.
-- Identifiers stay unquoted: the providers issue them unquoted and PostgreSQL folds them to lower case.
CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64)   NOT NULL PRIMARY KEY,
    QueryText varchar(8000) NOT NULL
);
