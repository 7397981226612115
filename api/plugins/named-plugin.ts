// Plugin metadata Fastify reads itself (what the fastify-plugin package sets,
// without taking it as a dependency): a name other plugins can depend on, the
// names this plugin needs registered before it (Fastify refuses to boot
// otherwise, naming both), and whether its decorations reach the parent.
import type { FastifyPluginAsync } from 'fastify';

export interface PluginMeta {
  /** The name `dependencies` of other plugins refer to. */
  name: string;
  /** Plugins that must be registered before this one. */
  dependencies?: string[];
}

/**
 * A plugin whose decorations (a pool, a repository) are seen by its parent and
 * siblings: what `fastify-plugin` does with `skip-override`.
 */
export function sharedPlugin<O extends Record<string, unknown> = Record<never, never>>(
  meta: PluginMeta,
  fn: FastifyPluginAsync<O>,
): FastifyPluginAsync<O> {
  return Object.assign(fn, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: meta.name,
    [Symbol.for('plugin-meta')]: { name: meta.name, dependencies: meta.dependencies ?? [] },
  });
}

/** An encapsulated plugin (a resource's routes) that names the shared plugins it needs. */
export function routesPlugin<O extends Record<string, unknown> = Record<never, never>>(
  meta: PluginMeta,
  fn: FastifyPluginAsync<O>,
): FastifyPluginAsync<O> {
  return Object.assign(fn, {
    [Symbol.for('fastify.display-name')]: meta.name,
    [Symbol.for('plugin-meta')]: { name: meta.name, dependencies: meta.dependencies ?? [] },
  });
}
