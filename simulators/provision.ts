/**
 * Provisioning through the HTTP API, idempotent: GET each building and device by id and POST
 * only what is missing. A device's MQTT password is shown once, so the simulator keeps the
 * passwords it received in a local state file (`.firewatch-sim/credentials.json` under the
 * working directory, or --state), per API address. A device that exists but whose password is
 * not known here gets a new one (POST /api/v1/devices/:id/credentials).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HttpError, pool, type ApiClient } from './api-client.js';
import type { BuildingSpec, DeviceSpec } from './scenario.js';

export class CredentialFile {
  private data: Record<string, Record<string, string>> = {};
  /** what this process learned, merged into the file on save (several simulators may share it) */
  private mine: Record<string, Record<string, string>> = {};
  readonly file: string;

  constructor(stateDir: string) {
    this.file = join(stateDir, 'credentials.json');
    this.data = this.read();
  }

  private read(): Record<string, Record<string, string>> {
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, Record<string, string>>;
    } catch {
      return {};
    }
  }

  get(api: string, deviceId: string): string | undefined {
    return this.mine[api]?.[deviceId] ?? this.data[api]?.[deviceId];
  }

  set(api: string, deviceId: string, password: string): void {
    (this.mine[api] ??= {})[deviceId] = password;
  }

  save(): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const current = this.read();
    for (const [api, devices] of Object.entries(this.mine)) current[api] = { ...current[api], ...devices };
    this.data = current;
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(current, null, 1), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}

export interface ProvisionReport {
  buildingsCreated: number;
  buildingsExisting: number;
  devicesCreated: number;
  devicesExisting: number;
  credentialsRotated: number;
}

export async function provision(
  api: ApiClient,
  creds: CredentialFile,
  buildings: readonly BuildingSpec[],
  devices: readonly DeviceSpec[],
  concurrency = 8,
): Promise<ProvisionReport> {
  const report: ProvisionReport = { buildingsCreated: 0, buildingsExisting: 0, devicesCreated: 0, devicesExisting: 0, credentialsRotated: 0 };
  await pool(buildings, concurrency, async (b) => {
    const got = await api.request('GET', `/api/v1/buildings/${encodeURIComponent(b.id)}`);
    if (got.status === 200) {
      report.buildingsExisting++;
      return;
    }
    if (got.status !== 404) throw new HttpError(got.status, got.body, `GET building ${b.id}`);
    const r = await api.request('POST', '/api/v1/buildings', b);
    if (r.status === 201) report.buildingsCreated++;
    else if (r.status === 409) report.buildingsExisting++; // created meanwhile by another simulator
    else throw new HttpError(r.status, r.body, `POST building ${b.id}`);
  });
  try {
    await pool(devices, concurrency, async (d) => {
      const got = await api.request<{ inService?: boolean }>('GET', `/api/v1/devices/${encodeURIComponent(d.id)}`);
      if (got.status === 200) {
        report.devicesExisting++;
        if (!creds.get(api.baseUrl, d.id)) await rotate(api, creds, d.id, report);
        // registered by hand and still being commissioned: a fleet in simulation is in service
        if (got.body.inService === false) await putInService(api, d.id);
        return;
      }
      if (got.status !== 404) throw new HttpError(got.status, got.body, `GET device ${d.id}`);
      const body = {
        id: d.id,
        buildingId: d.buildingId,
        kind: d.kind,
        point: d.point ?? null,
        location: d.location,
        reportIntervalS: Math.max(1, Math.round(d.reportIntervalS)),
        vendor: 'Firewatch 模拟器',
        model: `sim-${d.kind}`,
        // fleet provisioning: in service at once, its alerts go to the duty room (no commissioning, issue #17 item 6)
        inService: true,
      };
      const r = await api.request<{ credentials: { password: string } }>('POST', '/api/v1/devices', body);
      if (r.status === 201) {
        creds.set(api.baseUrl, d.id, r.body.credentials.password);
        report.devicesCreated++;
      } else if (r.status === 409) {
        report.devicesExisting++;
        await rotate(api, creds, d.id, report);
        await putInService(api, d.id);
      } else throw new HttpError(r.status, r.body, `POST device ${d.id}`);
    });
  } finally {
    creds.save();
  }
  return report;
}

/** Put a device in service (idempotent: one already in service is answered as it is). */
async function putInService(api: ApiClient, deviceId: string): Promise<void> {
  await api.expect('POST', `/api/v1/devices/${encodeURIComponent(deviceId)}/in-service`, { note: 'Firewatch 模拟器 / simulator fleet' }, 200);
}

export async function rotate(api: ApiClient, creds: CredentialFile, deviceId: string, report?: ProvisionReport): Promise<string> {
  const r = await api.expect<{ password: string }>('POST', `/api/v1/devices/${encodeURIComponent(deviceId)}/credentials`, {}, 201);
  creds.set(api.baseUrl, deviceId, r.body.password);
  if (report) report.credentialsRotated++;
  return r.body.password;
}
