// The hub's REST API, with the viewer token as a Bearer header. Every call resolves to a result, never throws, so a
// missing endpoint only empties its panel.

export type ApiResult<T> = { ok: true; value: T } | { ok: false; status: number; message: string };

export class HubApi {
  constructor(
    private readonly base: string,
    private readonly token: string,
  ) {}

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<ApiResult<T>> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      accept: 'application/json',
    };
    const init: RequestInit = { method, headers, cache: 'no-store' };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res: Response;
    try {
      res = await fetch(new URL(path, this.base), init);
    } catch (error) {
      return { ok: false, status: 0, message: `hub unreachable (${String(error)})` };
    }
    const text = await res.text().catch(() => '');
    let json: unknown = null;
    try {
      json = text.length > 0 ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!res.ok) {
      const detail =
        json && typeof json === 'object' && 'message' in json
          ? String((json as { message: unknown }).message)
          : '';
      return { ok: false, status: res.status, message: detail || `${res.status} ${res.statusText}` };
    }
    return { ok: true, value: json as T };
  }

  site(): Promise<ApiResult<unknown>> {
    return this.call('GET', 'api/site');
  }

  /** The device registry: an array of records, or `{devices: [...]}`. */
  async devices(): Promise<ApiResult<unknown[]>> {
    const r = await this.call<unknown>('GET', 'api/devices');
    if (!r.ok) return r;
    const v = r.value;
    if (Array.isArray(v)) return { ok: true, value: v };
    if (v && typeof v === 'object' && Array.isArray((v as { devices?: unknown }).devices)) {
      return { ok: true, value: (v as { devices: unknown[] }).devices };
    }
    return { ok: false, status: 200, message: 'unexpected /api/devices response' };
  }

  /** Agents known to the hub (token file and connected), `{agents: [...]}`. */
  async agents(): Promise<ApiResult<unknown[]>> {
    const r = await this.call<unknown>('GET', 'api/agents');
    if (!r.ok) return r;
    const list = (r.value as { agents?: unknown } | null)?.agents;
    return Array.isArray(list)
      ? { ok: true, value: list }
      : { ok: false, status: 200, message: 'unexpected /api/agents response' };
  }

  models(): Promise<ApiResult<unknown>> {
    return this.call('GET', 'api/models');
  }

  setTrust(deviceId: string, decision: 'approve' | 'block' | 'reset'): Promise<ApiResult<unknown>> {
    return this.call('POST', `api/devices/${encodeURIComponent(deviceId)}/trust`, { decision });
  }
}
