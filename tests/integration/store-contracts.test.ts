/**
 * The stores of firewatch.db against their contracts (tests/support/<name>-contract.ts), each on a
 * real temp SQLite file opened as the service opens it (openDatabase: WAL, foreign keys, every
 * migration), and reopened from that file to test what survives a restart; and the in-memory fakes
 * other tests use against the same contracts.
 */
import { InMemoryTestWindowStore } from '../../services/devices/test-windows.js';
import { InMemoryCursorStore } from '../../services/log/reading-log.js';
import { SqliteAlertStore } from '../../services/storage/sqlite/sqlite-alert-store.js';
import { SqliteAuditStore } from '../../services/storage/sqlite/sqlite-audit-store.js';
import { SqliteAuthStore } from '../../services/storage/sqlite/sqlite-auth-store.js';
import { SqliteCursorStore } from '../../services/storage/sqlite/sqlite-cursor-store.js';
import { SqliteDeviceStatusStore } from '../../services/storage/sqlite/sqlite-device-status-store.js';
import { SqliteEventLogStore, SqliteMaintenanceStore } from '../../services/storage/sqlite/sqlite-feed-stores.js';
import { SqliteRegistryStore } from '../../services/storage/sqlite/sqlite-registry-store.js';
import { SqliteTestWindowStore } from '../../services/storage/sqlite/sqlite-test-window-store.js';
import { SqliteUplinkStore } from '../../services/storage/sqlite/sqlite-uplink-store.js';
import { alertStoreContract, maintenanceStoreContract } from '../support/alert-store-contract.js';
import { auditStoreContract } from '../support/audit-store-contract.js';
import { authStoreContract } from '../support/auth-store-contract.js';
import { cursorStoreContract } from '../support/cursor-store-contract.js';
import { deviceStatusStoreContract } from '../support/device-status-store-contract.js';
import { eventLogStoreContract } from '../support/event-log-store-contract.js';
import { MemoryAuditStore } from '../support/memory-audit-store.js';
import { registryStoreContract } from '../support/registry-store-contract.js';
import { testWindowStoreContract } from '../support/test-window-store-contract.js';
import { uplinkStoreContract } from '../support/uplink-store-contract.js';
import { onSqlite } from '../support/sqlite-harness.js';


const inMemory = <S>(store: S) => ({ store, cleanup: () => undefined });

auditStoreContract('sqlite', () => onSqlite((db) => new SqliteAuditStore(db)));
auditStoreContract('in-memory (tests/support/memory-audit-store.ts)', () => inMemory(new MemoryAuditStore()));

alertStoreContract('sqlite', () => onSqlite((db) => new SqliteAlertStore(db)));
maintenanceStoreContract('sqlite', () => onSqlite((db) => new SqliteMaintenanceStore(db)));

eventLogStoreContract('sqlite', () => onSqlite((db) => new SqliteEventLogStore(db)));

registryStoreContract('sqlite', () => onSqlite((db) => new SqliteRegistryStore(db)));

authStoreContract('sqlite', () => onSqlite((db) => new SqliteAuthStore(db)));

uplinkStoreContract('sqlite', () => onSqlite((db) => new SqliteUplinkStore(db)));

cursorStoreContract('sqlite', () => onSqlite((db) => new SqliteCursorStore(db)));
cursorStoreContract('in-memory (InMemoryCursorStore)', () => inMemory(new InMemoryCursorStore()));

deviceStatusStoreContract('sqlite', () => onSqlite((db) => new SqliteDeviceStatusStore(db)));

testWindowStoreContract('sqlite', () => onSqlite((db) => new SqliteTestWindowStore(db)));
testWindowStoreContract('in-memory (InMemoryTestWindowStore)', () => inMemory(new InMemoryTestWindowStore()));
