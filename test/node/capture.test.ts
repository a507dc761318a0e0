/** `switchyard capture` then `switchyard test`: an event sent to a real `wrangler dev` becomes a passing, scrubbed test. */
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliAsync, defaultManifestText, projectWith, ROOT } from '../support/project.ts';
import { TEST_SECRETS } from '../support/secrets.ts';
import { startDevWorker, type DevWorker } from '../support/wrangler-dev.ts';

let worker: DevWorker;
beforeAll(async () => {
  worker = await startDevWorker();
}, 120_000);
afterAll(() => worker?.stop());

describe('switchyard capture', () => {
  it('captures a delivered Clerk event into a fixture with personal data scrubbed, and the test it writes passes', async () => {
    const dir = dirname(projectWith(defaultManifestText()));
    for (const d of ['tests', 'samples']) cpSync(join(ROOT, d), join(dir, d), { recursive: true });
    const env = { ADMIN_TOKEN: TEST_SECRETS.ADMIN_TOKEN, SWITCHYARD_URL: worker.url };
    const sent = await cliAsync(['send', 'clerk', 'user.created'], { cwd: dir, env: { ...env, ...TEST_SECRETS } });
    expect(sent.stdout).toContain('-> 200');
    expect(sent.code).toBe(0);

    const captured = await cliAsync(['capture', '--integration', 'clerk'], { cwd: dir, env });
    expect(captured.stderr).toBe('');
    expect(captured.stdout).toContain('captured 1 event');
    const fixtures = readdirSync(join(dir, 'tests/fixtures/clerk'));
    expect(fixtures).toHaveLength(1);
    const fixture = readFileSync(join(dir, 'tests/fixtures/clerk', fixtures[0]!), 'utf8');
    expect(fixture).not.toContain('ada@example.com');
    expect(fixture).not.toContain('Lovelace');
    expect(JSON.parse(fixture).data.email_addresses[0].email_address).toBe('person1@example.com');
    const cases = readFileSync(join(dir, 'tests/captured.test.yaml'), 'utf8');
    expect(cases).toContain(`file: fixtures/clerk/${fixtures[0]}`);
    expect(cases).toContain('event: applied');

    const tested = await cliAsync(['test', 'tests/captured.test.yaml'], { cwd: dir });
    expect(tested.stdout).toContain('1 passed, 0 failed');
    expect(tested.code).toBe(0);
    // Capturing again adds nothing: the fixture is already there.
    expect((await cliAsync(['capture', '--integration', 'clerk'], { cwd: dir, env })).stdout).toContain(
      'captured 0 events',
    );
  }, 120_000);
});
