import { describe, expect, it } from 'vitest';
import { LazyMap } from './lazy-map.ts';

describe('LazyMap', () => {
  it('compiles a value on its first get, once, and knows its keys before', () => {
    let built = 0;
    const map = new LazyMap<string, number>([['a', () => ++built]]);
    expect([map.has('a'), map.size, built]).toEqual([true, 1, 0]);
    expect([map.get('a'), map.get('a'), built]).toEqual([1, 1, 1]);
  });

  it('lists its rest only when a key the first entries lack is asked for, or when read whole, in declared order', () => {
    let listed = 0;
    const rest = (): [string, () => string][] => (
      listed++,
      [
        ['route', () => 'r'],
        ['command', () => 'c'],
      ]
    );
    const map = new LazyMap<string, string>([['stripe', () => 's']], rest);
    expect(map.get('stripe')).toBe('s');
    expect(listed).toBe(0);
    expect(map.get('command')).toBe('c');
    expect(listed).toBe(1);
    expect([...map.keys()]).toEqual(['stripe', 'route', 'command']);
    expect(listed).toBe(1);
    const whole = new LazyMap<string, string>([['stripe', () => 's']], rest);
    expect([whole.size, [...whole.entries()]]).toEqual([
      3,
      [
        ['stripe', 's'],
        ['route', 'r'],
        ['command', 'c'],
      ],
    ]);
    expect(new LazyMap<string, string>([], rest).has('nothing')).toBe(false);
  });

  it('keeps a value set before its rest was listed, and the rest does not replace it', () => {
    const map = new LazyMap<string, string>([], () => [['route', () => 'thunk']]);
    map.set('route', 'set');
    expect(map.get('route')).toBe('set');
    expect(map.size).toBe(1);
  });
});
