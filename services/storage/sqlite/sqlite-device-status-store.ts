/** DeviceStatusStore over SQLite: one JSON document per device. */
import type { DeviceStatus, DeviceStatusStore } from '../../devices/device-status.js';
import type { Db } from './database.js';

export class SqliteDeviceStatusStore implements DeviceStatusStore {
  private readonly upsert;
  private readonly saveTx: (entries: Array<[string, DeviceStatus]>) => void;

  constructor(private readonly db: Db) {
    this.upsert = db.prepare(
      `INSERT INTO device_status (device_id, status) VALUES (?, ?)
       ON CONFLICT(device_id) DO UPDATE SET status = excluded.status`,
    );
    this.saveTx = db.transaction((entries: Array<[string, DeviceStatus]>) => {
      for (const [id, s] of entries) this.upsert.run(id, JSON.stringify(s));
    });
  }

  loadAll(): Map<string, DeviceStatus> {
    const rows = this.db.prepare('SELECT device_id, status FROM device_status').all() as Array<{ device_id: string; status: string }>;
    return new Map(rows.map((r) => [r.device_id, JSON.parse(r.status) as DeviceStatus]));
  }

  saveMany(entries: Array<[string, DeviceStatus]>): void {
    this.saveTx(entries);
  }
}
