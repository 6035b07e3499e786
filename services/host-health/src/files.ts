import { DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import type { ObjectInfo, ObjectStore } from '@tangerine/bus';
import { FILES_BUCKET, FILES_STREAM, SHA256_RE } from '@tangerine/contracts';
import { unreferencedFiles, type Ledger } from '@tangerine/ledger';

/** Objects read (and looked up in the ledger in one statement) per page. */
export const FILES_PAGE = 1000;

export interface FilesPruned {
  /** Objects looked at (deleted markers not counted). */
  seen: number;
  deleted: number;
  pages: number;
}

/**
 * One pass of the files' retention: every object stored before `cutoff` that no kept task names (a task not
 * finished, or finished at or after `cutoff`: FILES_RETENTION) is deleted, its chunks purged. The objects are read
 * page by page through an ordered consumer of the bucket's metadata (the last entry of each object), never all at
 * once, and each page is one ledger statement. Idempotent: a deleted object is a deleted marker, passed over by the
 * next pass, and a second replica deleting the same object finds it deleted. An object stored after the cutoff is
 * kept whatever names it: it may be a file whose task is still on its way to intake (the uploader stores first,
 * then submits).
 */
export async function pruneFiles(
  js: JetStreamClient, store: ObjectStore, ledger: Ledger, cutoff: Date, pageSize = FILES_PAGE,
): Promise<FilesPruned> {
  const result: FilesPruned = { seen: 0, deleted: 0, pages: 0 };
  const consumer = await js.consumers.get(FILES_STREAM, {
    filter_subjects: `$O.${FILES_BUCKET}.M.>`, deliver_policy: DeliverPolicy.LastPerSubject,
  });
  try {
    for (;;) {
      const page: ObjectInfo[] = [];
      let last = false;
      let fetched = 0;
      const messages = await consumer.fetch({ max_messages: pageSize, expires: 2000 });
      for await (const m of messages) {
        fetched += 1;
        const info = m.json<ObjectInfo>();
        if (!info.deleted) page.push(info);
        if (m.info.pending === 0) {
          last = true;
          break;
        }
      }
      result.pages += 1;
      result.seen += page.length;
      const old = page.filter((o) => SHA256_RE.test(o.name) && Date.parse(o.mtime) < cutoff.getTime()).map((o) => o.name);
      for (const name of await unreferencedFiles(ledger, old, cutoff)) {
        await store.delete(name);
        result.deleted += 1;
      }
      // The last entry, or nothing more within the fetch's wait: the walk is done.
      if (last || fetched === 0) return result;
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}
