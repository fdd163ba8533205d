/**
 * Monitors over HTTP under /api/v1: create, list, get (with alert states),
 * delete, and run one window now (or at a given `now`, for backfills and
 * tests). Validation is the service's, so HTTP and in-process callers get
 * the same FW_INVALID_ARGUMENT messages.
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../server/context.js';
import { NoContent, withErrors } from '../../tracking/v1-schemas.js';
import { modelCacheDir } from './compute.js';
import { MonitorService } from './service.js';

const tags = ['monitors'];
const Anything = Type.Unknown();
const NameParams = Type.Object({ name: Type.String() });
const RunBody = Type.Object({ now: Type.Optional(Type.Integer({ description: 'End of the window, epoch ms (default: now).' })) });

/** The service a context's routes and commands use. */
export function monitorService(ctx: AppContext): MonitorService {
  return new MonitorService({ ...ctx, store: ctx.store, modelCacheDir: modelCacheDir(ctx.config.home) });
}

export const monitorRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const monitors = monitorService(ctx);

  app.get('/monitors', { schema: { tags, operationId: 'listMonitors', summary: 'List monitors', response: withErrors({ 200: Anything }) } }, async () => ({ items: await monitors.list() }));

  app.post(
    '/monitors',
    { schema: { tags, operationId: 'createMonitor', summary: 'Create a monitor on a deployment or a dataset', body: Anything, response: withErrors({ 201: Anything }) } },
    async (req, reply) => reply.code(201).send(await monitors.create(req.body)),
  );

  app.get('/monitors/:name', { schema: { tags, operationId: 'getMonitor', summary: 'A monitor with the state of its alert rules', params: NameParams, response: withErrors({ 200: Anything }) } }, async (req) => ({
    ...(await monitors.get(req.params.name)),
    alertStates: await monitors.alertStates(req.params.name),
  }));

  app.delete('/monitors/:name', { schema: { tags, operationId: 'deleteMonitor', summary: 'Delete a monitor (its runs stay)', params: NameParams, response: withErrors({ 204: NoContent }) } }, async (req, reply) => {
    await monitors.delete(req.params.name);
    return reply.code(204).send(null);
  });

  app.post(
    '/monitors/:name/run',
    { schema: { tags, operationId: 'runMonitor', summary: 'Execute the monitor over the window ending now', params: NameParams, body: Type.Optional(RunBody), response: withErrors({ 200: Anything }) } },
    async (req) => monitors.run(req.params.name, req.body?.now !== undefined ? { now: req.body.now } : {}),
  );
};
