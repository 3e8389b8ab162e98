/**
 * Every RuleStateStore against the one contract (tests/support/rule-state-store-contract.ts): the
 * in-memory fake the rule tests use, and the SQLite store on a real temp file (firewatch.db's
 * rule_state and rule_memory tables), reopened from that file to test that it keeps what it saved.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryRuleStateStore } from '../../services/rules/rule-state-store.js';
import { openDatabase, type Db } from '../../services/storage/sqlite/database.js';
import { SqliteRuleStateStore } from '../../services/storage/sqlite/sqlite-rule-state-store.js';
import { ruleStateStoreContract } from '../support/rule-state-store-contract.js';

ruleStateStoreContract('in-memory', () => ({ store: new InMemoryRuleStateStore(), cleanup: () => undefined, guardsValues: true }));

ruleStateStoreContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'firewatch-rule-states-'));
  const file = join(dir, 'firewatch.db');
  let db: Db = openDatabase(file);
  let store = new SqliteRuleStateStore(db);
  return {
    store,
    // a restart: close() saves what is unsaved, then the file is opened afresh
    reopen: () => {
      store.close();
      db.close();
      db = openDatabase(file);
      store = new SqliteRuleStateStore(db);
      return store;
    },
    cleanup: async () => {
      store.close();
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
