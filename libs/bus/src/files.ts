import type { JetStreamClient } from '@nats-io/jetstream';
import { Objm, type ObjectInfo, type ObjectStore } from '@nats-io/obj';
import { FILES_BUCKET } from '@tangerine/contracts';

export type { ObjectInfo, ObjectStore };

/**
 * The files' object store (FILES_BUCKET), opened lazily and again after a failure: the services provision it with
 * the streams, and a process that starts first (an agent) finds it on a later try.
 */
export function fileStore(js: JetStreamClient): () => Promise<ObjectStore> {
  let store: Promise<ObjectStore> | null = null;
  return () => {
    store ??= new Objm(js).open(FILES_BUCKET).catch((err: unknown) => {
      store = null;
      throw err;
    });
    return store;
  };
}
