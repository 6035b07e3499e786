import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  envelope, errorBody, fleetConfigXml, fleetInstanceXml, instanceXml, reservationXml, stateChangeXml,
  type FakeFleet, type FakeInstance, type InstanceState,
} from './ec2-xml.js';

export type { FakeFleet, FakeInstance, InstanceState } from './ec2-xml.js';

/** One request the server got: its action, every form parameter as sent, who signed it, and what it answered. */
export interface Ec2Request {
  at: number;
  action: string;
  params: Record<string, string>;
  /** The access key id of the SigV4 `Authorization` header (the secret never travels). */
  accessKeyId: string | null;
  securityToken: string | null;
  status: number;
  /** The error code answered, null on success. */
  errorCode: string | null;
}

/** An error to answer instead of handling the request: `times` calls (of `actions`, or of any action). */
export interface Ec2Fault {
  code: string;
  times?: number;
  actions?: string[];
  message?: string;
  status?: number;
}

class Ec2Error extends Error {
  constructor(readonly code: string, message: string, readonly status = 400) {
    super(message);
  }
}

// The status EC2 answers each injected code with: throttling is 503 (the SDK retries it as throttling by its code),
// capacity 500 (a server fault), credentials 401, anything else 400 (a client fault).
const FAULT_STATUS: Record<string, number> = {
  RequestLimitExceeded: 503, Throttling: 400, InsufficientInstanceCapacity: 500, InternalError: 500, Unavailable: 503, AuthFailure: 401,
};
const FAULT_MESSAGE: Record<string, string> = {
  RequestLimitExceeded: 'Request limit exceeded.',
  Throttling: 'Rate exceeded',
  InsufficientInstanceCapacity: 'We currently do not have sufficient capacity in the Availability Zone you requested.',
  AuthFailure: 'AWS was not able to validate the provided access credentials',
};
const VERSION = '2016-11-15';
const MAX_BODY = 1 << 20;
const ACTIVE: readonly InstanceState[] = ['pending', 'running'];

/**
 * A local HTTP server that speaks the EC2 Query protocol (form-encoded POST `Action=…&Version=2016-11-15`, XML
 * answers) for the calls a Spot Fleet autoscaler makes. It keeps fleets and their instances, records every request
 * for assertions, and answers injected errors for the next calls. Instances go pending → running after `pendingMs`
 * and shutting-down → terminated after `shutdownMs` (as these were when the instance changed), as EC2's do, checked
 * at each request.
 */
export class Ec2Server {
  readonly requests: Ec2Request[] = [];
  readonly fleets = new Map<string, FakeFleet>();
  readonly instances = new Map<string, FakeInstance>();
  pendingMs = 0;
  shutdownMs = 0;
  /** Instances per page of DescribeSpotFleetInstances (EC2's MaxResults, up to 1000), to test a caller's paging. */
  pageSize = 1000;
  /**
   * Called when RunInstances launches an instance (not when its ClientToken returns one launched before), with the
   * request's parameters: a test starts the agent its user data would. `onTerminate` when one begins to shut down.
   */
  onLaunch: ((i: FakeInstance, params: Record<string, string>) => void) | null = null;
  onTerminate: ((i: FakeInstance) => void) | null = null;
  /** RunInstances' ClientToken → the instance it launched (EC2 answers the same one again for the same token). */
  private readonly tokens = new Map<string, string>();
  private faults: Ec2Fault[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.receive(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A fleet (`sfr-…`) with `targetCapacity` instances launched at once, running after `pendingMs`. */
  addFleet(opts: { targetCapacity?: number; type?: FakeFleet['type']; id?: string } = {}): FakeFleet {
    const fleet: FakeFleet = {
      id: opts.id ?? `sfr-${randomUUID()}`, type: opts.type ?? 'maintain', targetCapacity: opts.targetCapacity ?? 1,
      excessCapacityTerminationPolicy: 'default', state: 'active', createdAt: new Date(),
    };
    this.fleets.set(fleet.id, fleet);
    this.fulfil(fleet);
    return fleet;
  }

  /** Answers `fault.code` to the next `fault.times` (default 1) matching calls. */
  failNext(fault: Ec2Fault): void {
    this.faults.push({ times: 1, ...fault });
  }

  /** A spot interruption: EC2 reclaims the instance (a `maintain` fleet launches a replacement). */
  interrupt(instanceId: string): void {
    this.setState(this.instance(instanceId), 'shutting-down');
  }

  /** The fleet's instances, in launch order, in any of `states` (default pending and running). */
  fleetInstances(fleetId: string, states: readonly InstanceState[] = ACTIVE): FakeInstance[] {
    this.advance();
    return [...this.instances.values()].filter((i) => i.fleetId === fleetId && states.includes(i.state));
  }

  /** The requests of one action, in order. */
  calls(action: string): Ec2Request[] {
    return this.requests.filter((r) => r.action === action);
  }

  private receive(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const requestId = randomUUID();
      const record: Ec2Request = {
        at: Date.now(), action: params.Action ?? '', params, accessKeyId: accessKeyIdOf(req.headers.authorization),
        securityToken: header(req.headers['x-amz-security-token']), status: 200, errorCode: null,
      };
      this.requests.push(record);
      let body: string;
      try {
        if (req.method !== 'POST' || size > MAX_BODY) throw new Ec2Error('InvalidRequest', 'The request must be a POST of at most 1 MiB.');
        body = envelope(record.action, requestId, this.handle(record.action, params));
      } catch (e) {
        const err = e instanceof Ec2Error ? e : new Ec2Error('InternalError', 'An internal error has occurred', 500);
        record.status = err.status;
        record.errorCode = err.code;
        body = errorBody(err.code, err.message, requestId);
      }
      res.writeHead(record.status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId });
      res.end(body);
    });
  }

  private handle(action: string, p: Record<string, string>): string {
    const fault = this.takeFault(action);
    if (fault) throw new Ec2Error(fault.code, fault.message ?? FAULT_MESSAGE[fault.code] ?? fault.code, fault.status ?? FAULT_STATUS[fault.code] ?? 400);
    if (p.Version !== VERSION) throw new Ec2Error('InvalidParameterValue', `Version must be ${VERSION}, got ${String(p.Version)}`);
    this.advance();
    switch (action) {
      case 'DescribeSpotFleetRequests': return this.describeFleets(listParam(p, 'SpotFleetRequestId'));
      case 'DescribeSpotFleetInstances': return this.describeFleetInstances(this.fleet(required(p, 'SpotFleetRequestId')), p);
      case 'ModifySpotFleetRequest': return this.modifyFleet(p);
      case 'DescribeInstances': return this.describeInstances(listParam(p, 'InstanceId'), filtersOf(p));
      case 'TerminateInstances': return this.terminate(listParam(p, 'InstanceId'));
      case 'RunInstances': return this.runInstances(p);
      default: throw new Ec2Error('InvalidAction', `The action ${action} is not valid for this web service.`);
    }
  }

  private takeFault(action: string): Ec2Fault | undefined {
    const i = this.faults.findIndex((f) => !f.actions || f.actions.includes(action));
    const fault = this.faults[i];
    if (!fault) return undefined;
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) this.faults.splice(i, 1);
    return fault;
  }

  private describeFleets(ids: string[]): string {
    const fleets = ids.length === 0 ? [...this.fleets.values()] : ids.map((id) => this.fleet(id));
    const items = fleets.map((f) => fleetConfigXml(f, this.fleetInstances(f.id).length)).join('');
    return `<spotFleetRequestConfigSet>${items}</spotFleetRequestConfigSet>`;
  }

  /** A page of the fleet's active instances: `NextToken` is the offset of the next page. */
  private describeFleetInstances(fleet: FakeFleet, p: Record<string, string>): string {
    const size = Math.min(this.pageSize, Number(p.MaxResults ?? 1000));
    const from = Number(p.NextToken ?? 0);
    const active = this.fleetInstances(fleet.id);
    const items = active.slice(from, from + size).map(fleetInstanceXml).join('');
    const next = from + size < active.length ? `<nextToken>${from + size}</nextToken>` : '';
    return `<spotFleetRequestId>${fleet.id}</spotFleetRequestId><activeInstanceSet>${items}</activeInstanceSet>${next}`;
  }

  private modifyFleet(p: Record<string, string>): string {
    const fleet = this.fleet(required(p, 'SpotFleetRequestId'));
    const target = Number(required(p, 'TargetCapacity'));
    if (!Number.isInteger(target) || target < 0) throw new Ec2Error('InvalidParameterValue', `TargetCapacity must be a whole number >= 0, got ${p.TargetCapacity}`);
    const policy = p.ExcessCapacityTerminationPolicy ?? 'default';
    if (policy !== 'default' && policy !== 'noTermination') {
      throw new Ec2Error('InvalidParameterValue', `ExcessCapacityTerminationPolicy must be default or noTermination, got ${policy}`);
    }
    fleet.targetCapacity = target;
    fleet.excessCapacityTerminationPolicy = policy;
    const active = this.fleetInstances(fleet.id);
    // `default` terminates the excess (the newest first here); `noTermination` leaves every instance running.
    if (policy === 'default') for (const i of active.slice(target).reverse()) this.setState(i, 'shutting-down');
    this.fulfil(fleet);
    return '<return>true</return>';
  }

  /** By InstanceId.N (an unknown id fails the call, as EC2's does) or by filters (which match what exists). */
  private describeInstances(ids: string[], filters: Map<string, string[]>): string {
    let found = ids.length === 0 ? [...this.instances.values()] : ids.map((id) => this.instance(id));
    for (const [name, values] of filters) {
      // Tag filters (the per-task sweep's): `tag-key` has any of these keys, `tag:<key>` that key with one of these values.
      if (name === 'tag-key') {
        found = found.filter((i) => values.some((k) => i.tags?.[k] !== undefined));
        continue;
      }
      if (name.startsWith('tag:') && FILTERS[name] === undefined) {
        found = found.filter((i) => values.includes(i.tags?.[name.slice(4)] ?? '\u0000'));
        continue;
      }
      const field = FILTERS[name];
      if (!field) throw new Ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
      found = found.filter((i) => values.includes(field(i)));
    }
    return `<reservationSet>${found.map(reservationXml).join('')}</reservationSet>`;
  }

  /**
   * One instance (MinCount = MaxCount = 1, as the per-task launcher asks), with its tags, spot when
   * InstanceMarketOptions says so; a ClientToken seen before answers the instance it launched then, launching nothing.
   */
  private runInstances(p: Record<string, string>): string {
    const image = required(p, 'ImageId');
    const type = required(p, 'InstanceType');
    if (p.MinCount !== '1' || p.MaxCount !== '1') throw new Ec2Error('InvalidParameterValue', 'this fake launches one instance at a time (MinCount = MaxCount = 1)');
    const token = p.ClientToken;
    const known = token === undefined ? undefined : this.tokens.get(token);
    let i = known === undefined ? undefined : this.instances.get(known);
    if (!i) {
      i = this.launch(null);
      i.instanceType = type;
      i.imageId = image;
      i.spot = p['InstanceMarketOptions.MarketType'] === 'spot';
      i.tags = tagsOf(p);
      const n = this.instances.size;
      i.privateIpAddress = `10.0.${(n >> 8) & 255}.${n & 255}`;
      i.publicIpAddress = `203.0.113.${n & 255}`;
      if (token !== undefined) this.tokens.set(token, i.instanceId);
      this.onLaunch?.(i, p);
    }
    return `<reservationId>r-${i.instanceId.slice(2)}</reservationId><ownerId>123456789012</ownerId><groupSet/><instancesSet>${instanceXml(i)}</instancesSet>`;
  }

  private terminate(ids: string[]): string {
    if (ids.length === 0) throw new Ec2Error('MissingParameter', 'The request must contain the parameter InstanceId');
    const found = ids.map((id) => this.instance(id));
    const changes = found.map((i) => {
      const previous = i.state;
      if (ACTIVE.includes(i.state)) {
        this.setState(i, 'shutting-down');
        this.onTerminate?.(i);
      }
      return stateChangeXml(i, previous);
    });
    return `<instancesSet>${changes.join('')}</instancesSet>`;
  }

  /** Moves instances on by the clock, and lets each `maintain` fleet replace what it lost. */
  private advance(now = Date.now()): void {
    for (const i of this.instances.values()) {
      if (i.state === 'pending' && now >= i.nextAt) this.setState(i, 'running', now);
      else if (i.state === 'shutting-down' && now >= i.nextAt) this.setState(i, 'terminated', now);
    }
    for (const f of this.fleets.values()) if (f.type === 'maintain') this.fulfil(f);
  }

  private fulfil(fleet: FakeFleet): void {
    if (fleet.state !== 'active') return;
    const active = [...this.instances.values()].filter((i) => i.fleetId === fleet.id && ACTIVE.includes(i.state)).length;
    for (let n = active; n < fleet.targetCapacity; n++) this.launch(fleet.id);
  }

  private launch(fleetId: string | null): FakeInstance {
    const now = Date.now();
    const i: FakeInstance = {
      instanceId: `i-${randomBytes(9).toString('hex').slice(0, 17)}`, fleetId, instanceType: 'c5.large',
      state: 'pending', launchedAt: new Date(now), nextAt: now + this.pendingMs,
    };
    this.instances.set(i.instanceId, i);
    return i;
  }

  private setState(i: FakeInstance, state: InstanceState, now = Date.now()): void {
    i.state = state;
    i.nextAt = now + (state === 'shutting-down' ? this.shutdownMs : 0);
  }

  private fleet(id: string): FakeFleet {
    const f = this.fleets.get(id);
    if (!f) throw new Ec2Error('InvalidSpotFleetRequestId.NotFound', `The spot fleet request ID '${id}' does not exist`);
    return f;
  }

  private instance(id: string): FakeInstance {
    if (!/^i-[0-9a-f]{8,17}$/.test(id)) throw new Ec2Error('InvalidInstanceID.Malformed', `Invalid id: "${id}"`);
    const i = this.instances.get(id);
    if (!i) throw new Ec2Error('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    return i;
  }
}

/** The values of a Query list parameter, `Name.1`, `Name.2`, … in order. */
export function listParam(params: Record<string, string>, name: string): string[] {
  const out: string[] = [];
  for (let n = 1; params[`${name}.${n}`] !== undefined; n++) out.push(params[`${name}.${n}`]!);
  return out;
}

const FILTERS: Record<string, (i: FakeInstance) => string> = {
  'instance-id': (i) => i.instanceId,
  'instance-state-name': (i) => i.state,
  'tag:aws:ec2spot:fleet-request-id': (i) => i.fleetId ?? '',
};

/** RunInstances' `TagSpecification.N.Tag.M.{Key,Value}` of the instance's specifications. */
function tagsOf(params: Record<string, string>): Record<string, string> {
  const tags: Record<string, string> = {};
  for (let n = 1; params[`TagSpecification.${n}.ResourceType`] !== undefined; n++) {
    if (params[`TagSpecification.${n}.ResourceType`] !== 'instance') continue;
    for (let m = 1; params[`TagSpecification.${n}.Tag.${m}.Key`] !== undefined; m++) {
      tags[params[`TagSpecification.${n}.Tag.${m}.Key`]!] = params[`TagSpecification.${n}.Tag.${m}.Value`] ?? '';
    }
  }
  return tags;
}

/** `Filter.N.Name` and its `Filter.N.Value.M`. */
function filtersOf(params: Record<string, string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let n = 1; params[`Filter.${n}.Name`] !== undefined; n++) out.set(params[`Filter.${n}.Name`]!, listParam(params, `Filter.${n}.Value`));
  return out;
}

function required(params: Record<string, string>, name: string): string {
  const v = params[name];
  if (v === undefined || v === '') throw new Ec2Error('MissingParameter', `The request must contain the parameter ${name}`);
  return v;
}

function accessKeyIdOf(authorization: string | undefined): string | null {
  return /Credential=([^/,\s]+)\//.exec(authorization ?? '')?.[1] ?? null;
}

function header(v: string | string[] | undefined): string | null {
  return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
}
