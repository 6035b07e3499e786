// The XML bodies of the local EC2 server, in the shapes moto's EC2 responses use (moto/ec2/responses/spot_fleets.py,
// instances.py) and the element names @aws-sdk/client-ec2's ec2Query deserializer reads (lowerCamel, lists as `item`).

/** An instance's state, with the numeric code EC2 gives each (the low byte of `instanceState/code`). */
export const STATE_CODES = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48 } as const;
export type InstanceState = keyof typeof STATE_CODES;

export interface FakeInstance {
  instanceId: string;
  fleetId: string | null;
  instanceType: string;
  state: InstanceState;
  launchedAt: Date;
  /** When a `pending` one runs, a `shutting-down` one is terminated (the server's delay as it was at the change). */
  nextAt: number;
  /** RunInstances' (the per-task instances'): its tags, image, addresses and whether it is spot. */
  tags?: Record<string, string>;
  imageId?: string;
  privateIpAddress?: string;
  publicIpAddress?: string;
  spot?: boolean;
}

export interface FakeFleet {
  id: string;
  /** `maintain` replaces an instance that stops (a spot interruption, a TerminateInstances); `request` does not. */
  type: 'maintain' | 'request';
  targetCapacity: number;
  excessCapacityTerminationPolicy: 'default' | 'noTermination';
  state: 'active' | 'modifying' | 'cancelled';
  createdAt: Date;
}

const XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

export function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

export function envelope(action: string, requestId: string, inner: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${XMLNS}"><requestId>${requestId}</requestId>${inner}</${action}Response>`;
}

/** EC2's error body: `Response/Errors/Error/{Code,Message}` and `RequestID` (sic: EC2 spells it so here). */
export function errorBody(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code>`
    + `<Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
}

const stateXml = (tag: string, s: InstanceState): string => `<${tag}><code>${STATE_CODES[s]}</code><name>${s}</name></${tag}>`;

export function fleetConfigXml(f: FakeFleet, fulfilled: number): string {
  const activity = f.state !== 'active' ? 'pending_fulfillment' : fulfilled >= f.targetCapacity ? 'fulfilled' : 'pending_fulfillment';
  return `<item><spotFleetRequestId>${f.id}</spotFleetRequestId><spotFleetRequestState>${f.state}</spotFleetRequestState>`
    + `<activityStatus>${activity}</activityStatus><createTime>${f.createdAt.toISOString()}</createTime>`
    + '<spotFleetRequestConfig><allocationStrategy>lowestPrice</allocationStrategy>'
    + `<excessCapacityTerminationPolicy>${f.excessCapacityTerminationPolicy}</excessCapacityTerminationPolicy>`
    + `<fulfilledCapacity>${fulfilled}</fulfilledCapacity><iamFleetRole>arn:aws:iam::123456789012:role/aws-ec2-spot-fleet-tagging-role</iamFleetRole>`
    + `<targetCapacity>${f.targetCapacity}</targetCapacity><type>${f.type}</type></spotFleetRequestConfig></item>`;
}

export function fleetInstanceXml(i: FakeInstance): string {
  return `<item><instanceId>${i.instanceId}</instanceId><instanceType>${i.instanceType}</instanceType>`
    + `<spotInstanceRequestId>sir-${i.instanceId.slice(2, 10)}</spotInstanceRequestId><instanceHealth>healthy</instanceHealth></item>`;
}

export function reservationXml(i: FakeInstance): string {
  return `<item><reservationId>r-${i.instanceId.slice(2)}</reservationId><ownerId>123456789012</ownerId><instancesSet>${instanceXml(i)}</instancesSet></item>`;
}

/** One instance's `item`, as DescribeInstances and RunInstances give it. */
export function instanceXml(i: FakeInstance): string {
  const all = { ...(i.fleetId === null ? {} : { 'aws:ec2spot:fleet-request-id': i.fleetId }), ...i.tags };
  const items = Object.entries(all).map(([k, v]) => `<item><key>${escapeXml(k)}</key><value>${escapeXml(v)}</value></item>`).join('');
  const tags = items === '' ? '' : `<tagSet>${items}</tagSet>`;
  const addresses = (i.privateIpAddress ? `<privateIpAddress>${i.privateIpAddress}</privateIpAddress><privateDnsName>ip-${i.privateIpAddress.replace(/\./g, '-')}.ec2.internal</privateDnsName>` : '')
    + (i.publicIpAddress && i.state === 'running' ? `<ipAddress>${i.publicIpAddress}</ipAddress><dnsName>ec2-${i.publicIpAddress.replace(/\./g, '-')}.compute-1.amazonaws.com</dnsName>` : '');
  return '<item>'
    + `<instanceId>${i.instanceId}</instanceId><imageId>${i.imageId ?? 'ami-0abcdef1234567890'}</imageId>${stateXml('instanceState', i.state)}${addresses}`
    + `<instanceType>${i.instanceType}</instanceType><launchTime>${i.launchedAt.toISOString()}</launchTime>`
    + `${i.spot === false ? '' : '<instanceLifecycle>spot</instanceLifecycle>'}${tags}</item>`;
}

export function stateChangeXml(i: FakeInstance, previous: InstanceState): string {
  return `<item><instanceId>${i.instanceId}</instanceId>${stateXml('currentState', i.state)}${stateXml('previousState', previous)}</item>`;
}
