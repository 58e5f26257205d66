-- A seat claim survives a host's decisions about other identities (issue 26, the
-- waiting-room burst). Every knock decision bumps the room's version (ListKnocks' etag
-- must change), and a claim holds only if the room is still as its decision saw it; so
-- while a host admits a queue, the admitted guests' claims kept finding the version
-- moved and deciding again. The room's row now remembers the run of knock decisions
-- that made its latest versions: `knock_run_version` is the version the last knock
-- decision produced (equal to `version` while nothing else has changed since), and
-- `knock_run_users` the identities decided in that run, in order, the last 256 at
-- most. A claim decided at an older version still holds when every version since was
-- a knock decision about someone else (the `decision_holds` fragment of queries.sql).

ALTER TABLE rooms
    ADD COLUMN knock_run_version bigint NOT NULL DEFAULT 0,
    ADD COLUMN knock_run_users text[] NOT NULL DEFAULT '{}';
