/**
 * The methods a route answers when it does not list them: an endpoint's, or an upstream proxy's. A default that
 * depends on another field, so compile picks one; the Route spec's description is written from the same lists.
 * Its own file: compile reads it, and the Worker bundles it without the section specs.
 */
export const ROUTE_METHODS: Readonly<Record<'endpoint' | 'upstream', readonly string[]>> = {
  endpoint: ['GET', 'POST', 'OPTIONS'],
  upstream: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
};
