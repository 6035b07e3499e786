-- The autoscaler's record (services/autoscaler): what it asked of each provider and when (the cooldowns' clocks
-- survive a restart), and every host it drained for scale-down until it is terminated or the drain undone. A drain is
-- written here before hosts.drain is asked, and closed after the instance is terminated: an autoscaler killed in
-- between finds the drain open at its next evaluation and finishes it (the host still draining and empty) or undoes
-- it (the host took a task, or is up again).

CREATE TABLE scaling_providers (
  provider    text        PRIMARY KEY,
  -- The last target the autoscaler set, and when it last raised it (capacity never launched is given up from then).
  target      integer     NOT NULL CHECK (target >= 0),
  asked_at    timestamptz,
  last_up     timestamptz,
  last_down   timestamptz,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  -- What the last evaluation saw, for the status page: instances the provider has (actual), of them not yet joined
  -- (starting), and hosts draining for scale-down; seen_at is when.
  actual      integer     NOT NULL DEFAULT 0 CHECK (actual >= 0),
  starting    integer     NOT NULL DEFAULT 0 CHECK (starting >= 0),
  draining    integer     NOT NULL DEFAULT 0 CHECK (draining >= 0),
  seen_at     timestamptz
);

CREATE TABLE scaling_drains (
  id          bigserial   PRIMARY KEY,
  provider    text        NOT NULL,
  host        text        NOT NULL,
  instance_id text        NOT NULL,
  -- open: drained (or being drained) for scale-down; terminated: its instance was terminated; undone: undrained (it
  -- took a task, work came back, or it was up again); gone: its host or instance went away meanwhile.
  state       text        NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'terminated', 'undone', 'gone')),
  reason      text,
  drained_at  timestamptz NOT NULL,
  closed_at   timestamptz
);
-- One open drain per host: a second replica's or a redone drain's insert finds it (the compare-and-set).
CREATE UNIQUE INDEX scaling_drains_open ON scaling_drains (host) WHERE state = 'open';
