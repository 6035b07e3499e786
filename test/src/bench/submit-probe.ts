// A probe, not part of the suite: `node test/dist/bench/submit-probe.js N` runs only the submission half of the
// HTTP bench (N specs each way, 16 clients) and prints both rates. TANGERINE_NODE_ARGS profiles the services.
import { runSubmissionsOnly } from './http-bench.js';

const n = Number(process.argv[2] ?? 2000);
const r = await runSubmissionsOnly({ submissions: n, clients: 16 });
console.log(JSON.stringify(r));
