/** The fake provider APIs live in cli/lib so `switchyard test` records effects with the same fake the tests use. */
export * from '../../cli/lib/fake-providers.ts';
