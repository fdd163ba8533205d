/**
 * The serving benchmark's baseline (bench/serving.ts): the same ONNX model
 * behind a bare `node:http` route — parse the V2 JSON body, one Float32Array
 * per input tensor, `session.run`, a V2 response with label and
 * probabilities. No validation beyond what the parse needs, no logging, no
 * metrics, no batching: the floor Flywheel's serving is measured against.
 *
 * Usage: node bench/serving-baseline.mjs MODEL.onnx — prints
 * `baseline serving on http://127.0.0.1:PORT` once listening; SIGTERM stops it.
 */
import http from 'node:http';
import * as ort from 'onnxruntime-node';

// The same session options as Flywheel's serving (one intra-op thread), so the comparison is of everything around session.run.
const session = await ort.InferenceSession.create(process.argv[2], { intraOpNumThreads: 1, interOpNumThreads: 1 });
const inputNames = new Set(session.inputNames);

function infer(body) {
  const request = JSON.parse(body);
  const feeds = {};
  let n = 0;
  for (const t of request.inputs) {
    if (!inputNames.has(t.name)) throw new Error(`unknown input ${t.name}`);
    n = t.shape[0];
    feeds[t.name] = new ort.Tensor('float32', Float32Array.from(t.data), [n, 1]);
  }
  return session.run(feeds).then((out) => ({
    model_name: 'forest',
    model_version: '1',
    outputs: [
      { name: 'label', datatype: 'INT64', shape: [n], data: Array.from(out.label.data, Number) },
      { name: 'probabilities', datatype: 'FP64', shape: [n, 2], data: Array.from(out.probabilities.data) },
    ],
  }));
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let pending;
    try {
      pending = infer(Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (response) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(response));
      },
      (err) => {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: String(err?.message ?? err) }));
      },
    );
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`baseline serving on http://127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => (server.closeAllConnections(), server.close(() => session.release().then(() => process.exit(0)))));
