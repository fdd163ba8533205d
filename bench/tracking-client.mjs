// Load generator for bench/tracking.ts, run in a worker thread so it does not
// share the server's event loop: C concurrent keep-alive clients each POST
// pre-serialized log-batch bodies until the shared batch budget is spent.
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

const { port, bodies, concurrency, batches } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
let next = 0;
let failures = 0;
const latencies = [];

function post(body) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request(
      { host: '127.0.0.1', port, path: '/api/2.0/mlflow/runs/log-batch', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
          if (res.statusCode !== 200) failures++;
          resolve();
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function client() {
  for (;;) {
    const i = next++;
    if (i >= batches) return;
    await post(bodies[i % bodies.length]);
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: concurrency }, client));
const elapsedMs = performance.now() - started;
agent.destroy();
latencies.sort((a, b) => a - b);
parentPort.postMessage({ elapsedMs, failures, p50: latencies[Math.floor(latencies.length / 2)], p99: latencies[Math.floor(latencies.length * 0.99)] });
