-- The tables examples/postgres.yaml projects Stripe and Clerk into: the contract tables of docs/manifest.md, in Postgres
-- types. `version` holds @version (occurred_at#arrival sequence); COLLATE "C" compares it byte by byte, as D1
-- does, whatever the database's locale.
CREATE TABLE IF NOT EXISTS users (
  id text PRIMARY KEY,
  email text,
  name text,
  metadata jsonb,
  created_at timestamptz,
  deleted_at timestamptz,
  version text COLLATE "C"
);

CREATE TABLE IF NOT EXISTS orders (
  id text PRIMARY KEY,
  status text,
  paid_at timestamptz,
  payment_intent_id text
);

CREATE TABLE IF NOT EXISTS subscriptions (
  id text PRIMARY KEY,
  customer_id text,
  status text,
  current_period_end timestamptz,
  plan_id text,
  version text COLLATE "C"
);
