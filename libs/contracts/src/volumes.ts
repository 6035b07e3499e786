import { ValidationError } from './errors.js';
import { quote } from './validate.js';

/**
 * Where a task may bind-mount from the host. A submitter who may mount `/` or the Docker socket owns the host, so a
 * bind mount is allowed only under a prefix the operator lists (intake's VOLUMES_ALLOWED, each agent's AGENT_VOLUMES),
 * compared after normalizing, and never `/` itself, the Docker socket or a directory that holds it, nor anything in
 * `/proc`, `/sys` or `/dev`.
 */

/** The Docker engine's usual sockets; an agent adds the one DOCKER_HOST names. */
export const DOCKER_SOCKETS: readonly string[] = Object.freeze(['/var/run/docker.sock', '/run/docker.sock']);

/**
 * The kernel's own file systems, never mounted: `/proc/1/root` is the host's root, `/sys` and `/dev` its devices and
 * kernel settings. A mount at or below one is refused whatever is allowed.
 */
export const KERNEL_PATHS: readonly string[] = Object.freeze(['/proc', '/sys', '/dev']);

/** `//tmp/a/../b/` → `/tmp/b`: `..`, `.`, repeated and trailing slashes resolved, without looking at the disk. */
export function normalizeHostPath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** `path` is `prefix` or below it (both normalized). `/` holds every path. */
export function isUnder(path: string, prefix: string): boolean {
  return prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);
}

/**
 * Why a host path may not be mounted, or null when it may: `allowed` are the normalized prefixes, `sockets` the
 * Docker sockets (a mount of one, or of a directory above one, hands over the engine, whatever is allowed).
 */
export function volumeRefusal(hostPath: string, allowed: readonly string[], sockets: readonly string[] = DOCKER_SOCKETS): string | null {
  const path = normalizeHostPath(hostPath);
  if (path === '/') return 'the host\'s root (/) is never mounted';
  const kernel = KERNEL_PATHS.find((k) => isUnder(path, k));
  if (kernel !== undefined) return `${quote(path)} is in ${kernel}, which is never mounted (it reaches the host's root and devices)`;
  const socket = sockets.map(normalizeHostPath).find((s) => isUnder(s, path));
  if (socket !== undefined) return `${quote(path)} is or holds the Docker socket ${socket}, which is never mounted`;
  if (allowed.some((prefix) => isUnder(path, prefix))) return null;
  const where = allowed.length === 0 ? 'no host path is allowed here' : `allowed: ${allowed.join(', ')}`;
  return `${quote(path)} is not under an allowed path (${where})`;
}

/** Throws naming `volumes[i]` and the rule for the first bind mount the cluster does not allow (intake's check). */
export function checkVolumesAllowed(volumes: readonly string[], allowed: readonly string[]): void {
  volumes.forEach((volume, i) => {
    const host = volume.slice(0, volume.indexOf(':'));
    const refusal = volumeRefusal(host, allowed);
    if (refusal !== null) {
      throw new ValidationError('invalid_spec', `volumes[${i}]: ${refusal} (VOLUMES_ALLOWED)`, { field: `volumes[${i}]` });
    }
  });
}
