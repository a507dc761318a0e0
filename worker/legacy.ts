/**
 * TEMPORARY (deleted before this work lands): wraps an adapter still written in the old shape as a component, so
 * adapters can move to defineComponent one at a time while everything keeps running.
 */
import { readSecrets } from '../runtime/component/context.ts';
import { defineComponent, type Component, type Kind } from '../runtime/component/define.ts';
import { field, type Field } from '../runtime/component/spec.ts';

export function legacy(kind: Kind, adapter: any): Component<any, any> {
  const required: readonly string[] = adapter.options.required ?? [];
  const spec = Object.fromEntries(
    Object.entries(adapter.options.properties as Record<string, Record<string, unknown>>).map(([k, schema]) => {
      const f: Field<unknown, any> = field.schema(schema);
      return [k, required.includes(k) ? f : f.optional()];
    }),
  );
  const hooks: Record<string, unknown> = {};
  for (const h of ['signedHeaders', 'sign', 'signBody', 'keyPair', 'auth', 'queue', 'reasons']) if (adapter[h] !== undefined) hooks[h] = adapter[h];
  if (kind === 'action' && 'idempotency_header' in adapter.options.properties) hooks.idempotencyOption = 'idempotency_header';

  return defineComponent<any, any>({
    kind,
    name: adapter.type ?? adapter.key,
    title: adapter.title,
    description: adapter.description,
    spec,
    example: adapter.example,
    ...hooks,
    create(options: any, ctx: any) {
      if (kind === 'step') return adapter.compile(options, ctx);
      const built = adapter.create(options, ctx);
      if (kind !== 'auth') return built;
      const { hs256Secret, authorizedParties, ...rest } = built;
      return {
        ...rest,
        ...(hs256Secret ? { algorithms: ['HS256'], key: (env: any) => new TextEncoder().encode(readSecrets(env, hs256Secret)[0]) } : {}),
        ...(authorizedParties?.length ? { check: (claims: any) => (typeof claims.azp === 'string' && !authorizedParties.includes(claims.azp) ? 'azp_not_allowed' : undefined) } : {}),
      };
    },
  });
}
