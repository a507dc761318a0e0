/**
 * A local fake of the providers' APIs: records every request and answers as the real API would (shapes from the
 * providers' docs), or with a scripted failure. Passed to the runtime as its `fetch`: by the tests, and by
 * `switchyard test`, whose effects land here instead of on the network. Worker-safe (no Node APIs).
 */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  json?: unknown;
}

type Script = { match: RegExp; status: number; headers?: Record<string, string>; body?: unknown; times: number };

export class FakeProviders {
  requests: RecordedRequest[] = [];
  /** Multipart bodies by request index. */
  forms = new Map<number, FormData>();
  private scripts: Script[] = [];
  private handlers: { match: RegExp; handle: (r: RecordedRequest) => Response | Promise<Response> }[] = [];

  /** Answers requests whose URL matches with this handler (before the built-in provider answers). */
  on(match: RegExp, handle: (r: RecordedRequest) => Response | Promise<Response>) {
    this.handlers.unshift({ match, handle });
  }
  private ids = 0;
  private readonly deterministic: boolean;

  /** `deterministic`: provider ids are a plain counter (`em_1`), so results can be compared between runs. */
  constructor(options: { deterministic?: boolean } = {}) {
    this.deterministic = options.deterministic ?? false;
  }

  /** The next `times` requests whose URL matches answer with this status. */
  failNext(
    match: RegExp,
    status: number,
    options: { headers?: Record<string, string>; body?: unknown; times?: number } = {},
  ) {
    this.scripts.push({
      match,
      status,
      headers: options.headers ?? {},
      body: options.body ?? { message: `scripted ${status}` },
      times: options.times ?? 1,
    });
  }

  to(match: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => match.test(r.url));
  }

  fetch: typeof fetch = async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    const isForm = (request.headers.get('content-type') ?? '').startsWith('multipart/form-data');
    const body = isForm
      ? `[multipart ${(await request.clone().arrayBuffer()).byteLength} bytes]`
      : new TextDecoder().decode(await request.arrayBuffer());
    if (isForm) this.forms.set(this.requests.length, await request.formData());
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    const recorded: RecordedRequest = {
      method: request.method,
      url: request.url,
      headers: Object.fromEntries(request.headers),
      body,
      ...(json !== undefined ? { json } : {}),
    };
    this.requests.push(recorded);
    const script = this.scripts.find((s) => s.times > 0 && s.match.test(request.url));
    if (script) {
      script.times--;
      return Response.json(script.body, { status: script.status, headers: script.headers });
    }
    const handler = this.handlers.find((h) => h.match.test(request.url));
    if (handler) return handler.handle(recorded);
    return this.answer(recorded);
  };

  /**
   * Emails the fake Resend actually sent: like the real API, a request repeating an Idempotency-Key it has seen
   * is answered with the first answer and sends nothing.
   */
  emails: { to: string[]; subject: string; key: string }[] = [];
  private idempotent = new Map<string, unknown>();

  private answer(r: RecordedRequest): Response {
    const url = new URL(r.url);
    const id = () => (this.deterministic ? `${++this.ids}` : `${++this.ids}_${crypto.randomUUID().slice(0, 8)}`);
    if (url.pathname === '/emails/batch' || url.pathname === '/emails') {
      const key =
        r.headers['idempotency-key'] ?? (this.deterministic ? `request-${this.requests.length}` : crypto.randomUUID());
      if (!this.idempotent.has(key)) {
        const list = (url.pathname === '/emails' ? [r.json] : r.json) as { to: string[]; subject: string }[];
        const ids = list.map((e) => (this.emails.push({ to: e.to, subject: e.subject, key }), `em_${id()}`));
        this.idempotent.set(key, url.pathname === '/emails' ? { id: ids[0] } : { data: ids.map((i) => ({ id: i })) });
      }
      return Response.json(this.idempotent.get(key));
    }
    if (url.pathname === '/v3/mail/send')
      return new Response(null, { status: 202, headers: { 'x-message-id': `sg_${id()}` } });
    if (/\/2010-04-01\/Accounts\/[^/]+\/Messages\.json$/.test(url.pathname)) {
      const form = new URLSearchParams(r.body);
      return Response.json(
        { sid: `SM${id()}`, status: 'queued', to: form.get('To'), body: form.get('Body') },
        { status: 201 },
      );
    }
    // Slack's Web API answers 200 either way: ok true with the message's ts, or ok false with an error code.
    if (url.hostname === 'slack.com' && url.pathname.startsWith('/api/')) {
      if (!/^Bearer xox[bp]-/.test(r.headers.authorization ?? ''))
        return Response.json({ ok: false, error: 'not_authed' });
      const message = r.json as { channel?: string; text?: string } | undefined;
      if (!message?.channel) return Response.json({ ok: false, error: 'channel_not_found' });
      const ts = `1767225600.${String(id()).padStart(6, '0')}`;
      return Response.json({
        ok: true,
        channel: message.channel,
        ts,
        message: { type: 'message', text: message.text, ts },
      });
    }
    if (url.pathname === '/import' || url.pathname === '/track')
      return Response.json({ code: 200, num_records_imported: (r.json as unknown[]).length, status: 1 });
    if (url.pathname === '/batch/') return Response.json({ status: 1 });
    return Response.json(
      { echo: r.json ?? null, path: url.pathname, query: url.search },
      { headers: { 'cache-control': 'max-age=300' } },
    );
  }
}
