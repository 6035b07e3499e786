import { RuleError, type Parser } from '@tangerine/runtime';

/**
 * What a task may do on its host: the container settings every run gets, and the unprivileged user a process run is
 * started as. Pure: the agent reads the files (/etc/passwd, /etc/group) and hands their text here.
 */

/** Linux capabilities by number (capability.h), as Docker names them (without `CAP_`). */
export const CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE',
  'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME',
  'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG',
  'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

/**
 * The capabilities a container keeps (all others dropped): what common images need to start as root and step down
 * to their own user (chown their files, switch uid/gid, signal their children) and to bind a port below 1024.
 * Left out of Docker's default set: MKNOD (device nodes), NET_RAW (raw sockets: forged packets and ARP/DNS spoofing
 * on the bridge; `ping` in recent images uses ICMP datagram sockets instead), SETFCAP and SETPCAP (granting file and
 * process capabilities), SYS_CHROOT, AUDIT_WRITE.
 */
export const DEFAULT_CAPABILITIES: readonly Capability[] = Object.freeze([
  'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'NET_BIND_SERVICE',
] as const);

/** AGENT_CAPABILITIES: capability names (`CAP_` optional, any case), comma-separated, or `none`. */
export function parseCapabilities(): Parser<readonly Capability[]> {
  return (text) => {
    if (text.trim().toLowerCase() === 'none') return Object.freeze([]);
    const caps: Capability[] = [];
    for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
      const name = item.toUpperCase().replace(/^CAP_/, '');
      if (!(CAPABILITIES as readonly string[]).includes(name)) {
        throw new RuleError(`each item must be a Linux capability such as CHOWN or NET_BIND_SERVICE, or the whole value "none" (got "${item}")`);
      }
      if (!caps.includes(name as Capability)) caps.push(name as Capability);
    }
    return Object.freeze(caps);
  };
}

/** The bit mask `/proc/<pid>/status` shows as CapEff for a process holding exactly these capabilities. */
export function capabilityMask(caps: readonly Capability[]): bigint {
  return caps.reduce((mask, cap) => mask | (1n << BigInt(CAPABILITIES.indexOf(cap))), 0n);
}

/** A user a process run is started as. */
export interface RunUser {
  name: string;
  uid: number;
  gid: number;
  /** Supplementary groups: the user's primary group and those /etc/group lists it in. */
  groups: number[];
  home: string;
}

/** AGENT_PROCESS_USER: a user name or a numeric uid. */
export const PROCESS_USER_RE = /^(?:[A-Za-z_][A-Za-z0-9_.-]{0,31}|\d{1,10})$/;

/**
 * Finds `wanted` (a name or a uid) in the text of /etc/passwd and /etc/group. Throws naming AGENT_PROCESS_USER when
 * it is not there or is root: a process run as root owns its host.
 */
export function resolveUser(wanted: string, passwd: string, group: string): RunUser {
  const byUid = /^\d+$/.test(wanted);
  let user: RunUser | null = null;
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid, , home] = line.split(':');
    if (name === undefined || uid === undefined || gid === undefined || !/^\d+$/.test(uid) || !/^\d+$/.test(gid)) continue;
    if (byUid ? uid === wanted : name === wanted) {
      user = { name, uid: Number(uid), gid: Number(gid), groups: [Number(gid)], home: home || '/' };
      break;
    }
  }
  if (!user && byUid) user = { name: wanted, uid: Number(wanted), gid: Number(wanted), groups: [Number(wanted)], home: '/' };
  if (!user) throw new Error(`AGENT_PROCESS_USER: no user "${wanted}" in /etc/passwd (name a user, or a numeric uid)`);
  if (user.uid === 0) throw new Error(`AGENT_PROCESS_USER: must name an unprivileged user, not root (got "${wanted}", uid 0)`);
  for (const line of group.split('\n')) {
    const [, , gid, members] = line.split(':');
    if (gid === undefined || !/^\d+$/.test(gid) || members === undefined) continue;
    const id = Number(gid);
    if (members.split(',').map((m) => m.trim()).includes(user.name) && !user.groups.includes(id)) user.groups.push(id);
  }
  if (user.groups.includes(0)) throw new Error(`AGENT_PROCESS_USER: "${wanted}" is in the root group (gid 0); name a user outside it`);
  return user;
}
