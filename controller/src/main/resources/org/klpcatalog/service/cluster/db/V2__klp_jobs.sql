-- klp-catalog's own tables beside Quartz's (V1, Quartz's PostgreSQL DDL as shipped in its jar).

-- One row per farm job (a module build): who runs it, how it ended. Quartz keeps the job itself
-- (durable, recovered when its replica dies); this row is what the reconciling replica waits on.
CREATE TABLE klp_jobs
(
  id          VARCHAR(200) NOT NULL PRIMARY KEY,
  kind        VARCHAR(16)  NOT NULL,
  subject     VARCHAR(400) NOT NULL,
  revision    VARCHAR(64)  NOT NULL,
  state       VARCHAR(16)  NOT NULL,
  replica     VARCHAR(120) NULL,
  attempts    INTEGER      NOT NULL DEFAULT 0,
  recovered   INTEGER      NOT NULL DEFAULT 0,
  message     TEXT         NULL,
  queued_at   TIMESTAMPTZ  NOT NULL DEFAULT now(),
  started_at  TIMESTAMPTZ  NULL,
  finished_at TIMESTAMPTZ  NULL
);
CREATE INDEX klp_jobs_state ON klp_jobs (state);
CREATE INDEX klp_jobs_revision ON klp_jobs (revision);
CREATE INDEX klp_jobs_finished ON klp_jobs (finished_at);

-- What a replica last recorded of a reconcile (any replica may run the next one): the status
-- every replica's /status shows.
CREATE TABLE klp_status
(
  id         INTEGER      NOT NULL PRIMARY KEY CHECK (id = 1),
  replica    VARCHAR(120) NOT NULL,
  status     TEXT         NOT NULL,
  updated_at TIMESTAMPTZ  NOT NULL DEFAULT now()
);

-- Whether reconciling is suspended, for the whole cluster (suspend or resume on any replica).
CREATE TABLE klp_settings
(
  id         INTEGER     NOT NULL PRIMARY KEY CHECK (id = 1),
  suspended  BOOLEAN     NOT NULL,
  updated_by VARCHAR(120) NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
