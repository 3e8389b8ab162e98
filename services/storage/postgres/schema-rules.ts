/**
 * The rules' durable state on PostgreSQL (docs/adr/0008): each device's open condition states and
 * its rule memory, with the columns and meaning of their SQLite tables as they stand after every
 * migration (../sqlite/migrations.ts: rule_state and rule_memory of migration 2; no later
 * migration alters them), kept by pg-rule-state-store.ts so that for/clear timers survive a
 * restart. To be appended to PG_MIGRATIONS (migrations.ts); until then a database gets it by
 * listing it after them.
 *   - rule_state: one row per device and rule whose condition is not 'normal' (a normal state is
 *     deleted, not stored); `state` is the ConditionState as JSON (json, as the other documents
 *     of this schema: the text as written, and a \u0000 escape in a text the families keep is
 *     accepted, which jsonb refuses)
 *   - rule_memory: one row per device, the RuleMemory the rule families keep between readings, as
 *     JSON, replaced whole by each save
 *   - no foreign key to devices: the engine keeps what it is given for ids it has seen, registered
 *     or not, and forgets a removed device itself (forgetDevice), as on SQLite
 */
export const PG_RULES_SQL = `
  CREATE TABLE rule_state (
    device_id text COLLATE "C" NOT NULL,
    rule_id text COLLATE "C" NOT NULL,
    state json NOT NULL,
    CONSTRAINT rule_state_pkey PRIMARY KEY (device_id, rule_id)
  );

  CREATE TABLE rule_memory (
    device_id text COLLATE "C" NOT NULL,
    memory json NOT NULL,
    CONSTRAINT rule_memory_pkey PRIMARY KEY (device_id)
  );
`;
