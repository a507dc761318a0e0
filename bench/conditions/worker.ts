/**
 * The conditions bench's Worker (bench/conditions-languages.ts bundles it with the candidate libraries and runs it in
 * Miniflare's workerd). `GET /?candidate=<i>&flow=<name>&n=<count>&op=eval|compile&size=4k|1m` compiles the flow's
 * condition (once per isolate), checks it answers true on the matching event and false on the other, then runs
 * `op` n times. The caller times requests from outside: workerd's clock only moves on I/O.
 * candidate -1 is the hand-written JS check (the baseline).
 */
import { CANDIDATES, type Check, type Lib } from './candidates.ts';
import { FLOWS, LARGE_FLOW, type Flow } from './cases.ts';

export function conditionsWorker(libs: Record<string, Lib>): ExportedHandler {
  const compiled = new Map<string, Check>();
  const compile = (i: number, flow: Flow): Check => {
    if (i < 0) return flow.js;
    const c = CANDIDATES[i]!;
    return c.compile(c.module ? libs[c.module]! : {}, c.flows[flow.name]!);
  };
  return {
    async fetch(request) {
      const q = new URL(request.url).searchParams;
      const i = Number(q.get('candidate'));
      const n = Number(q.get('n') ?? 0);
      const base = FLOWS.find((f) => f.name === q.get('flow'))!;
      const flow = q.get('size') === '1m' ? { ...LARGE_FLOW, name: base.name } : base;
      const key = `${i}/${flow.name}/${q.get('size')}`;
      try {
        let check = compiled.get(key);
        if (!check) {
          check = compile(i, flow);
          const [yes, no] = [await check(flow.match), await check(flow.miss)];
          if (yes !== true || no !== false)
            return Response.json({ error: `answered ${String(yes)} / ${String(no)}, not true / false` });
          compiled.set(key, check);
        }
        let matched = 0;
        if (q.get('op') === 'compile') for (let k = 0; k < n; k++) matched += compile(i, flow) ? 1 : 0;
        else if (i >= 0 && CANDIDATES[i]!.async)
          for (let k = 0; k < n; k++) matched += (await check(flow.match)) ? 1 : 0;
        else for (let k = 0; k < n; k++) matched += check(flow.match) ? 1 : 0;
        return Response.json({ matched });
      } catch (e) {
        return Response.json({ error: `${(e as Error).name}: ${(e as Error).message}` });
      }
    },
  };
}
