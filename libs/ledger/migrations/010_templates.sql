-- Task templates (templates.put): named, versioned partial specs that a task names with "template": "name" (the
-- latest version) or "name:3", and whose fields it overrides (libs/contracts applyTemplate). A version is never
-- changed or deleted once written, so a task's template_version always names what it was merged with. Putting the
-- content of the latest version again makes no new version.
CREATE TABLE templates (
  name        text        NOT NULL,
  -- 1, 2, 3 … per name; the next one is written by a compare-and-set on this key (libs/ledger/src/templates.ts).
  version     integer     NOT NULL CHECK (version >= 1),
  -- The template's fields as put (aliases kept), secret_env values shown as "(secret)".
  spec        jsonb       NOT NULL,
  description text,
  -- The secret_env values, as task_secrets.env holds a task's (sealed with SECRETS_KEY when set); null when none.
  secrets     jsonb,
  -- The stream sequence of the templates.put that wrote this version: a redelivered put is recognized by it.
  put_seq     bigint,
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- Also the index of every read: the latest version of a name (a backward scan), one version, the list by name.
  PRIMARY KEY (name, version)
);

-- The template a task's spec was merged with, and its version; null for a spec that named none. Nullable and
-- without a default, so adding them rewrites no row of a large tasks table.
ALTER TABLE tasks ADD COLUMN template text, ADD COLUMN template_version integer;
