-- The notifier's record (services/notifier): every event worth telling a person, kept once by its identity, and the
-- Slack messages made of them. An event is written here before the notifier acks it, and a message is marked sent
-- after Slack's 200: a redelivered event, a second replica or a restart never makes a second message, and a crash
-- never loses one (a message still pending after a restart is sent then).

CREATE TABLE notifications (
  id          bigserial   PRIMARY KEY,
  -- The digest key of its events (services/notifier digest.ts groupKey), e.g. `failed`, `host/h3`.
  group_key   text        NOT NULL,
  -- pending: to be sent (or being sent); sent: Slack answered 200; refused: Slack said no (a 4xx other than 429),
  -- or the retries of a 5xx or an unreachable webhook ran out (NOTIFY_RETRY_FOR).
  state       text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'refused')),
  -- Slack's error string (`channel_not_found`) or why it gave up; never the webhook's URL.
  error       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  sent_at     timestamptz
);
-- The sender's queue, oldest first.
CREATE INDEX notifications_pending ON notifications (id) WHERE state = 'pending';

CREATE TABLE notification_items (
  -- The event's identity: `task/<name>/<version>`, `host/<host>/<state>/<at>`, `dead/<stream>/<consumer>/<seq>`, ... A
  -- redelivered event, or one two replicas both read, is kept once.
  key           text        PRIMARY KEY,
  group_key     text        NOT NULL,
  -- What the message says of it (services/notifier items.ts Item).
  item          jsonb       NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now(),
  -- The message it went into; null while its group's window is open (a digest in progress).
  notification  bigint      REFERENCES notifications (id) ON DELETE CASCADE
);
-- The open groups, by key and age: what the sender closes when a group's window has passed.
CREATE INDEX notification_items_open ON notification_items (group_key, received_at) WHERE notification IS NULL;
-- The items of one message, in the order they came.
CREATE INDEX notification_items_of ON notification_items (notification, received_at) WHERE notification IS NOT NULL;

-- Cron fire times skipped past their starting deadline publish no event: the notifier reads them here, by the time
-- they were recorded. Partial: such skips are rare (a cron service down longer than a deadline), so the index costs
-- the fires the cron service records every tick nothing.
CREATE INDEX fires_skipped_deadline ON fires (recorded_at) WHERE outcome = 'skipped_deadline';
