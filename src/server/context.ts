/**
 * What every slice's routes receive: the opened stores and the services built
 * on them. Created once per process by `openContext`, closed on shutdown.
 */
import type { FlywheelConfig } from '../core/config.js';
import { openStore, type Store } from '../store/index.js';
import { openArtifactStore, type ArtifactStore } from '../artifacts/index.js';
import { TrackingService } from '../tracking/service.js';
import { Engine } from '../engine/index.js';
import { DataService } from '../data/service.js';
import { RegistryService } from '../registry/service.js';
import type { DeploymentService } from '../serving/service.js';
import { deploymentService } from '../serving/server.js';

export interface AppContext {
  readonly config: FlywheelConfig;
  readonly store: Store;
  readonly artifacts: ArtifactStore;
  readonly tracking: TrackingService;
  readonly engine: Engine;
  readonly data: DataService;
  /** The model registry: registered models, versions, aliases, model URIs. */
  readonly registry: RegistryService;
  /** Deployments, their revisions, the prediction log and feedback. */
  readonly deployments: DeploymentService;
}

export async function openContext(config: FlywheelConfig, actor = 'server'): Promise<AppContext & { close(): Promise<void> }> {
  const store = await openStore(config.db);
  const artifacts = openArtifactStore(config.artifacts);
  const engine = await Engine.open();
  const tracking = new TrackingService(store, { actor, artifacts });
  const registry = new RegistryService({ store, tracking, actor });
  return {
    config,
    store,
    artifacts,
    tracking,
    engine,
    data: new DataService({ store, artifacts, engine, tracking, actor }),
    registry,
    deployments: deploymentService({ store, registry, actor }),
    close: async () => {
      engine.close();
      await store.close();
    },
  };
}
