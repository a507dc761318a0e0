/**
 * `validate` warns about event ids that can collide (issue 24): an id with a fixed fallback that every incomplete
 * delivery would share, a constant id, and an arrival-time id without a dedup window. The catalog's presets pass.
 */
import { describe, expect, it } from 'vitest';
import { validate } from '../support/in-process.ts';
import { loadCatalog } from '../../cli/lib/catalog.ts';
import { eventIdWarnings } from '../../cli/lib/id-warnings.ts';
import { defaultManifestText, projectWith, replaceOnce } from '../support/project.ts';

const lineOf = (text: string, snippet: string) => text.slice(0, text.indexOf(snippet)).split('\n').length;
const warnings = (stdout: string) => stdout.split('\n').filter((l) => l.includes(': warning'));

/** The default manifest with the twilio integration's event id replaced. */
const withTwilioId = (id: string) =>
  replaceOnce(defaultManifestText(), '    provider: twilio\n', `    provider: twilio\n    event:\n      id: ${id}\n`);

describe('validate: event ids that can collide', () => {
  it('warns, at file:line:column, on an id template whose fields fall back to a fixed value', async () => {
    const text = withTwilioId('{ template: "{MessageSid}:{MessageStatus}", default: "unknown" }');
    const { code, stdout } = await validate([projectWith(text)]);
    expect(code).toBe(0);
    const found = warnings(stdout).filter((l) => l.includes('integrations.twilio.event.id'));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`integrations\\.yaml:${lineOf(text, 'default: "unknown"')}:\\d+: warning`));
    expect(found[0]).toMatch(
      /every event without template "\{MessageSid\}:\{MessageStatus\}" gets the id "unknown": all but the first are answered duplicate and never stored/,
    );
  });

  it('warns on a constant id, one alternative of `first` included', async () => {
    const { stdout } = await validate([projectWith(withTwilioId('{ first: [MessageSid, { template: "sms" }] }'))]);
    expect(warnings(stdout)).toContainEqual(
      expect.stringMatching(/integrations\.twilio\.event\.id\.first\[1\]: every event gets the id "sms"/),
    );
  });

  it('warns on an arrival-time id without a window, and names the fix', async () => {
    const { stdout } = await validate([projectWith(withTwilioId('{ now: true }'))]);
    expect(warnings(stdout)).toContainEqual(
      expect.stringMatching(
        /integrations\.twilio\.event\.id: the id is the arrival time: two deliveries in the same millisecond share it .*body_sha256: true, window/,
      ),
    );
  });

  it('is quiet for the default manifest, and for a body hash with a window', async () => {
    expect(
      warnings((await validate([])).stdout).filter((l) => l.includes('event.id') && !l.includes('github')),
    ).toEqual([]);
    const { stdout } = await validate([projectWith(withTwilioId('{ body_sha256: true, window: 5m }'))]);
    expect(warnings(stdout).filter((l) => l.includes('twilio'))).toEqual([]);
    expect(stdout).toMatch(
      /twilio \(twilio\): the same body is a duplicate for 5m after it first arrived \(event\.id window\), then accepted as new/,
    );
  });

  it('no catalog preset has an id two deliveries can share', () => {
    const integrations = Object.fromEntries(
      [...loadCatalog().entries].map(([name, entry]) => [name, { event: entry.event }]),
    );
    expect(Object.keys(integrations)).toContain('dropbox');
    expect(eventIdWarnings({ integrations })).toEqual([]);
  });
});
