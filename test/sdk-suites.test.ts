/**
 * `fw.suites` and `fw.data.add(name, file, { suite, quarantine })` in both
 * SDK modes — embedded against a temp home, remote against a real server
 * (where the add uploads to /datasets/:name/versions/validated) — with the
 * same expectations for each. A suite given as a file or an object is
 * registered first; a string that is no file names a registered suite.
 * Expected counts are hand counts on test/fixtures/quality/orders.csv (see
 * the comments in the suite files).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Flywheel } from '../src/sdk/flywheel.js';
import { FIXTURES } from './fixtures/quality/support.js';
import { startTestServer, type TestServer } from './support/listening-server.js';

const ORDERS = path.join(FIXTURES, 'orders.csv');
const SUITES = path.join(FIXTURES, 'suites');
let server: TestServer;
let home: string;

beforeAll(async () => {
  process.env.FLYWHEEL_ENGINE_THREADS = '1';
  server = await startTestServer();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-sdk-suites-'));
});
afterAll(async () => {
  await server?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

const modes: [string, () => Promise<Flywheel>, () => string][] = [
  ['embedded', () => Flywheel.open({ home }, {}), () => home],
  ['remote', () => Flywheel.connect(server.url), () => server.home],
];

for (const [mode, open, homeOf] of modes) {
  describe(`fw.suites and fw.data.add with a suite (${mode})`, () => {
    let fw: Flywheel;
    beforeAll(async () => {
      fw = await open();
    });
    afterAll(async () => fw?.close());

    const blobs = () => {
      const dir = path.join(homeOf(), 'artifacts', 'datasets', 'blobs');
      return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
    };

    it('puts, gets, lists and deletes suites', async () => {
      const put = await fw.suites.put(path.join(SUITES, 'orders.yaml'));
      expect(put).toMatchObject({ name: 'orders_basic', dataset: 'orders', change: 'created' });
      expect(await fw.suites.put(path.join(SUITES, 'orders.yaml'))).toMatchObject({ change: 'unchanged', hash: put.hash });
      const scratch = await fw.suites.put({ name: 'scratch', dataset: 'orders', checks: [{ type: 'row_count', min: 1 }] });
      expect(scratch.definition.checks).toEqual([{ type: 'row_count', min: 1, severity: 'error', name: 'row_count' }]);
      expect((await fw.suites.list()).map((s) => s.name)).toEqual(['orders_basic', 'scratch']);
      expect(await fw.suites.list({ dataset: 'customers' })).toEqual([]);
      const { change: _change, ...stored } = put;
      expect(await fw.suites.get('orders_basic')).toEqual(stored);
      await fw.suites.delete('scratch');
      await expect(fw.suites.get('scratch')).rejects.toMatchObject({ code: 'FW_NOT_FOUND', message: 'No suite named "scratch" is registered' });
      await expect(fw.suites.delete('scratch')).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
      await expect(fw.suites.get('no/such')).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT', message: expect.stringMatching(/^Invalid suite name "no\/such"/) });
      await expect(fw.suites.put({ name: 'bad', dataset: 'orders', checks: [{ type: 'between', column: 'amount' } as never] })).rejects.toMatchObject({
        code: 'FW_INVALID_ARGUMENT',
        message: 'suite: checks[0] (between): give "min", "max" or both',
      });
    });

    it('refuses data failing an error check of a registered suite: FW_SUITE_FAILED, no version, no blob', async () => {
      const err = await fw.data.add('orders', ORDERS, { suite: 'orders_basic' }).catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'FW_SUITE_FAILED',
        message: 'Not added: orders failed suite orders_basic: regex(email) (1 unexpected)',
        details: { dataset: 'orders', suite: 'orders_basic', failedChecks: ['regex(email)'], validation: { success: false, versionId: null, statistics: { checks: 5, errors: 1, warnings: 1 } } },
      });
      expect(await fw.data.ls({ includeDeleted: true })).toEqual([]);
      expect(blobs()).toEqual([]);
      await expect(fw.data.add('orders', ORDERS, { suite: 'nope' })).rejects.toMatchObject({ code: 'FW_NOT_FOUND', message: 'No suite named "nope" is registered' });
      await expect(fw.data.add('orders', ORDERS, { quarantine: true })).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT', message: 'quarantine needs a suite' });
    });

    it('adds the version when a suite file passes, registering the suite first', async () => {
      const r = await fw.data.add('orders', ORDERS, { suite: path.join(SUITES, 'orders-warn-only.yaml'), message: 'march' });
      expect(r).toMatchObject({ created: true, version: { dataset: 'orders', version: 1, rowCount: 10, message: 'march' } });
      // between(amount) fails as a warning: ids 3 and 9 of 9 non-null amounts.
      expect(r.validation).toMatchObject({ suite: 'orders_warn_only', versionId: r.version.id, success: true, statistics: { checks: 2, passed: 1, failed: 1, errors: 0, warnings: 1 } });
      expect((await fw.suites.get('orders_warn_only')).dataset).toBe('orders');
      // The registered name validates too.
      expect(await fw.data.validate('orders@1', 'orders_warn_only', { save: false })).toMatchObject({ suite: 'orders_warn_only', success: true });
      // No version, no result: the content is unchanged.
      expect(await fw.data.add('orders', ORDERS, { suite: 'orders_warn_only', skipUnchanged: true })).toMatchObject({ created: false, validation: null });
    });

    it('with quarantine sets the failing rows aside and commits the rest', async () => {
      const r = await fw.data.add('orders', ORDERS, { suite: path.join(SUITES, 'orders-quarantine.yaml'), quarantine: true });
      // Set aside: ids 3, 4, 9, 10; kept: ids 1, 2, 5, 6, 7, 8.
      expect(r).toMatchObject({
        created: true,
        version: { dataset: 'orders', version: 2, rowCount: 6 },
        setAside: { rows: 4, reason: 'failing suite orders_quarantine', version: { dataset: 'orders__quarantine', version: 1, rowCount: 4 } },
        validation: { success: true, statistics: { checks: 7, passed: 6, failed: 1, errors: 0, warnings: 1 } },
      });
      expect((await fw.data.read('orders__quarantine@1')).map((row) => row.id)).toEqual([3, 4, 9, 10]);
      expect((await fw.data.read('orders@2')).map((row) => row.id)).toEqual([1, 2, 5, 6, 7, 8]);
    });
  });
}
