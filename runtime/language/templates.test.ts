/** Email and SMS templates: `{{ name }}` placeholders, escaped in HTML, and known variables at compile time. */
import { describe, expect, it } from 'vitest';
import { compileTemplate, compileText, escapeHtml } from './templates.ts';

describe('compileTemplate', () => {
  it('renders subject, html and text from the data, with or without spaces in the braces', () => {
    const welcome = compileTemplate('welcome', {
      subject: 'Hi {{name}}',
      html: '<p>Hello {{ name }}</p>',
      text: 'Hello {{ name }}, plan {{ plan.tier }}',
    });
    expect(welcome.render({ name: 'Ada', plan: { tier: 'pro' } })).toEqual({
      subject: 'Hi Ada',
      html: '<p>Hello Ada</p>',
      text: 'Hello Ada, plan pro',
    });
  });

  it('lists the top-level variables it uses, so validate can name one the action does not provide', () => {
    expect([
      ...compileTemplate('t', { subject: '{{ a }}', html: '{{ b.c }}{{ a }}', text: '{{ d }}' }).variables,
    ]).toEqual(['a', 'b', 'd']);
  });

  it('escapes every value in HTML (an attribute-breaking name renders as text), but not in the subject or text', () => {
    const t = compileTemplate('t', {
      subject: '{{ name }}',
      html: '<a title="{{ name }}">{{ name }}</a>',
      text: '{{ name }}',
    });
    const name = '"><img src=x onerror=alert(1)>';
    const out = t.render({ name });
    expect(out.html).toBe(
      '<a title="&quot;&gt;&lt;img src&#61;x onerror&#61;alert(1)&gt;">&quot;&gt;&lt;img src&#61;x onerror&#61;alert(1)&gt;</a>',
    );
    expect(out.subject).toBe(name);
    expect(out.text).toBe(name);
  });

  it('renders a missing or null value as empty, and an object or number as JSON', () => {
    const t = compileTemplate('t', { text: '[{{ a }}][{{ b }}][{{ c.d }}][{{ n }}][{{ o }}]' });
    expect(t.render({ b: null, n: 3, o: { x: 1 } }).text).toBe('[][][][3][{"x":1}]');
  });

  it('needs html or text, and its files inlined by the build', () => {
    expect(() => compileTemplate('welcome', { subject: 'Hi' })).toThrow('template welcome needs html or text');
    expect(() => compileTemplate('welcome', { html_file: 'templates/welcome.html' })).toThrow(
      'template welcome: templates/welcome.html was not inlined; run switchyard build',
    );
  });

  it('refuses malformed placeholders instead of sending them as written', () => {
    for (const text of ['Hi {{ name }', 'Hi {{ first name }}', 'Hi }} there', 'Hi {{ user.0 }}']) {
      expect(() => compileTemplate('t', { text })).toThrow('malformed placeholder: use {{ name }} or {{ name.field }}');
    }
  });
});

describe('compileText and escapeHtml', () => {
  it('leaves single braces and other text alone', () => {
    expect(compileText('{ "a": {{ v }} }', false).render({ v: 1 })).toBe('{ "a": 1 }');
  });

  it('escapes the seven characters that can break out of element content or a quoted attribute', () => {
    expect(escapeHtml(`&<>"'\`=`)).toBe('&amp;&lt;&gt;&quot;&#39;&#96;&#61;');
  });
});
